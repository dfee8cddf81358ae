// crc32c of a concatenation from its parts' crcs (zlib's crc32_combine for the Castagnoli
// polynomial): a snapshot stream's whole checksum from its chunks' (src/store/snapshot-stream.ts),
// and a WAL record's from checksums already known for its payloads (known-crc32c.ts), without
// reading the bytes again.

/** The reflected Castagnoli polynomial (as in src/bytes/crc32c.ts). */
const CRC32C_POLYNOMIAL_REFLECTED = 0x82f63b78;
/** x^0 = 1 in the reflected representation: the top bit. */
const X_POWER_0 = 0x8000_0000;
/** x^1 in the reflected representation. */
const X_POWER_1 = 0x4000_0000;
const BITS_PER_BYTE_LOG2 = 3;

/** a(x) * b(x) modulo the polynomial, both reflected (zlib's multmodp). */
function multiplyModP(a: number, b: number): number {
  let m = X_POWER_0;
  let product = 0;
  for (;;) {
    if ((a & m) !== 0) {
      product ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ CRC32C_POLYNOMIAL_REFLECTED : b >>> 1;
  }
  return product >>> 0;
}

/** X_POWERS[k] = x^(2^k) modulo the polynomial. */
const X_POWERS = ((): Uint32Array => {
  const table = new Uint32Array(32);
  let p = X_POWER_1;
  table[0] = p;
  for (let k = 1; k < 32; k++) table[k] = p = multiplyModP(p, p);
  return table;
})();

/** x^(n * 2^k) modulo the polynomial (zlib's x2nmodp). */
function xPowerModP(n: number, k: number): number {
  let p = X_POWER_0;
  while (n > 0) {
    if (n % 2 === 1) p = multiplyModP(X_POWERS[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/**
 * The crc32c of `a ‖ b` from crc32c(a), crc32c(b) and b's length in bytes (zlib's
 * crc32_combine), in about 40 small steps whatever the length, so a stream's crc follows from
 * its chunks' crcs without reading the bytes again.
 */
export function crc32cCombine(crcA: number, crcB: number, bytesB: number): number {
  if (bytesB === 0) return crcA >>> 0;
  return (multiplyModP(xPowerModP(bytesB, BITS_PER_BYTE_LOG2), crcA >>> 0) ^ crcB) >>> 0;
}
