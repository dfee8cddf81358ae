// Element-type conversions of page payloads: fp32 and bf16 to fp16, fp16 to fp32. They must give
// the same bits as the TypeScript reference (src/codec/fp16.ts) on every input; that file states
// the rules (IEEE binary16, round to nearest even, overflow to Inf, NaN quieted with the top ten
// payload bits kept, fp16 -> fp32 exact with the NaN payload kept and not quieted).
//
// Every function converts `count` elements from `src` to `dst`; the ranges must not overlap
// (the TypeScript caller checks and converts overlapping ranges itself). No alignment needed.
#ifndef KVC_NATIVE_CONVERT_H_
#define KVC_NATIVE_CONVERT_H_

#include <cstddef>
#include <cstdint>

namespace kvc {

void Fp32ToFp16(const uint32_t* src, uint16_t* dst, size_t count);
void Bf16ToFp16(const uint16_t* src, uint16_t* dst, size_t count);
void Fp16ToFp32(const uint16_t* src, uint32_t* dst, size_t count);

}  // namespace kvc

#endif  // KVC_NATIVE_CONVERT_H_
