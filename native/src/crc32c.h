// CRC-32C (Castagnoli), the same function as src/codec/crc32c.ts: `seed` is the CRC of the bytes
// before `data` (0 for none), so crc32c(a || b) == Crc32c(b, Crc32c(a)).
#ifndef KVC_NATIVE_CRC32C_H_
#define KVC_NATIVE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace kvc {

uint32_t Crc32c(const uint8_t* data, size_t length, uint32_t seed);

}  // namespace kvc

#endif  // KVC_NATIVE_CRC32C_H_
