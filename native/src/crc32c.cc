// CRC-32C with the SSE4.2 crc32 instruction when the CPU has it, table-driven slice-by-8 otherwise.
//
// The crc32 instruction takes 3 cycles but a new one can start every cycle, so one dependent chain
// uses a third of it. The SSE4.2 kernel therefore runs three independent CRCs over three adjacent
// blocks and combines them: a CRC register is linear in its input, so the CRC of A || B is
// (A's register advanced over |B| zero bytes) ^ (B's register started from 0). Advancing over a
// fixed number of zero bytes is a linear map on 32 bits, applied with four 256-entry tables.
// This is the scheme of Mark Adler's crc32c.c (zlib license), written anew here.
#include "crc32c.h"

#include <cstring>

#include "cpu-features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kvc {

namespace {

constexpr uint32_t kPolynomialReflected = 0x82f63b78u;
constexpr size_t kTableSize = 256;
constexpr size_t kSliceCount = 8;
constexpr size_t kShiftTableCount = 4;
// Block lengths of the three-way kernel: long blocks for large inputs, short ones for the rest,
// so only the last < 3 * kShortBlockBytes bytes run on a single chain.
constexpr size_t kLongBlockBytes = 8192;
constexpr size_t kShortBlockBytes = 256;

using ShiftTable = uint32_t[kShiftTableCount][kTableSize];

struct Tables {
  uint32_t slice[kSliceCount][kTableSize];  // slice[k][b]: byte b followed by k zero bytes
  ShiftTable long_shift;                    // advances a register over kLongBlockBytes zeros
  ShiftTable short_shift;                   // advances a register over kShortBlockBytes zeros
};

// Advances a raw CRC register over `zero_bytes` zero bytes, one byte at a time (table setup only).
uint32_t AdvanceSlowly(const uint32_t* byte_table, uint32_t crc, size_t zero_bytes) {
  for (size_t i = 0; i < zero_bytes; i++) crc = byte_table[crc & 0xff] ^ (crc >> 8);
  return crc;
}

void BuildShiftTable(const uint32_t* byte_table, size_t zero_bytes, ShiftTable& table) {
  // The map is linear: find the image of each of the 32 basis bits, then each table entry is the
  // XOR of the images of the bits set in its byte.
  uint32_t image[32];
  for (int bit = 0; bit < 32; bit++) image[bit] = AdvanceSlowly(byte_table, 1u << bit, zero_bytes);
  for (size_t part = 0; part < kShiftTableCount; part++) {
    for (size_t byte = 0; byte < kTableSize; byte++) {
      uint32_t value = 0;
      for (int bit = 0; bit < 8; bit++) {
        if ((byte >> bit) & 1u) value ^= image[part * 8 + bit];
      }
      table[part][byte] = value;
    }
  }
}

const Tables& GetTables() {
  static const Tables* tables = [] {
    auto* built = new Tables();
    for (uint32_t b = 0; b < kTableSize; b++) {
      uint32_t crc = b;
      for (int bit = 0; bit < 8; bit++) crc = (crc & 1u) ? (crc >> 1) ^ kPolynomialReflected : crc >> 1;
      built->slice[0][b] = crc;
    }
    for (size_t k = 1; k < kSliceCount; k++) {
      for (size_t b = 0; b < kTableSize; b++) {
        const uint32_t previous = built->slice[k - 1][b];
        built->slice[k][b] = (previous >> 8) ^ built->slice[0][previous & 0xff];
      }
    }
    BuildShiftTable(built->slice[0], kLongBlockBytes, built->long_shift);
    BuildShiftTable(built->slice[0], kShortBlockBytes, built->short_shift);
    return built;
  }();
  return *tables;
}

inline uint64_t Load64(const uint8_t* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof value);  // unaligned-safe, compiles to one load
  return value;
}

inline uint32_t Shift(const ShiftTable& table, uint32_t crc) {
  return table[0][crc & 0xff] ^ table[1][(crc >> 8) & 0xff] ^ table[2][(crc >> 16) & 0xff] ^ table[3][crc >> 24];
}

uint32_t Crc32cScalar(const uint8_t* data, size_t length, uint32_t seed) {
  const Tables& t = GetTables();
  uint32_t crc = ~seed;
  while (length >= kSliceCount) {
    // Little-endian load: the first four bytes fold into the register (the tables assume it).
    const uint64_t word = Load64(data) ^ crc;
    crc = t.slice[7][word & 0xff] ^ t.slice[6][(word >> 8) & 0xff] ^ t.slice[5][(word >> 16) & 0xff] ^
          t.slice[4][(word >> 24) & 0xff] ^ t.slice[3][(word >> 32) & 0xff] ^ t.slice[2][(word >> 40) & 0xff] ^
          t.slice[1][(word >> 48) & 0xff] ^ t.slice[0][word >> 56];
    data += kSliceCount;
    length -= kSliceCount;
  }
  while (length-- > 0) crc = t.slice[0][(crc ^ *data++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

#if defined(__x86_64__)

// Three interleaved chains over blocks of `block` bytes while at least three blocks remain.
__attribute__((target("sse4.2"))) uint32_t ThreeWay(const uint8_t*& data, size_t& length, uint32_t crc,
                                                     size_t block, const ShiftTable& shift) {
  uint64_t crc0 = crc;
  while (length >= 3 * block) {
    uint64_t crc1 = 0;
    uint64_t crc2 = 0;
    const uint8_t* end = data + block;
    do {
      crc0 = _mm_crc32_u64(crc0, Load64(data));
      crc1 = _mm_crc32_u64(crc1, Load64(data + block));
      crc2 = _mm_crc32_u64(crc2, Load64(data + 2 * block));
      data += 8;
    } while (data < end);
    crc0 = Shift(shift, static_cast<uint32_t>(crc0)) ^ static_cast<uint32_t>(crc1);
    crc0 = Shift(shift, static_cast<uint32_t>(crc0)) ^ static_cast<uint32_t>(crc2);
    data += 2 * block;
    length -= 3 * block;
  }
  return static_cast<uint32_t>(crc0);
}

__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(const uint8_t* data, size_t length, uint32_t seed) {
  const Tables& t = GetTables();
  uint32_t crc = ~seed;
  // Bytes up to an 8-byte boundary first, so the 8-byte loads do not straddle cache lines.
  while (length > 0 && (reinterpret_cast<uintptr_t>(data) & 7u) != 0) {
    crc = _mm_crc32_u8(crc, *data++);
    length--;
  }
  crc = ThreeWay(data, length, crc, kLongBlockBytes, t.long_shift);
  crc = ThreeWay(data, length, crc, kShortBlockBytes, t.short_shift);
  uint64_t crc64 = crc;
  for (; length >= 8; length -= 8, data += 8) crc64 = _mm_crc32_u64(crc64, Load64(data));
  crc = static_cast<uint32_t>(crc64);
  while (length-- > 0) crc = _mm_crc32_u8(crc, *data++);
  return ~crc;
}

#endif  // __x86_64__

}  // namespace

uint32_t Crc32c(const uint8_t* data, size_t length, uint32_t seed) {
#if defined(__x86_64__)
  if (SimdEnabled() && DetectedCpuFeatures().sse42) return Crc32cSse42(data, length, seed);
#endif
  return Crc32cScalar(data, length, seed);
}

}  // namespace kvc
