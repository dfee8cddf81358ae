// Proves that the addon's crc32c, with its AVX-512 kernel (carry-less multiplication folding, on a
// CPU that has it), its SSE4.2 kernel (three interleaved chains combined with shift tables) and its
// scalar slice-by-8 kernel, computes CRC-32C: it matches the published
// vectors (RFC 3720 B.4, "123456789"), equals the TypeScript reference (src/bytes/crc32c.ts) on
// seeded random inputs of every length 0..1100 at every offset 0..7 and on lengths around the
// kernels' block boundaries (3 × 256 and 3 × 8192 bytes, the folding kernel's 512 and 256-byte
// steps), and continues a previous CRC through
// its seed at many split points. The raw addon function is called directly so that short inputs
// reach the kernels; a last test checks the dispatching crc32c of src/codec. Skips, saying why,
// when the addon is not loaded.

import t from 'tap';
import { crc32c, crc32cTs, NATIVE_CRC32C_MIN_BYTES } from '../../src/bytes/crc32c.js';
import { setNativeSimdEnabled } from '../../src/native/index.js';
import { prng } from '../codec/prng.js';
import { addonCodec, CRC_KERNELS, skipWithoutAddon, withKernel } from './helpers.js';

const SHORT_LENGTH_MAX = 1100;
const BOUNDARY_LENGTHS = [767, 768, 769, 1279, 1280, 1281, 24_575, 24_576, 24_577, 49_153, 100_003, (1 << 20) + 13];
const SPLITS = 200;

function randomBytes(next: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() & 0xff;
  return out;
}

function addonCrc(data: Uint8Array, seed = 0): number {
  return addonCodec().crc32c(data, seed);
}

for (const kernel of CRC_KERNELS) {
  t.test(`${kernel.name} kernel`, { skip: skipWithoutAddon }, async (t) => {
    t.test('the kernel switch applies', async (t) => {
      withKernel(kernel.simd, () => t.equal(setNativeSimdEnabled(kernel.simd), kernel.simd, `SIMD is ${kernel.simd ? 'on' : 'off'} inside`), kernel.wide);
    });

    t.test('published vectors', async (t) => {
      withKernel(kernel.simd, () => {
        t.equal(addonCrc(new Uint8Array(4096)), crc32cTs(new Uint8Array(4096)), '4 KiB of zeros (long enough to fold)');
        t.equal(addonCrc(new Uint8Array(32)), 0x8a9136aa, '32 bytes of zeros');
        t.equal(addonCrc(new Uint8Array(32).fill(0xff)), 0x62a8ab43, '32 bytes of 0xff');
        t.equal(addonCrc(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e, 'ascending 0..31');
        t.equal(addonCrc(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c, 'descending 31..0');
        t.equal(addonCrc(new TextEncoder().encode('123456789')), 0xe3069283, 'ascii "123456789"');
        t.equal(addonCrc(new Uint8Array(0), 0x12345678), 0x12345678, 'empty input keeps the seed');
      }, kernel.wide);
    });

    t.test('equals the TypeScript reference on random inputs', async (t) => {
      withKernel(kernel.simd, () => {
        const next = prng(11);
        const backing = randomBytes(next, SHORT_LENGTH_MAX + 8);
        const failures: string[] = [];
        for (let length = 0; length <= SHORT_LENGTH_MAX; length++) {
          for (let offset = 0; offset < 8; offset++) {
            const view = backing.subarray(offset, offset + length);
            const seed = next();
            if (addonCrc(view, seed) !== crc32cTs(view, seed)) failures.push(`length ${length} offset ${offset}`);
          }
        }
        for (const length of BOUNDARY_LENGTHS) {
          const data = randomBytes(next, length + 3).subarray(3);
          if (addonCrc(data) !== crc32cTs(data)) failures.push(`length ${length}`);
        }
        t.same(failures, [], `${(SHORT_LENGTH_MAX + 1) * 8} short inputs with random seeds and ${BOUNDARY_LENGTHS.length} long ones agree`);
      }, kernel.wide);
    });

    t.test('the seed continues a previous crc', async (t) => {
      withKernel(kernel.simd, () => {
        const next = prng(12);
        const data = randomBytes(next, 60_000);
        const whole = crc32cTs(data);
        let mismatches = 0;
        for (let i = 0; i < SPLITS; i++) {
          const split = next() % (data.length + 1);
          if (addonCrc(data.subarray(split), addonCrc(data.subarray(0, split))) !== whole) mismatches++;
        }
        t.equal(mismatches, 0, `crc(a ‖ b) === crc(b, crc(a)) at ${SPLITS} random splits`);
      }, kernel.wide);
    });
  });
}

t.test('the raw addon checks its arguments', { skip: skipWithoutAddon }, async (t) => {
  t.throws(() => addonCodec().crc32c(new Uint16Array(4) as never, 0), TypeError, 'not a Uint8Array');
  t.throws(() => addonCodec().crc32c(new Uint8Array(4), -1), RangeError, 'a negative seed');
  t.throws(() => addonCodec().crc32c(new Uint8Array(4), 2 ** 32), RangeError, 'a seed over 32 bits');
  t.throws(() => addonCodec().crc32c(new Uint8Array(4), 0.5), RangeError, 'a fractional seed');
});

t.test('crc32c of src/codec dispatches by size and agrees with the reference', async (t) => {
  const next = prng(13);
  for (const length of [0, 1, NATIVE_CRC32C_MIN_BYTES - 1, NATIVE_CRC32C_MIN_BYTES, 4096 + 5]) {
    const data = randomBytes(next, length);
    t.equal(crc32c(data, 7), crc32cTs(data, 7), `length ${length}`);
  }
  const data = randomBytes(next, 1000);
  t.equal(crc32c(data, 0xffffffff), crc32cTs(data, 0xffffffff), 'the largest seed');
  t.equal(crc32c(data, -1), crc32cTs(data, -1), 'a negative seed reads as its 32-bit pattern, as in TypeScript');
});
