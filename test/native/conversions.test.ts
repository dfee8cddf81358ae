// Proves that the addon's dtype conversions give the same bits as the TypeScript reference
// (src/bytes/fp16.ts), with both its SIMD (F16C/AVX2) and its scalar kernels: on all 65,536 fp16
// patterns (fp16 → fp32 and back), all 65,536 bf16 patterns, hand-picked fp32 edge values and
// their neighbours (zeros, subnormals that become fp16 subnormals and ones that flush, the normal
// range's ends, overflow, infinities, NaNs with every single payload bit, signalling and quiet),
// 1,000,000 seeded random patterns, and every length 0..80 at unaligned element offsets (the SIMD
// tails). The raw addon functions are called directly so that even tiny inputs reach the kernels;
// a last test checks the dispatching functions of src/codec, overlapping views included.
// Everything skips, saying why, when the addon is not loaded.

import t, { type Test } from 'tap';
import {
  bf16ToFp16,
  bf16ToFp16Ts,
  fp16ToFp32,
  fp16ToFp32Ts,
  fp32ToFp16,
  fp32ToFp16Ts,
  NATIVE_CONVERT_MIN_ELEMENTS,
} from '../../src/bytes/fp16.js';
import { prng } from '../codec/prng.js';
import { addonCodec, KERNELS, skipWithoutAddon, withKernel } from './helpers.js';

const F16_COUNT = 65_536;
const RANDOM_PATTERNS = 1_000_000;
const TAIL_LENGTH_MAX = 80;
const OFFSET_ELEMENTS_MAX = 7;

const ALL_16_BIT = Uint16Array.from({ length: F16_COUNT }, (_, i) => i);

/** The index of the first difference of two equally long arrays, or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function hex(value: number): string {
  return `0x${(value >>> 0).toString(16)}`;
}

/** addon fp32 → fp16 of `bits` (fp32 bit patterns) against the TypeScript reference; '' when equal. */
function compareFp32ToFp16(bits: Uint32Array): string {
  const src = new Float32Array(bits.buffer, bits.byteOffset, bits.length);
  const expected = fp32ToFp16Ts(src);
  const actual = new Uint16Array(bits.length);
  addonCodec().fp32ToFp16(src, actual);
  const at = firstDifference(actual, expected);
  return at < 0 ? '' : `${hex(bits[at])} → ${hex(actual[at])}, reference ${hex(expected[at])}`;
}

/** fp32 bit patterns at every regime boundary of fp32 → fp16, with both signs and ±1 ulp. */
function edgePatterns(): Uint32Array {
  const magnitudes = [
    0x00000000, 0x00000001, 0x007fffff, 0x00800000, // zero, fp32 subnormals, smallest fp32 normal
    0x33000000, 0x33000001, 0x32ffffff, 0x33800000, // 2^-25 (flush/round tie), 2^-24 (smallest fp16 subnormal)
    0x33c00000, 0x34200000, 0x387fc000, 0x387fe000, // subnormal ties, largest subnormal, tie to smallest normal
    0x38800000, 0x3f800000, 0x3f801000, 0x3f803000, // smallest normal, 1, normal ties both ways
    0x477fe000, 0x477fefff, 0x477ff000, 0x47800000, // 65504, just below the overflow tie, the tie, 65536
    0x7f7fffff, 0x7f800000, // largest finite fp32, Inf
  ];
  const patterns: number[] = [];
  for (const magnitude of magnitudes) {
    for (const delta of [-1, 0, 1]) {
      const value = magnitude + delta;
      if (value < 0 || value > 0x7f800000) continue;
      patterns.push(value, (value | 0x80000000) >>> 0);
    }
  }
  // NaNs: each payload bit alone (bit 22 is the quiet bit), all bits, payloads whose top ten bits
  // are zero (signalling NaNs that would turn into Inf if the quiet bit were not set), both signs.
  for (let bit = 0; bit < 23; bit++) patterns.push(0x7f800000 | (1 << bit), (0xff800000 | (1 << bit)) >>> 0);
  patterns.push(0x7fffffff, 0xffffffff, 0x7fc00000, 0xffc00000, 0x7f800fff, 0x7f801fff, 0x7fa00001);
  return Uint32Array.from(patterns);
}

for (const kernel of KERNELS) {
  t.test(`${kernel.name} kernels`, { skip: skipWithoutAddon }, async (parent) => {
    // Each leaf switches the kernels itself: subtests run after this function has returned.
    const test = (name: string, body: (t: Test) => void) =>
      parent.test(name, async (t) => withKernel(kernel.simd, () => body(t)));
    {
      test('fp16 → fp32 on all 65,536 patterns, and back', (t) => {
        const actual = new Float32Array(F16_COUNT);
        addonCodec().fp16ToFp32(ALL_16_BIT, actual);
        const expected = fp16ToFp32Ts(ALL_16_BIT);
        const at = firstDifference(new Uint32Array(actual.buffer), new Uint32Array(expected.buffer));
        t.equal(at, -1, `every fp32 result is bit-identical (signalling NaNs kept as they are)${at < 0 ? '' : ` - first at ${hex(at)}`}`);
        t.equal(compareFp32ToFp16(new Uint32Array(expected.buffer)), '', 'fp32 → fp16 of all of them is bit-identical too');
      });

      test('bf16 → fp16 on all 65,536 patterns', (t) => {
        const actual = new Uint16Array(F16_COUNT);
        addonCodec().bf16ToFp16(ALL_16_BIT, actual);
        const at = firstDifference(actual, bf16ToFp16Ts(ALL_16_BIT));
        t.equal(at, -1, `every result is bit-identical${at < 0 ? '' : ` - first at bf16 ${hex(at)}`}`);
      });

      test('fp32 → fp16 on edge values, NaN payloads and ties', (t) => {
        const patterns = edgePatterns();
        t.equal(compareFp32ToFp16(patterns), '', `${patterns.length} edge patterns are bit-identical`);
      });

      test('fp32 → fp16 on 1,000,000 seeded random patterns', (t) => {
        const next = prng(5);
        const patterns = Uint32Array.from({ length: RANDOM_PATTERNS }, () => next());
        t.equal(compareFp32ToFp16(patterns), '', 'every random pattern is bit-identical');
      });

      test('every length up to 80 at unaligned offsets (vector tails)', (t) => {
        const next = prng(6);
        const failures: string[] = [];
        for (let length = 0; length <= TAIL_LENGTH_MAX; length++) {
          const offset = length % (OFFSET_ELEMENTS_MAX + 1);
          const backing = Uint32Array.from({ length: length + offset }, () => next());
          const difference = compareFp32ToFp16(backing.subarray(offset));
          if (difference !== '') failures.push(`fp32 length ${length} offset ${offset}: ${difference}`);
          const halves = Uint16Array.from({ length: length + offset }, () => next() & 0xffff).subarray(offset);
          const wide = new Float32Array(length + 3).subarray(3);
          addonCodec().fp16ToFp32(halves, wide);
          if (firstDifference(new Uint32Array(wide.buffer, wide.byteOffset, length), new Uint32Array(fp16ToFp32Ts(halves).buffer)) >= 0) {
            failures.push(`fp16 length ${length} offset ${offset}`);
          }
          const narrow = new Uint16Array(length + 1).subarray(1);
          addonCodec().bf16ToFp16(halves, narrow);
          if (firstDifference(narrow, bf16ToFp16Ts(halves)) >= 0) failures.push(`bf16 length ${length} offset ${offset}`);
        }
        t.same(failures, [], 'all three conversions agree on every length and offset');
      });
    }
  });
}

t.test('the raw addon checks its arguments', { skip: skipWithoutAddon }, async (t) => {
  const codec = addonCodec();
  t.throws(() => codec.fp32ToFp16(new Float32Array(4), new Uint16Array(3)), RangeError, 'a short destination');
  t.throws(() => codec.fp32ToFp16(new Uint32Array(4) as never, new Uint16Array(4)), TypeError, 'a source of the wrong type');
  t.throws(() => codec.fp16ToFp32(new Uint16Array(4), new Uint16Array(4) as never), TypeError, 'a destination of the wrong type');
  t.throws(() => codec.bf16ToFp16([1, 2] as never, new Uint16Array(2)), TypeError, 'a plain array');
});

t.test('the codec functions dispatch and agree, overlapping views included', async (t) => {
  const next = prng(7);
  const length = 4 * NATIVE_CONVERT_MIN_ELEMENTS + 3;
  const bits = Uint32Array.from({ length }, () => next());
  const fp32 = new Float32Array(bits.buffer);
  t.same(fp32ToFp16(fp32), fp32ToFp16Ts(fp32), 'fp32ToFp16 above the threshold');
  t.same(fp32ToFp16(fp32.subarray(0, 5)), fp32ToFp16Ts(fp32.subarray(0, 5)), 'fp32ToFp16 below it');
  const halves = Uint16Array.from({ length }, () => next() & 0xffff);
  t.same(new Uint32Array(fp16ToFp32(halves).buffer), new Uint32Array(fp16ToFp32Ts(halves).buffer), 'fp16ToFp32');
  t.same(bf16ToFp16(halves), bf16ToFp16Ts(halves), 'bf16ToFp16');
  // In place (the same bytes in and out) and shifted by one element: the TypeScript loop runs.
  const expected = bf16ToFp16Ts(halves);
  const inPlace = halves.slice();
  t.same(bf16ToFp16(inPlace, inPlace), expected, 'bf16ToFp16 in place');
  const shifted = new Uint16Array(length + 1);
  shifted.set(halves, 1);
  t.same(bf16ToFp16(shifted.subarray(1), shifted.subarray(0, length)), expected, 'bf16ToFp16 into a view one element back');
});
