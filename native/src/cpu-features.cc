// Run-time CPU feature detection with the compiler's __builtin_cpu_supports, which also checks
// that the OS saves the AVX register state (XCR0), so a feature reported here is usable.
#include "cpu-features.h"

#include <atomic>

namespace kvc {

namespace {

CpuFeatures Detect() {
  CpuFeatures features{false, false, false};
#if defined(__x86_64__)
  __builtin_cpu_init();
  features.sse42 = __builtin_cpu_supports("sse4.2") != 0;
  features.f16c = __builtin_cpu_supports("f16c") != 0;
  features.avx2 = __builtin_cpu_supports("avx2") != 0;
#endif
  return features;
}

std::atomic<bool> simd_enabled{true};

}  // namespace

const CpuFeatures& DetectedCpuFeatures() {
  // A function-local static is initialized once even when worker threads load the addon at the
  // same time (C++11 guarantees thread-safe initialization).
  static const CpuFeatures features = Detect();
  return features;
}

bool SimdEnabled() { return simd_enabled.load(std::memory_order_relaxed); }

bool SetSimdEnabled(bool enabled) { return simd_enabled.exchange(enabled, std::memory_order_relaxed); }

}  // namespace kvc
