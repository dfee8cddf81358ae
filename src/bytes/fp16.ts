// Element types of page payloads and the conversions between them: fp32 and bf16 → fp16 (what a
// put may store), fp16 → fp32 (what a get may return). `fp32ToFp16`, `bf16ToFp16` and `fp16ToFp32`
// hand inputs of NATIVE_CONVERT_MIN_ELEMENTS or more to the native addon (F16C/AVX2) when it is
// loaded; the `...Ts` functions are the pure-TypeScript reference, which the addon must match bit
// for bit (test/native checks it on every fp16 pattern, edge values and random data), so every
// rule is spelled out:
// - IEEE 754 binary16, round to nearest, ties to even, in one step from the exact input
//   (no double rounding), for normal and subnormal results alike;
// - a finite input whose rounded magnitude would exceed 65504 (that is, |x| >= 65520) becomes ±Inf;
// - ±0 keep their sign; magnitudes up to 2^-25 inclusive round to ±0 (2^-25 is the tie between 0
//   and the smallest subnormal 2^-24, and 0 is even); ±Inf stay ±Inf;
// - NaN stays NaN: the sign is kept, the top 10 bits of the fp32 mantissa become the fp16
//   mantissa (the rest of the payload does not fit and is dropped), and the quiet bit (the top
//   mantissa bit) is set, so a signalling NaN becomes quiet and the result can never turn into Inf;
// - fp16 → fp32 is exact (every fp16 value is an fp32 value); a NaN keeps its sign and payload,
//   shifted into the top of the fp32 mantissa, so quiet fp16 NaNs round-trip bit for bit.
// The work is done on the bit patterns through Uint32/Uint16 views, never through JS numbers,
// because reading a NaN into a number may canonicalize its payload.
import { nativeCodec } from '../native/index.js';

export type Dtype = 'fp16' | 'fp32' | 'bf16' | 'u8';

const DTYPE_BYTES: Readonly<Record<Dtype, number>> = Object.freeze({ fp16: 2, fp32: 4, bf16: 2, u8: 1 });

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

/** Bytes per element of `dtype`. */
export function dtypeBytes(dtype: Dtype): number {
  if (!isDtype(dtype)) throw new RangeError(`unknown dtype ${String(dtype)}`);
  return DTYPE_BYTES[dtype];
}

// fp32 bit patterns (magnitudes, sign bit clear) where the conversion changes regime.
/** +Inf; above it (magnitude) is NaN. */
const F32_INF = 0x7f80_0000;
/** 65520 = 65504 + half an ulp: from here RNE rounds up to 2^16, which is past the fp16 range. */
const F32_FP16_OVERFLOW = 0x477f_f000;
/** 2^-14, the smallest normal fp16. */
const F32_FP16_MIN_NORMAL = 0x3880_0000;
/** 2^-25, half the smallest subnormal fp16: up to it (inclusive, tie to even) the result is 0. */
const F32_FP16_HALF_MIN_SUBNORMAL = 0x3300_0000;
/** (127 - 15) << 23: moves an fp32 exponent to the fp16 bias. */
const EXPONENT_REBIAS = 0x3800_0000;
/** fp32 has 13 more mantissa bits than fp16. */
const MANTISSA_SHIFT = 13;
const ROUND_HALF_MINUS_ONE = 0x0fff;
const F32_MANTISSA_MASK = 0x007f_ffff;
const F32_IMPLICIT_ONE = 0x0080_0000;
/** fp32 exponent field of 2^-1: a subnormal fp16 result is (mantissa with implicit one) >> (126 - e). */
const F32_EXPONENT_HALF = 126;
const F16_SIGN = 0x8000;
const F16_INF = 0x7c00;
const F16_QUIET_NAN = 0x7e00;
const F16_MANTISSA_MASK = 0x03ff;
const F16_EXPONENT_MASK = 0x1f;
const F16_SIZE = 0x1_0000;

/** One fp32 bit pattern to the fp16 bit pattern (rules at the top of the file). */
function fp32BitsToFp16Bits(bits: number): number {
  const sign = (bits >>> 16) & F16_SIGN;
  const magnitude = bits & 0x7fff_ffff;
  if (magnitude >= F32_FP16_MIN_NORMAL) {
    if (magnitude < F32_FP16_OVERFLOW) {
      // Normal result: rebias, then round the 13 dropped bits to nearest even. A carry out of
      // the mantissa correctly bumps the exponent (up to 65504 at most, by the bound above).
      const rebased = magnitude - EXPONENT_REBIAS;
      return sign | ((rebased + ROUND_HALF_MINUS_ONE + ((rebased >>> MANTISSA_SHIFT) & 1)) >>> MANTISSA_SHIFT);
    }
    if (magnitude <= F32_INF) return sign | F16_INF;
    return sign | F16_QUIET_NAN | ((magnitude >>> MANTISSA_SHIFT) & F16_MANTISSA_MASK);
  }
  if (magnitude <= F32_FP16_HALF_MIN_SUBNORMAL) return sign;
  // Subnormal result (or the smallest normal after rounding up): the value in units of 2^-24 is
  // the full 24-bit mantissa shifted right by 14..24 bits; round the shifted-out bits to even.
  const shift = F32_EXPONENT_HALF - (magnitude >>> 23);
  const mantissa = (magnitude & F32_MANTISSA_MASK) | F32_IMPLICIT_ONE;
  const truncated = mantissa >>> shift;
  const remainder = mantissa - (truncated << shift);
  const half = 1 << (shift - 1);
  const roundUp = remainder > half || (remainder === half && (truncated & 1) === 1) ? 1 : 0;
  return sign | (truncated + roundUp);
}

/** One fp16 bit pattern to the fp32 bit pattern (exact). */
function fp16BitsToFp32Bits(half: number): number {
  const sign = (half & F16_SIGN) << 16;
  const exponent = (half >>> 10) & F16_EXPONENT_MASK;
  let mantissa = half & F16_MANTISSA_MASK;
  if (exponent === F16_EXPONENT_MASK) return (sign | F32_INF | (mantissa << MANTISSA_SHIFT)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent << 23) + EXPONENT_REBIAS) | (mantissa << MANTISSA_SHIFT)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal: normalize so the leading one becomes the implicit bit of an fp32 normal.
  let fp32Exponent = 127 - 14;
  while ((mantissa & 0x400) === 0) {
    mantissa <<= 1;
    fp32Exponent--;
  }
  return (sign | (fp32Exponent << 23) | ((mantissa & F16_MANTISSA_MASK) << MANTISSA_SHIFT)) >>> 0;
}

/** fp16 → fp32 bit patterns for all 65,536 inputs (256 KiB), built on first use. */
let fp16ToFp32Table: Uint32Array | undefined;

function fp16ToFp32Bits(): Uint32Array {
  if (fp16ToFp32Table === undefined) {
    const table = new Uint32Array(F16_SIZE);
    for (let h = 0; h < F16_SIZE; h++) table[h] = fp16BitsToFp32Bits(h);
    fp16ToFp32Table = table;
  }
  return fp16ToFp32Table;
}

function outputFor<T extends Uint16Array | Float32Array>(dst: T | undefined, length: number, make: (n: number) => T): T {
  if (dst === undefined) return make(length);
  if (dst.length < length) throw new RangeError(`destination holds ${dst.length} elements, ${length} needed`);
  return dst.length === length ? dst : (dst.subarray(0, length) as T);
}

/**
 * Below this many elements the TypeScript loop wins: a call into the addon costs about as much as
 * converting this many elements in JavaScript (measured with `npm run bench -- native`).
 */
export const NATIVE_CONVERT_MIN_ELEMENTS = 64;

/** Whether two views share bytes; the addon's kernels need disjoint ranges, so those stay in TypeScript. */
function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * fp32 → fp16 (bit patterns in a Uint16Array). Writes into `dst` when given (it must hold at
 * least `src.length` elements) and returns the written part: `dst` itself or a view of its start.
 */
export function fp32ToFp16(src: Float32Array, dst?: Uint16Array): Uint16Array {
  const out = outputFor(dst, src.length, (n) => new Uint16Array(n));
  const kernels = src.length >= NATIVE_CONVERT_MIN_ELEMENTS && !overlaps(src, out) ? nativeCodec() : null;
  if (kernels !== null) {
    kernels.fp32ToFp16(src, out);
    return out;
  }
  return fp32ToFp16Into(src, out);
}

/** bf16 (bit patterns) → fp16: exactly bf16 → fp32 (exact: a bf16 is the top half of an fp32) → fp16. */
export function bf16ToFp16(src: Uint16Array, dst?: Uint16Array): Uint16Array {
  const out = outputFor(dst, src.length, (n) => new Uint16Array(n));
  const kernels = src.length >= NATIVE_CONVERT_MIN_ELEMENTS && !overlaps(src, out) ? nativeCodec() : null;
  if (kernels !== null) {
    kernels.bf16ToFp16(src, out);
    return out;
  }
  return bf16ToFp16Into(src, out);
}

/** fp16 (bit patterns) → fp32, exact. `dst` as in fp32ToFp16. */
export function fp16ToFp32(src: Uint16Array, dst?: Float32Array): Float32Array {
  const out = outputFor(dst, src.length, (n) => new Float32Array(n));
  const kernels = src.length >= NATIVE_CONVERT_MIN_ELEMENTS && !overlaps(src, out) ? nativeCodec() : null;
  if (kernels !== null) {
    kernels.fp16ToFp32(src, out);
    return out;
  }
  return fp16ToFp32Into(src, out);
}

/** The TypeScript fp32ToFp16 (the reference), same contract. */
export function fp32ToFp16Ts(src: Float32Array, dst?: Uint16Array): Uint16Array {
  return fp32ToFp16Into(src, outputFor(dst, src.length, (n) => new Uint16Array(n)));
}

/** The TypeScript bf16ToFp16 (the reference), same contract. */
export function bf16ToFp16Ts(src: Uint16Array, dst?: Uint16Array): Uint16Array {
  return bf16ToFp16Into(src, outputFor(dst, src.length, (n) => new Uint16Array(n)));
}

/** The TypeScript fp16ToFp32 (the reference), same contract. */
export function fp16ToFp32Ts(src: Uint16Array, dst?: Float32Array): Float32Array {
  return fp16ToFp32Into(src, outputFor(dst, src.length, (n) => new Float32Array(n)));
}

function fp32ToFp16Into(src: Float32Array, out: Uint16Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = fp32BitsToFp16Bits(bits[i]);
  return out;
}

function bf16ToFp16Into(src: Uint16Array, out: Uint16Array): Uint16Array {
  for (let i = 0; i < src.length; i++) out[i] = fp32BitsToFp16Bits(src[i] << 16);
  return out;
}

function fp16ToFp32Into(src: Uint16Array, out: Float32Array): Float32Array {
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const table = fp16ToFp32Bits();
  for (let i = 0; i < src.length; i++) outBits[i] = table[src[i]];
  return out;
}
