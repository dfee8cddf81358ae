// Run-time CPU feature detection with the compiler's __builtin_cpu_supports, which also checks
// that the OS saves the AVX register state (XCR0), so a feature reported here is usable.
#include "cpu-features.h"

#include <atomic>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace kvc {

namespace {

CpuFeatures Detect() {
  CpuFeatures features{false, false, false, false, false};
#if defined(__x86_64__)
  __builtin_cpu_init();
  features.sse42 = __builtin_cpu_supports("sse4.2") != 0;
  features.f16c = __builtin_cpu_supports("f16c") != 0;
  features.avx2 = __builtin_cpu_supports("avx2") != 0;
  features.avx512_clmul = __builtin_cpu_supports("avx512f") != 0 && __builtin_cpu_supports("vpclmulqdq") != 0 &&
                          __builtin_cpu_supports("pclmul") != 0 && features.sse42;
  // SHA-NI: CPUID leaf 7, EBX bit 29 (older compilers' __builtin_cpu_supports does not name it).
  unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool leaf7 = __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0;
  features.sha = leaf7 && (ebx & (1u << 29)) != 0 && __builtin_cpu_supports("sse4.1") != 0 && __builtin_cpu_supports("ssse3") != 0;
#endif
  return features;
}

std::atomic<bool> simd_enabled{true};
std::atomic<bool> wide_simd_enabled{true};

}  // namespace

const CpuFeatures& DetectedCpuFeatures() {
  // A function-local static is initialized once even when worker threads load the addon at the
  // same time (C++11 guarantees thread-safe initialization).
  static const CpuFeatures features = Detect();
  return features;
}

bool SimdEnabled() { return simd_enabled.load(std::memory_order_relaxed); }

bool SetSimdEnabled(bool enabled) { return simd_enabled.exchange(enabled, std::memory_order_relaxed); }

bool WideSimdEnabled() { return wide_simd_enabled.load(std::memory_order_relaxed); }

bool SetWideSimdEnabled(bool enabled) { return wide_simd_enabled.exchange(enabled, std::memory_order_relaxed); }

}  // namespace kvc
