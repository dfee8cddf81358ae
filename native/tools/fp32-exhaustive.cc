// Checks the SIMD fp32 -> fp16 kernel against the scalar one (a line-for-line port of the
// TypeScript reference, itself checked against it by test/native) on all 2^32 fp32 bit patterns,
// and fp16 -> fp32 and bf16 -> fp16 on all 2^16. Too slow for the test suite through JavaScript,
// a few seconds here. Not part of the addon build; run it by hand after changing convert.cc:
//   cd native && g++ -O2 -std=c++17 -Wall -Wextra -Werror tools/fp32-exhaustive.cc src/convert.cc
//   src/cpu-features.cc -o /tmp/fp32-exhaustive && /tmp/fp32-exhaustive   (one command line)
// It prints the number of mismatches of each conversion and exits 1 when there is any.
#include <cstdio>
#include <vector>

#include "../src/convert.h"
#include "../src/cpu-features.h"

namespace {

constexpr size_t kChunk = size_t{1} << 24;
constexpr size_t kAll16 = size_t{1} << 16;
constexpr uint64_t kAll32 = uint64_t{1} << 32;

size_t CheckFp32ToFp16() {
  std::vector<uint32_t> source(kChunk);
  std::vector<uint16_t> simd(kChunk);
  std::vector<uint16_t> scalar(kChunk);
  size_t mismatches = 0;
  for (uint64_t base = 0; base < kAll32; base += kChunk) {
    for (size_t i = 0; i < kChunk; i++) source[i] = static_cast<uint32_t>(base + i);
    kvc::SetSimdEnabled(true);
    kvc::Fp32ToFp16(source.data(), simd.data(), kChunk);
    kvc::SetSimdEnabled(false);
    kvc::Fp32ToFp16(source.data(), scalar.data(), kChunk);
    for (size_t i = 0; i < kChunk; i++) {
      if (simd[i] == scalar[i]) continue;
      if (mismatches++ < 10) std::printf("fp32 %08x: simd %04x, scalar %04x\n", source[i], simd[i], scalar[i]);
    }
  }
  return mismatches;
}

size_t CheckSixteenBit() {
  std::vector<uint16_t> source(kAll16);
  for (size_t i = 0; i < kAll16; i++) source[i] = static_cast<uint16_t>(i);
  std::vector<uint32_t> wide_simd(kAll16), wide_scalar(kAll16);
  std::vector<uint16_t> narrow_simd(kAll16), narrow_scalar(kAll16);
  kvc::SetSimdEnabled(true);
  kvc::Fp16ToFp32(source.data(), wide_simd.data(), kAll16);
  kvc::Bf16ToFp16(source.data(), narrow_simd.data(), kAll16);
  kvc::SetSimdEnabled(false);
  kvc::Fp16ToFp32(source.data(), wide_scalar.data(), kAll16);
  kvc::Bf16ToFp16(source.data(), narrow_scalar.data(), kAll16);
  size_t mismatches = 0;
  for (size_t i = 0; i < kAll16; i++) {
    mismatches += wide_simd[i] != wide_scalar[i];
    mismatches += narrow_simd[i] != narrow_scalar[i];
  }
  return mismatches;
}

}  // namespace

int main() {
  const kvc::CpuFeatures& features = kvc::DetectedCpuFeatures();
  if (!features.avx2 || !features.f16c) std::printf("no AVX2/F16C here: both runs use the scalar kernel\n");
  const size_t fp32 = CheckFp32ToFp16();
  const size_t sixteen = CheckSixteenBit();
  std::printf("fp32 -> fp16 mismatches: %zu of 2^32; fp16 -> fp32 and bf16 -> fp16 mismatches: %zu of 2 x 2^16\n",
              fp32, sixteen);
  return fp32 == 0 && sixteen == 0 ? 0 : 1;
}
