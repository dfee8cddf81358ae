// Scalar and F16C/AVX2 conversion kernels. The scalar functions are line-for-line ports of the
// TypeScript reference; the SIMD kernels use the hardware conversion instructions, whose rounding
// (imm8 = round to nearest even), overflow (to Inf) and fp32 -> fp16 NaN handling (quieted, top
// payload bits kept) already match the reference. vcvtph2ps quiets a signalling fp16 NaN, which the
// reference does not, so the fp16 -> fp32 kernel rebuilds NaN lanes with integer operations.
#include "convert.h"

#include "cpu-features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kvc {

namespace {

// fp32 bit patterns (magnitudes) where fp32 -> fp16 changes regime; see src/codec/fp16.ts.
constexpr uint32_t kF32Inf = 0x7f800000u;
constexpr uint32_t kF32Fp16Overflow = 0x477ff000u;      // 65520: rounds past the fp16 range
constexpr uint32_t kF32Fp16MinNormal = 0x38800000u;     // 2^-14
constexpr uint32_t kF32HalfMinSubnormal = 0x33000000u;  // 2^-25: up to it the result is 0
constexpr uint32_t kExponentRebias = 0x38000000u;       // (127 - 15) << 23
constexpr uint32_t kMantissaShift = 13;
constexpr uint32_t kRoundHalfMinusOne = 0x0fffu;
constexpr uint32_t kF32MantissaMask = 0x007fffffu;
constexpr uint32_t kF32ImplicitOne = 0x00800000u;
constexpr uint32_t kF32ExponentHalf = 126;
constexpr uint32_t kF16Sign = 0x8000u;
constexpr uint32_t kF16Inf = 0x7c00u;
constexpr uint32_t kF16QuietNan = 0x7e00u;
constexpr uint32_t kF16MantissaMask = 0x03ffu;
constexpr uint32_t kF16ExponentMask = 0x1fu;

inline uint16_t Fp32BitsToFp16Bits(uint32_t bits) {
  const uint32_t sign = (bits >> 16) & kF16Sign;
  const uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= kF32Fp16MinNormal) {
    if (magnitude < kF32Fp16Overflow) {
      const uint32_t rebased = magnitude - kExponentRebias;
      return static_cast<uint16_t>(sign | ((rebased + kRoundHalfMinusOne + ((rebased >> kMantissaShift) & 1u)) >> kMantissaShift));
    }
    if (magnitude <= kF32Inf) return static_cast<uint16_t>(sign | kF16Inf);
    return static_cast<uint16_t>(sign | kF16QuietNan | ((magnitude >> kMantissaShift) & kF16MantissaMask));
  }
  if (magnitude <= kF32HalfMinSubnormal) return static_cast<uint16_t>(sign);
  // Subnormal result: the 24-bit mantissa shifted right by 14..24 bits, rounded to even.
  const uint32_t shift = kF32ExponentHalf - (magnitude >> 23);
  const uint32_t mantissa = (magnitude & kF32MantissaMask) | kF32ImplicitOne;
  const uint32_t truncated = mantissa >> shift;
  const uint32_t remainder = mantissa - (truncated << shift);
  const uint32_t half = 1u << (shift - 1);
  const uint32_t round_up = (remainder > half || (remainder == half && (truncated & 1u) != 0)) ? 1u : 0u;
  return static_cast<uint16_t>(sign | (truncated + round_up));
}

inline uint32_t Fp16BitsToFp32Bits(uint32_t half) {
  const uint32_t sign = (half & kF16Sign) << 16;
  const uint32_t exponent = (half >> 10) & kF16ExponentMask;
  uint32_t mantissa = half & kF16MantissaMask;
  if (exponent == kF16ExponentMask) return sign | kF32Inf | (mantissa << kMantissaShift);
  if (exponent != 0) return sign | ((exponent << 23) + kExponentRebias) | (mantissa << kMantissaShift);
  if (mantissa == 0) return sign;
  // Subnormal: normalize so the leading one becomes the implicit bit of an fp32 normal.
  uint32_t fp32_exponent = 127 - 14;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    fp32_exponent--;
  }
  return sign | (fp32_exponent << 23) | ((mantissa & kF16MantissaMask) << kMantissaShift);
}

void Fp32ToFp16Scalar(const uint32_t* src, uint16_t* dst, size_t count) {
  for (size_t i = 0; i < count; i++) dst[i] = Fp32BitsToFp16Bits(src[i]);
}

void Bf16ToFp16Scalar(const uint16_t* src, uint16_t* dst, size_t count) {
  for (size_t i = 0; i < count; i++) dst[i] = Fp32BitsToFp16Bits(static_cast<uint32_t>(src[i]) << 16);
}

void Fp16ToFp32Scalar(const uint16_t* src, uint32_t* dst, size_t count) {
  for (size_t i = 0; i < count; i++) dst[i] = Fp16BitsToFp32Bits(src[i]);
}

#if defined(__x86_64__)

// Round to nearest even, from the immediate rather than MXCSR, so the caller's rounding mode
// cannot change the result.
constexpr int kRoundNearestEven = _MM_FROUND_TO_NEAREST_INT;
constexpr size_t kLanes = 8;

__attribute__((target("avx2,f16c"))) void Fp32ToFp16Avx2(const uint32_t* src, uint16_t* dst, size_t count) {
  size_t i = 0;
  // Two vectors per iteration keep two conversions in flight.
  for (; i + 2 * kLanes <= count; i += 2 * kLanes) {
    const __m256 a = _mm256_loadu_ps(reinterpret_cast<const float*>(src + i));
    const __m256 b = _mm256_loadu_ps(reinterpret_cast<const float*>(src + i + kLanes));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(a, kRoundNearestEven));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i + kLanes), _mm256_cvtps_ph(b, kRoundNearestEven));
  }
  for (; i + kLanes <= count; i += kLanes) {
    const __m256 a = _mm256_loadu_ps(reinterpret_cast<const float*>(src + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(a, kRoundNearestEven));
  }
  Fp32ToFp16Scalar(src + i, dst + i, count - i);
}

__attribute__((target("avx2,f16c"))) void Bf16ToFp16Avx2(const uint16_t* src, uint16_t* dst, size_t count) {
  size_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    // A bf16 is the top half of an fp32: widen each lane to 32 bits and shift it up (exact).
    const __m128i narrow = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m256i wide = _mm256_slli_epi32(_mm256_cvtepu16_epi32(narrow), 16);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(_mm256_castsi256_ps(wide), kRoundNearestEven));
  }
  Bf16ToFp16Scalar(src + i, dst + i, count - i);
}

__attribute__((target("avx2,f16c"))) void Fp16ToFp32Avx2(const uint16_t* src, uint32_t* dst, size_t count) {
  const __m256i exponent_mask = _mm256_set1_epi32(static_cast<int>(kF16Inf));
  const __m256i mantissa_mask = _mm256_set1_epi32(static_cast<int>(kF16MantissaMask));
  const __m256i sign_mask = _mm256_set1_epi32(static_cast<int>(kF16Sign));
  const __m256i fp32_inf = _mm256_set1_epi32(static_cast<int>(kF32Inf));
  const __m256i zero = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m256i converted = _mm256_castps_si256(_mm256_cvtph_ps(half));
    // NaN lanes (exponent all ones, mantissa not zero) are rebuilt as sign | Inf | payload << 13,
    // exactly what the reference gives, because the instruction sets the quiet bit.
    const __m256i wide = _mm256_cvtepu16_epi32(half);
    const __m256i mantissa = _mm256_and_si256(wide, mantissa_mask);
    const __m256i exponent_all_ones = _mm256_cmpeq_epi32(_mm256_and_si256(wide, exponent_mask), exponent_mask);
    const __m256i is_nan = _mm256_andnot_si256(_mm256_cmpeq_epi32(mantissa, zero), exponent_all_ones);
    const __m256i nan_bits = _mm256_or_si256(
        _mm256_or_si256(_mm256_slli_epi32(_mm256_and_si256(wide, sign_mask), 16), fp32_inf),
        _mm256_slli_epi32(mantissa, kMantissaShift));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_blendv_epi8(converted, nan_bits, is_nan));
  }
  Fp16ToFp32Scalar(src + i, dst + i, count - i);
}

bool UseAvx2() {
  const CpuFeatures& features = DetectedCpuFeatures();
  return SimdEnabled() && features.avx2 && features.f16c;
}

#endif  // __x86_64__

}  // namespace

void Fp32ToFp16(const uint32_t* src, uint16_t* dst, size_t count) {
#if defined(__x86_64__)
  if (UseAvx2()) return Fp32ToFp16Avx2(src, dst, count);
#endif
  Fp32ToFp16Scalar(src, dst, count);
}

void Bf16ToFp16(const uint16_t* src, uint16_t* dst, size_t count) {
#if defined(__x86_64__)
  if (UseAvx2()) return Bf16ToFp16Avx2(src, dst, count);
#endif
  Bf16ToFp16Scalar(src, dst, count);
}

void Fp16ToFp32(const uint16_t* src, uint32_t* dst, size_t count) {
#if defined(__x86_64__)
  if (UseAvx2()) return Fp16ToFp32Avx2(src, dst, count);
#endif
  Fp16ToFp32Scalar(src, dst, count);
}

}  // namespace kvc
