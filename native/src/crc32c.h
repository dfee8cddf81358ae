// CRC-32C (Castagnoli), the same function as src/codec/crc32c.ts: `seed` is the CRC of the bytes
// before `data` (0 for none), so crc32c(a || b) == Crc32c(b, Crc32c(a)).
#ifndef KVC_NATIVE_CRC32C_H_
#define KVC_NATIVE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace kvc {

uint32_t Crc32c(const uint8_t* data, size_t length, uint32_t seed);

// Copies `length` bytes from `src` to `dst` (the ranges must not overlap) and returns the CRC-32C
// of the bytes as written to `dst`, chained from `seed` like Crc32c: one pass over the bytes
// instead of a copy and then a checksum of the copy, which on a page of MiBs reads the copy back
// from a far cache level. The SIMD kernels checksum each loaded word or vector and store that same
// value, so what the caller keeps is what was checked even when another process may rewrite the
// source meanwhile (a shared arena's slot whose lease ran out). The scalar path copies a block of
// kCopyCrcBlockBytes and checksums it while it is in the first-level cache.
uint32_t CopyCrc32c(uint8_t* dst, const uint8_t* src, size_t length, uint32_t seed);

// Bytes the scalar CopyCrc32c copies, then checksums, at a time: half of a 32 KiB L1 data cache.
constexpr size_t kCopyCrcBlockBytes = 16 * 1024;

}  // namespace kvc

#endif  // KVC_NATIVE_CRC32C_H_
