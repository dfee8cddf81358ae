// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of WAL records, pages and
// snapshot chunks. Pure TypeScript, table-driven "slice-by-8": eight 256-entry tables let the
// inner loop fold eight input bytes per iteration with eight independent table look-ups, which
// is several times faster than the byte-at-a-time loop on 32 MiB pages. `crc32c` hands inputs
// of NATIVE_CRC32C_MIN_BYTES or more to the native addon (SSE4.2, several GB/s) when it is
// loaded; `crc32cTs` is the TypeScript reference, and test/native checks that both agree.
import { nativeCodec } from '../native/index.js';

/** The reflected Castagnoli polynomial. */
const POLYNOMIAL_REFLECTED = 0x82f63b78;
const TABLE_COUNT = 8;
const TABLE_SIZE = 256;

/**
 * TABLES[k * 256 + b] is the CRC contribution of byte b followed by k zero bytes. Table 0 is the
 * classic byte-at-a-time table; table k is table k-1 advanced by one more zero byte.
 */
const TABLES = buildTables();

function buildTables(): Uint32Array {
  const tables = new Uint32Array(TABLE_COUNT * TABLE_SIZE);
  for (let b = 0; b < TABLE_SIZE; b++) {
    let crc = b;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL_REFLECTED : crc >>> 1;
    tables[b] = crc;
  }
  for (let k = 1; k < TABLE_COUNT; k++) {
    for (let b = 0; b < TABLE_SIZE; b++) {
      const previous = tables[(k - 1) * TABLE_SIZE + b];
      tables[k * TABLE_SIZE + b] = (previous >>> 8) ^ tables[previous & 0xff];
    }
  }
  return tables;
}

/**
 * Below this many bytes the TypeScript loop wins: a call into the addon costs about as much as
 * checksumming this many bytes in JavaScript (measured with `npm run bench -- native`).
 */
export const NATIVE_CRC32C_MIN_BYTES = 128;

/**
 * CRC-32C of `data`. `seed` is the CRC of the bytes before `data` (0, the default, for none), so a
 * checksum can be computed piecewise: `crc32c(b, crc32c(a)) === crc32c(a ‖ b)`.
 * Returns an unsigned 32-bit integer.
 */
export function crc32c(data: Uint8Array, seed = 0): number {
  const kernels = data.length >= NATIVE_CRC32C_MIN_BYTES ? nativeCodec() : null;
  if (kernels !== null) return kernels.crc32c(data, seed >>> 0);
  return crc32cTs(data, seed);
}

/**
 * Copies `src` into `dst` from `dstOffset` and returns the CRC-32C, from `seed`, of the bytes
 * written (so `copyCrc32c(b, dst, off, copyCrc32c(a, dst, 0)) === crc32c(a ‖ b)` when off is
 * a's length). With the addon, one pass over the bytes (the copy's loads feed the checksum; on an
 * AVX-512 CPU it runs at memcpy speed) instead of a copy and then a checksum that reads the copy
 * back; without it, exactly that copy and checksum. RangeError when src does not fit at
 * dstOffset; src and dst must not overlap.
 */
export function copyCrc32c(src: Uint8Array, dst: Uint8Array, dstOffset: number, seed = 0): number {
  if (!Number.isSafeInteger(dstOffset) || dstOffset < 0 || dstOffset + src.byteLength > dst.byteLength) {
    throw new RangeError(`copyCrc32c: ${src.byteLength} bytes at ${dstOffset} do not fit the ${dst.byteLength}-byte destination`);
  }
  const kernels = src.byteLength >= NATIVE_CRC32C_MIN_BYTES ? nativeCodec() : null;
  if (kernels !== null) return kernels.copyCrc32c(src, dst, dstOffset, seed >>> 0);
  dst.set(src, dstOffset);
  return crc32c(dst.subarray(dstOffset, dstOffset + src.byteLength), seed);
}

/** The pure TypeScript CRC-32C (the reference), same contract as crc32c. */
export function crc32cTs(data: Uint8Array, seed = 0): number {
  const t = TABLES;
  let crc = ~seed;
  const length = data.length;
  let i = 0;
  // Eight bytes per iteration: the first four are folded into the running CRC, the next four
  // are independent, and each byte looks up the table for its distance from the end of the block.
  const blockEnd = length - (length % TABLE_COUNT);
  while (i < blockEnd) {
    const lo = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    crc =
      t[7 * TABLE_SIZE + (lo & 0xff)] ^
      t[6 * TABLE_SIZE + ((lo >>> 8) & 0xff)] ^
      t[5 * TABLE_SIZE + ((lo >>> 16) & 0xff)] ^
      t[4 * TABLE_SIZE + (lo >>> 24)] ^
      t[3 * TABLE_SIZE + data[i + 4]] ^
      t[2 * TABLE_SIZE + data[i + 5]] ^
      t[1 * TABLE_SIZE + data[i + 6]] ^
      t[data[i + 7]];
    i += TABLE_COUNT;
  }
  while (i < length) {
    crc = (crc >>> 8) ^ t[(crc ^ data[i]) & 0xff];
    i++;
  }
  return ~crc >>> 0;
}
