// Proves that crc32c (src/bytes/crc32c.ts) computes CRC-32C (Castagnoli): it matches the published
// iSCSI vectors of RFC 3720 §B.4 and the standard "123456789" check value, agrees with an
// independent bit-at-a-time reference on random inputs of every length around the 8-byte block
// boundary and at unaligned offsets, and continues a previous CRC through `seed` so that
// crc32c(a ‖ b) === crc32c(b, crc32c(a)) for every split point. Every test runs twice: on crc32c
// (which hands inputs of 128 bytes or more to the native addon when it is loaded) and on crc32cTs,
// the pure TypeScript reference.

import t from 'tap';
import { crc32c as crc32cDispatch } from '../../src/bytes/index.js';
import { crc32cTs } from '../../src/bytes/crc32c.js';
import { prng } from '../codec/prng.js';

const POLYNOMIAL_REFLECTED = 0x82f63b78;

/** Straight from the definition: one bit at a time, no tables. */
function referenceCrc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL_REFLECTED : crc >>> 1;
  }
  return ~crc >>> 0;
}

function randomBytes(next: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() & 0xff;
  return out;
}

for (const [name, crc32c] of [
  ['crc32c', crc32cDispatch],
  ['crc32cTs', crc32cTs],
] as const) {
  t.test(`${name}: published vectors (RFC 3720 B.4 and the check value)`, async (t) => {
    t.equal(crc32c(new Uint8Array(32)), 0x8a9136aa, '32 bytes of zeros');
    t.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43, '32 bytes of 0xff');
    t.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e, 'ascending 0..31');
    t.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c, 'descending 31..0');
    t.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283, 'ascii "123456789"');
    t.equal(crc32c(new Uint8Array(0)), 0, 'empty input');
    t.equal(crc32c(new Uint8Array(0), 0x12345678), 0x12345678, 'empty input keeps the seed');
  });

  t.test(`${name}: matches a bit-at-a-time reference on random inputs and unaligned views`, async (t) => {
    const next = prng(1);
    let mismatches = 0;
    for (let length = 0; length <= 300; length++) {
      const backing = randomBytes(next, length + 7);
      const offset = length % 8;
      const view = backing.subarray(offset, offset + length);
      if (crc32c(view) !== referenceCrc32c(view)) mismatches++;
    }
    t.equal(mismatches, 0, 'every length 0..300 at offsets 0..7 agrees');
    const big = randomBytes(next, 100_003);
    t.equal(crc32c(big), referenceCrc32c(big), 'a 100 KB odd-length input agrees');
    t.ok(crc32c(big) >= 0 && crc32c(big) <= 0xffffffff, 'the result is unsigned');
  });

  t.test(`${name}: seed continues a previous crc at every split point`, async (t) => {
    const next = prng(2);
    const data = randomBytes(next, 67);
    const whole = crc32c(data);
    let mismatches = 0;
    for (let split = 0; split <= data.length; split++) {
      if (crc32c(data.subarray(split), crc32c(data.subarray(0, split))) !== whole) mismatches++;
    }
    t.equal(mismatches, 0, 'crc32c(a ‖ b) === crc32c(b, crc32c(a)) for all 68 splits');
    const pieces = [data.subarray(0, 5), data.subarray(5, 40), data.subarray(40)];
    t.equal(pieces.reduce((crc, piece) => crc32c(piece, crc), 0), whole, 'three pieces chained');
  });
}
