// What `kvc trace replay` stores for a trace's block: a key and a payload, both pure functions of
// (namespace, block id), so that any replay, in any process, names and fills a block the same way
// and every page read back can be checked byte for byte without remembering what was put.
//
//   key     = SHA16( "kvc-trace-v1" ‖ 0x00 ‖ utf8(namespace) ‖ 0x00 ‖ u64be(id) )
//   payload = xorshift32 words (little-endian) from a seed mixed out of the id; a tail shorter
//             than a word takes the low bytes of the next word.
//
// SHA16 is the first 16 bytes of SHA-256. Trace ids are already prefix-chained (an id names the
// whole prefix up to its block), so the key needs no chaining of its own; the namespace is in it
// so that two namespaces never share a page.
import { createHash } from 'node:crypto';

const KEY_DOMAIN = 'kvc-trace-v1';
/** Bytes of a block key: 128 bits, as the client's hashBlocks keys. */
export const TRACE_KEY_BYTES = 16;
const WORD_BYTES = 4;
const TWO_TO_32 = 2 ** 32;
/** Odd constants of the murmur3 finalizer and the golden ratio, for mixing a seed. */
const GOLDEN_RATIO_32 = 0x9e3779b9;
const MIX_1 = 0x85ebca6b;
const MIX_2 = 0xc2b2ae35;

/** The key of block `id` (a non-negative safe integer) in namespace `ns`. */
export function blockKey(ns: string, id: number): Uint8Array {
  const idBytes = Buffer.alloc(8);
  idBytes.writeBigUInt64BE(BigInt(id));
  const digest = createHash('sha256').update(KEY_DOMAIN).update('\0').update(ns, 'utf8').update('\0').update(idBytes).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, TRACE_KEY_BYTES).slice();
}

/** Fills `target` with block `id`'s payload. */
export function fillBlockPayload(id: number, target: Uint8Array): Uint8Array {
  let state = seed(id);
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  const words = Math.floor(target.byteLength / WORD_BYTES);
  for (let i = 0; i < words; i++) {
    state = xorshift32(state);
    view.setUint32(i * WORD_BYTES, state, true);
  }
  state = xorshift32(state);
  for (let offset = words * WORD_BYTES; offset < target.byteLength; offset++) {
    target[offset] = state & 0xff;
    state >>>= 8;
  }
  return target;
}

/** Block `id`'s payload of `bytes` bytes, freshly allocated. */
export function blockPayload(id: number, bytes: number): Uint8Array {
  return fillBlockPayload(id, new Uint8Array(bytes));
}

/** A non-zero 32-bit seed from both halves of the id (xorshift32 would stay at 0 forever). */
function seed(id: number): number {
  const low = id >>> 0;
  const high = Math.floor(id / TWO_TO_32) >>> 0;
  return mix32(low ^ mix32(high + GOLDEN_RATIO_32)) || GOLDEN_RATIO_32;
}

function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), MIX_1);
  h = Math.imul(h ^ (h >>> 13), MIX_2);
  return (h ^ (h >>> 16)) >>> 0;
}

function xorshift32(state: number): number {
  let x = state;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}
