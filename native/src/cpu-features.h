// CPU features the SIMD kernels need, detected once at run time, so that one binary runs on any
// x86-64 (and compiles on other architectures, where every feature reads false and the scalar
// kernels run).
#ifndef KVC_NATIVE_CPU_FEATURES_H_
#define KVC_NATIVE_CPU_FEATURES_H_

namespace kvc {

struct CpuFeatures {
  bool sse42;  // the crc32 instruction
  bool f16c;   // vcvtps2ph / vcvtph2ps
  bool avx2;   // 256-bit integer lanes (the NaN fix-up of fp16 -> fp32, bf16 widening)
  bool avx512_clmul;  // AVX-512F with VPCLMULQDQ (and PCLMULQDQ): the folding crc32c kernel
  bool sha;           // the SHA-256 instructions (SHA-NI, with SSE4.1): lookup fingerprints
};

// What the CPU (and the OS, for the AVX state) supports; computed on first call, thread-safe.
const CpuFeatures& DetectedCpuFeatures();

// Whether the kernels may use SIMD at all. Tests and benchmarks turn it off to run the scalar
// kernels on the same machine; it is process-wide and defaults to on.
bool SimdEnabled();
bool SetSimdEnabled(bool enabled);  // returns the previous setting

// Whether the 512-bit kernels may run (when SIMD is on and the CPU has them). Tests turn it off
// to run the 128-bit SSE4.2 kernels on a CPU that has both; process-wide, defaults to on.
bool WideSimdEnabled();
bool SetWideSimdEnabled(bool enabled);  // returns the previous setting

}  // namespace kvc

#endif  // KVC_NATIVE_CPU_FEATURES_H_
