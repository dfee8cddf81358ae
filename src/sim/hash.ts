// FNV-1a (32-bit) over bytes and integers. The simulator's state machines keep a running hash of
// everything they applied, so two nodes that applied the same entries in the same order hold the
// same hash, and a snapshot image can be checked against what every other node computed.

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const BYTE_MASK = 0xff;
const BITS_PER_BYTE = 8;
const BYTES_PER_U32 = 4;

export function fnv1aBytes(bytes: Uint8Array, seed: number = FNV_OFFSET_BASIS): number {
  let h = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Mixes an unsigned 32-bit integer (low byte first) into hash `h`. */
export function fnv1aU32(value: number, seed: number = FNV_OFFSET_BASIS): number {
  let h = seed >>> 0;
  for (let i = 0; i < BYTES_PER_U32; i++) {
    h ^= (value >>> (i * BITS_PER_BYTE)) & BYTE_MASK;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

export { FNV_OFFSET_BASIS };
