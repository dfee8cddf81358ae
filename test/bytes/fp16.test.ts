// Proves that the pure-TypeScript dtype conversions (src/bytes/fp16.ts) follow IEEE 754 binary16
// with round-to-nearest-even exactly as documented there: fp16 → fp32 → fp16 is the identity on
// all 65,536 fp16 patterns (NaNs stay NaN with their sign, quieted); fp16 → fp32 agrees with the
// arithmetic definition on all 65,536 patterns; fp32 → fp16 gives the expected bits on hand-picked
// edge values (zeros, subnormal and normal ties both ways, overflow, Inf, NaN payloads) and agrees
// with an independent reference (exact double arithmetic, no bit tricks) on 1,000,000 random and
// 200,000 tie-heavy bit patterns; bf16 → fp16 equals bf16 → fp32 → fp16 on all 65,536 bf16
// patterns; and the `dst` argument and dtypeBytes behave as documented. These run on the public
// functions, which hand inputs of 64 elements or more to the native addon when it is loaded; a
// last test checks that the pure TypeScript references (the ...Ts functions) give the same bits
// and keep the same `dst` contract, so both paths are covered whether or not the addon is built.

import t from 'tap';
import { bf16ToFp16, dtypeBytes, fp16ToFp32, fp32ToFp16 } from '../../src/bytes/index.js';
import { bf16ToFp16Ts, fp16ToFp32Ts, fp32ToFp16Ts } from '../../src/bytes/fp16.js';
import { prng } from '../codec/prng.js';

const F16_COUNT = 65_536;
const RANDOM_PATTERNS = 1_000_000;
const TIE_PATTERNS = 200_000;

function roundHalfEven(q: number): number {
  const floor = Math.floor(q);
  const fraction = q - floor;
  return fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

/**
 * Reference fp32 → fp16 from the definition: the exact value as a double, rounded to the nearest
 * representable fp16 by arithmetic (every step below is exact in double precision).
 */
function referenceFp32ToFp16(bits: number): number {
  const sign = bits >>> 31 === 1 ? 0x8000 : 0;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return mantissa === 0 ? sign | 0x7c00 : sign | 0x7c00 | 0x200 | Math.floor(mantissa / 8192);
  const magnitude = exponent === 0 ? mantissa * 2 ** -149 : (mantissa + 2 ** 23) * 2 ** (exponent - 150);
  if (magnitude >= 65520) return sign | 0x7c00;
  if (magnitude < 2 ** -14) return sign | roundHalfEven(magnitude * 2 ** 24); // 0x400 if it rounds up to normal
  let e = Math.floor(Math.log2(magnitude));
  while (2 ** e > magnitude) e--;
  while (2 ** (e + 1) <= magnitude) e++;
  let fraction = roundHalfEven((magnitude / 2 ** e - 1) * 1024);
  if (fraction === 1024) {
    fraction = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | fraction;
}

/** Reference fp16 → fp32 value from the definition (NaN handled by the caller). */
function referenceFp16Value(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function isFp16NaN(half: number): boolean {
  return (half & 0x7c00) === 0x7c00 && (half & 0x3ff) !== 0;
}

function fp32FromBits(patterns: number[] | Uint32Array): Float32Array {
  return new Float32Array(Uint32Array.from(patterns).buffer);
}

const ALL_FP16 = Uint16Array.from({ length: F16_COUNT }, (_, i) => i);

t.test('fp16 → fp32 → fp16 is the identity on every non-NaN pattern; NaNs stay NaN', async (t) => {
  const asFp32 = fp16ToFp32(ALL_FP16);
  const back = fp32ToFp16(asFp32);
  let identityFailures = 0;
  let nanFailures = 0;
  for (let h = 0; h < F16_COUNT; h++) {
    if (isFp16NaN(h)) {
      // Sign and payload kept, quiet bit set: quiet NaNs come back bit for bit.
      if (back[h] !== (h | 0x200) || !isFp16NaN(back[h])) nanFailures++;
    } else if (back[h] !== h) {
      identityFailures++;
    }
  }
  t.equal(identityFailures, 0, '63,490 non-NaN patterns (±0, ±Inf included) come back unchanged');
  t.equal(nanFailures, 0, '2,046 NaN patterns come back as NaN with their sign and payload, quieted');
});

t.test('fp16 → fp32 matches the arithmetic definition on all 65,536 patterns', async (t) => {
  const asFp32 = fp16ToFp32(ALL_FP16);
  const asBits = new Uint32Array(asFp32.buffer);
  let failures = 0;
  for (let h = 0; h < F16_COUNT; h++) {
    if (isFp16NaN(h)) {
      const expected = (((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0;
      if (asBits[h] !== expected) failures++;
    } else if (!Object.is(asFp32[h], referenceFp16Value(h))) {
      failures++;
    }
  }
  t.equal(failures, 0, 'every value is exact, -0 included, NaN payloads shifted into the fp32 mantissa');
});

t.test('fp32 → fp16 on edge values', async (t) => {
  const cases: [string, number, number][] = [
    ['+0', 0x00000000, 0x0000],
    ['-0', 0x80000000, 0x8000],
    ['smallest fp32 subnormal → +0', 0x00000001, 0x0000],
    ['negative smallest fp32 subnormal → -0', 0x80000001, 0x8000],
    ['2^-24, smallest fp16 subnormal', 0x33800000, 0x0001],
    ['2^-25, a tie between 0 and 2^-24 → 0 (even)', 0x33000000, 0x0000],
    ['-2^-25 → -0', 0xb3000000, 0x8000],
    ['2^-25 + one fp32 ulp → 2^-24', 0x33000001, 0x0001],
    ['2^-25 - one fp32 ulp → 0', 0x32ffffff, 0x0000],
    ['1.5 × 2^-24, a subnormal tie → 2 (even, up)', 0x33c00000, 0x0002],
    ['2.5 × 2^-24, a subnormal tie → 2 (even, down)', 0x34200000, 0x0002],
    ['1023 × 2^-24, the largest subnormal', 0x387fc000, 0x03ff],
    ['1023.5 × 2^-24, a tie → the smallest normal', 0x387fe000, 0x0400],
    ['2^-14, the smallest normal', 0x38800000, 0x0400],
    ['1', 0x3f800000, 0x3c00],
    ['1 + 2^-11, a normal tie → 1 (even, down)', 0x3f801000, 0x3c00],
    ['1 + 3 × 2^-11, a normal tie → 1 + 2^-9 (even, up)', 0x3f803000, 0x3c02],
    ['1 + 2^-11 + 2^-23, just above a tie → up', 0x3f801001, 0x3c01],
    ['1 + 2^-11 - 2^-23, just below a tie → down', 0x3f800fff, 0x3c00],
    ['-2049 → -2048 (tie, even)', 0xc5001000, 0xe800],
    ['2051 → 2052 (tie, even)', 0x45003000, 0x6802],
    ['65504, the largest fp16', 0x477fe000, 0x7bff],
    ['65519.99 (fp32 65519.9921875) → 65504', 0x477fefff, 0x7bff],
    ['65520, the tie with 65536 → +Inf', 0x477ff000, 0x7c00],
    ['-65520 → -Inf', 0xc77ff000, 0xfc00],
    ['65536 → +Inf', 0x47800000, 0x7c00],
    ['the largest finite fp32 → +Inf', 0x7f7fffff, 0x7c00],
    ['the most negative finite fp32 → -Inf', 0xff7fffff, 0xfc00],
    ['+Inf', 0x7f800000, 0x7c00],
    ['-Inf', 0xff800000, 0xfc00],
    ['canonical quiet NaN', 0x7fc00000, 0x7e00],
    ['negative quiet NaN', 0xffc00000, 0xfe00],
    ['signalling NaN with only a low payload bit → quiet NaN', 0x7f800001, 0x7e00],
    ['signalling NaN with a high payload bit → quiet, payload kept', 0x7fa00000, 0x7f00],
    ['negative NaN, payload 0x0fe000 → top ten bits kept', 0xff8fe000, 0xfe7f],
  ];
  const out = fp32ToFp16(fp32FromBits(cases.map(([, bits]) => bits)));
  cases.forEach(([name, bits, expected], i) => {
    t.equal(out[i], expected, `${name}: 0x${bits.toString(16)} → 0x${expected.toString(16)}`);
    t.equal(referenceFp32ToFp16(bits), expected, `${name}: the reference agrees`);
  });
  const viaValues = fp32ToFp16(Float32Array.of(65519.99, 2 ** -25, 2 ** -24, Math.fround(1 / 3)));
  t.same(Array.from(viaValues), [0x7bff, 0x0000, 0x0001, 0x3555], 'the same from JS numbers');
});

t.test('fp32 → fp16 agrees with the reference on random and tie-heavy bit patterns', async (t) => {
  const next = prng(16);
  const patterns = new Uint32Array(RANDOM_PATTERNS + TIE_PATTERNS);
  for (let i = 0; i < RANDOM_PATTERNS; i++) patterns[i] = next();
  for (let i = RANDOM_PATTERNS; i < patterns.length; i++) {
    // Exponents around the fp16 range (subnormal results included), and mantissas exactly at a
    // rounding tie for some result precision (bit p set, all bits below clear), or one ulp off it.
    const exponent = 96 + (next() % 50);
    const p = 12 + (next() % 12);
    const tie = (next() & 0x7fffff & ~((2 << p) - 1)) | (1 << p);
    const mantissa = tie + [0, -1, 1][next() % 3];
    patterns[i] = ((next() & 0x80000000) | (exponent << 23) | mantissa) >>> 0;
  }
  const out = fp32ToFp16(new Float32Array(patterns.buffer));
  let failures = 0;
  let firstFailure = '';
  for (let i = 0; i < patterns.length; i++) {
    const expected = referenceFp32ToFp16(patterns[i]);
    if (out[i] !== expected) {
      failures++;
      firstFailure ||= `0x${patterns[i].toString(16)} → 0x${out[i].toString(16)}, expected 0x${expected.toString(16)}`;
    }
  }
  t.equal(failures, 0, `1,200,000 patterns agree ${firstFailure}`);
});

t.test('bf16 → fp16 equals bf16 → fp32 → fp16 on all 65,536 bf16 patterns', async (t) => {
  const out = bf16ToFp16(ALL_FP16);
  const widened = new Uint32Array(F16_COUNT);
  for (let b = 0; b < F16_COUNT; b++) widened[b] = (b << 16) >>> 0;
  const viaFp32 = fp32ToFp16(new Float32Array(widened.buffer));
  let failures = 0;
  for (let b = 0; b < F16_COUNT; b++) {
    if (out[b] !== viaFp32[b] || out[b] !== referenceFp32ToFp16(widened[b])) failures++;
  }
  t.equal(failures, 0, 'every bf16 pattern converts like its fp32 widening, and like the reference');
  t.equal(bf16ToFp16(Uint16Array.of(0x3f80))[0], 0x3c00, 'bf16 1.0 → fp16 1.0');
  t.equal(bf16ToFp16(Uint16Array.of(0x4780))[0], 0x7c00, 'bf16 65536 → +Inf');
  t.equal(bf16ToFp16(Uint16Array.of(0xffc1))[0], 0xfe08, 'a negative bf16 NaN stays NaN with its payload');
});

t.test('dst: written in place, a longer one gives a view of its start, a shorter one throws', async (t) => {
  const src = Float32Array.of(1, 2, -0);
  const dst = new Uint16Array(3);
  t.equal(fp32ToFp16(src, dst), dst, 'an exact-length dst is returned itself');
  t.same(Array.from(dst), [0x3c00, 0x4000, 0x8000]);
  const longer = new Uint16Array(5).fill(0xffff);
  const written = fp32ToFp16(src, longer);
  t.equal(written.length, 3, 'the result covers only the converted elements');
  t.equal(written.buffer, longer.buffer, 'and is a view of dst');
  t.equal(longer[3], 0xffff, 'the rest of dst is untouched');
  t.throws(() => fp32ToFp16(src, new Uint16Array(2)), RangeError);
  t.throws(() => bf16ToFp16(Uint16Array.of(1, 2), new Uint16Array(1)), RangeError);
  t.throws(() => fp16ToFp32(Uint16Array.of(1, 2), new Float32Array(1)), RangeError);
  const back = new Float32Array(4);
  t.same(Array.from(fp16ToFp32(Uint16Array.of(0x3c00, 0xc000), back)), [1, -2], 'fp16ToFp32 into a longer dst');
  const offsetSource = new Float32Array(new ArrayBuffer(16), 4, 2);
  offsetSource.set([0.5, 65504]);
  t.same(Array.from(fp32ToFp16(offsetSource)), [0x3800, 0x7bff], 'a source view at an offset is read from its start');
  t.equal(fp32ToFp16(new Float32Array(0)).length, 0, 'empty input, empty output');
});

t.test('dtypeBytes', async (t) => {
  t.same([dtypeBytes('fp16'), dtypeBytes('fp32'), dtypeBytes('bf16'), dtypeBytes('u8')], [2, 4, 2, 1]);
  t.throws(() => dtypeBytes('fp64' as never), RangeError, 'an unknown dtype is refused');
  t.throws(() => dtypeBytes('toString' as never), RangeError, 'inherited names are not dtypes');
});

t.test('the TypeScript references give the same bits and keep the dst contract', async (t) => {
  const asFp32 = fp16ToFp32Ts(ALL_FP16);
  t.same(new Uint32Array(asFp32.buffer), new Uint32Array(fp16ToFp32(ALL_FP16).buffer), 'fp16ToFp32Ts on all 65,536 patterns');
  t.same(fp32ToFp16Ts(asFp32), fp32ToFp16(asFp32), 'fp32ToFp16Ts on all of them widened');
  t.same(bf16ToFp16Ts(ALL_FP16), bf16ToFp16(ALL_FP16), 'bf16ToFp16Ts on all 65,536 patterns');
  const next = prng(17);
  const random = new Float32Array(Uint32Array.from({ length: 100_000 }, () => next()).buffer);
  t.same(fp32ToFp16Ts(random), fp32ToFp16(random), 'fp32ToFp16Ts on 100,000 random patterns');
  const longer = new Uint16Array(5).fill(0xffff);
  t.equal(fp32ToFp16Ts(Float32Array.of(1, 2), longer).length, 2, 'a longer dst gives a view of its start');
  t.equal(longer[2], 0xffff);
  t.throws(() => fp32ToFp16Ts(Float32Array.of(1, 2), new Uint16Array(1)), RangeError);
  t.throws(() => bf16ToFp16Ts(Uint16Array.of(1, 2), new Uint16Array(1)), RangeError);
  t.throws(() => fp16ToFp32Ts(Uint16Array.of(1, 2), new Float32Array(1)), RangeError);
});
