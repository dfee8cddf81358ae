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

inline void Store64(uint8_t* p, uint64_t value) {
  std::memcpy(p, &value, sizeof value);  // unaligned-safe, compiles to one store
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


// ThreeWay that also stores every word it checksums into `dst`: the loads, stores and crc32
// instructions of one loop overlap in the core, where a copy and then a checksum run one after
// the other (and the checksum reads the copy back from a farther cache level).
__attribute__((target("sse4.2"))) uint32_t ThreeWayCopy(uint8_t*& dst, const uint8_t*& src, size_t& length, uint32_t crc,
                                                         size_t block, const ShiftTable& shift) {
  uint64_t crc0 = crc;
  while (length >= 3 * block) {
    uint64_t crc1 = 0;
    uint64_t crc2 = 0;
    for (size_t at = 0; at < block; at += 8) {
      const uint64_t word0 = Load64(src + at);
      const uint64_t word1 = Load64(src + block + at);
      const uint64_t word2 = Load64(src + 2 * block + at);
      crc0 = _mm_crc32_u64(crc0, word0);
      crc1 = _mm_crc32_u64(crc1, word1);
      crc2 = _mm_crc32_u64(crc2, word2);
      Store64(dst + at, word0);
      Store64(dst + block + at, word1);
      Store64(dst + 2 * block + at, word2);
    }
    crc0 = Shift(shift, static_cast<uint32_t>(crc0)) ^ static_cast<uint32_t>(crc1);
    crc0 = Shift(shift, static_cast<uint32_t>(crc0)) ^ static_cast<uint32_t>(crc2);
    src += 3 * block;
    dst += 3 * block;
    length -= 3 * block;
  }
  return static_cast<uint32_t>(crc0);
}

__attribute__((target("sse4.2"))) uint32_t CopyCrc32cSse42(uint8_t* dst, const uint8_t* src, size_t length, uint32_t seed) {
  const Tables& t = GetTables();
  uint32_t crc = ~seed;
  // Up to an 8-byte boundary of the source, whose loads are the ones that must not straddle lines.
  while (length > 0 && (reinterpret_cast<uintptr_t>(src) & 7u) != 0) {
    const uint8_t byte = *src++;  // loaded once: the byte stored is the byte checksummed
    *dst++ = byte;
    crc = _mm_crc32_u8(crc, byte);
    length--;
  }
  crc = ThreeWayCopy(dst, src, length, crc, kLongBlockBytes, t.long_shift);
  crc = ThreeWayCopy(dst, src, length, crc, kShortBlockBytes, t.short_shift);
  uint64_t crc64 = crc;
  for (; length >= 8; length -= 8, src += 8, dst += 8) {
    const uint64_t word = Load64(src);
    crc64 = _mm_crc32_u64(crc64, word);
    Store64(dst, word);
  }
  crc = static_cast<uint32_t>(crc64);
  while (length-- > 0) {
    const uint8_t byte = *src++;
    *dst++ = byte;
    crc = _mm_crc32_u8(crc, byte);
  }
  return ~crc;
}


// The folding kernel for CPUs with AVX-512 and VPCLMULQDQ (after Intel's "Fast CRC Computation
// for Generic Polynomials Using PCLMULQDQ"): four 512-bit accumulators take 256 bytes per step,
// each 128-bit lane multiplied (carry-less) forward by the distance to the next data it meets
// and XORed with it; at the end the lanes are folded into one 128-bit remainder with the same
// CRC as everything before it, which the crc32 instruction finishes. A CRC register is linear, so
// folding preserves it: the CRC of a lane X followed by D/8 zero bytes is the CRC of the 16 bytes
// clmul(X.lo, K(D + 32)) ^ clmul(X.hi, K(D - 32)), K(n) = bit-reflected (x^n mod P) << 1.
// Each step is two clmuls and one three-way XOR per lane, several times the crc32 instruction's
// 8 bytes per cycle; the copying variant stores each loaded vector on the way.
constexpr size_t kFoldBytes = 256;  // bytes per step: 4 accumulators of 64
constexpr uint32_t kPolynomialNormal = 0x1edc6f41u;

uint64_t FoldConstant(size_t bits) {
  uint64_t value = 1;  // x^0, normal bit order
  for (size_t i = 0; i < bits; i++) {
    value <<= 1;
    if ((value >> 32) != 0) value = (value ^ kPolynomialNormal) & 0xffffffffu;
  }
  uint64_t reflected = 0;
  for (int bit = 0; bit < 32; bit++) reflected |= ((value >> bit) & 1u) << (31 - bit);
  return reflected << 1;
}

struct FoldPair {
  uint64_t lo;  // multiplies a lane's low 64 bits
  uint64_t hi;  // multiplies its high 64 bits
};

FoldPair FoldBy(size_t bits) { return FoldPair{FoldConstant(bits + 32), FoldConstant(bits - 32)}; }

struct FoldTables {
  FoldPair step;     // 2048 bits: an accumulator to the data 256 bytes on
  FoldPair by1536;   // accumulators 0, 1, 2 onto accumulator 3
  FoldPair by1024;
  FoldPair by512;
  FoldPair by384;    // lanes 0, 1, 2 of the last vector onto lane 3
  FoldPair by256;
  FoldPair by128;
};

const FoldTables& GetFoldTables() {
  static const FoldTables tables{FoldBy(2048), FoldBy(1536), FoldBy(1024), FoldBy(512), FoldBy(384), FoldBy(256), FoldBy(128)};
  return tables;
}

#define KVC_AVX512_CLMUL __attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.2")))

KVC_AVX512_CLMUL inline __m512i Fold512(__m512i lanes, __m512i constants, __m512i next) {
  const __m512i low = _mm512_clmulepi64_epi128(lanes, constants, 0x00);
  const __m512i high = _mm512_clmulepi64_epi128(lanes, constants, 0x11);
  return _mm512_ternarylogic_epi64(low, high, next, 0x96);  // low ^ high ^ next
}

KVC_AVX512_CLMUL inline __m512i Broadcast(const FoldPair& pair) {
  return _mm512_set_epi64(static_cast<long long>(pair.hi), static_cast<long long>(pair.lo), static_cast<long long>(pair.hi),
                          static_cast<long long>(pair.lo), static_cast<long long>(pair.hi), static_cast<long long>(pair.lo),
                          static_cast<long long>(pair.hi), static_cast<long long>(pair.lo));
}

KVC_AVX512_CLMUL inline __m128i Fold128(__m128i lane, const FoldPair& pair, __m128i next) {
  const __m128i constants = _mm_set_epi64x(static_cast<long long>(pair.hi), static_cast<long long>(pair.lo));
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(lane, constants, 0x00), _mm_clmulepi64_si128(lane, constants, 0x11)), next);
}

// Folds at least kFoldBytes * 2 bytes from `src` (storing them to `dst` when it is not null) and
// returns the raw CRC register (no final inversion) of every byte it consumed; `src`, `dst` and
// `length` advance past them. `crc` is the raw register before them.
template <bool kCopy>
KVC_AVX512_CLMUL uint32_t FoldAvx512(uint8_t*& dst, const uint8_t*& src, size_t& length, uint32_t crc) {
  const FoldTables& t = GetFoldTables();
  __m512i acc[4];
  for (int i = 0; i < 4; i++) {
    acc[i] = _mm512_loadu_si512(src + 64 * i);
    if (kCopy) _mm512_storeu_si512(dst + 64 * i, acc[i]);
  }
  // The register before the data is the same as XORing it into the data's first four bytes.
  acc[0] = _mm512_xor_si512(acc[0], _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(crc))));
  src += kFoldBytes;
  if (kCopy) dst += kFoldBytes;
  length -= kFoldBytes;
  const __m512i step = Broadcast(t.step);
  while (length >= kFoldBytes) {
    for (int i = 0; i < 4; i++) {
      const __m512i next = _mm512_loadu_si512(src + 64 * i);
      if (kCopy) _mm512_storeu_si512(dst + 64 * i, next);
      acc[i] = Fold512(acc[i], step, next);
    }
    src += kFoldBytes;
    if (kCopy) dst += kFoldBytes;
    length -= kFoldBytes;
  }
  __m512i folded = Fold512(acc[0], Broadcast(t.by1536), acc[3]);
  folded = Fold512(acc[1], Broadcast(t.by1024), folded);
  folded = Fold512(acc[2], Broadcast(t.by512), folded);
  // Through memory rather than _mm512_extracti32x4_epi32, which GCC 12 flags as reading an
  // uninitialized value (its _mm_undefined_si128) under -Werror.
  alignas(64) __m128i lanes[4];
  _mm512_store_si512(lanes, folded);
  __m128i lane = Fold128(lanes[0], t.by384, lanes[3]);
  lane = Fold128(lanes[1], t.by256, lane);
  lane = Fold128(lanes[2], t.by128, lane);
  // The remainder's CRC from a zero register is the CRC of everything folded.
  uint64_t crc64 = _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(lane)));
  crc64 = _mm_crc32_u64(crc64, static_cast<uint64_t>(_mm_extract_epi64(lane, 1)));
  return static_cast<uint32_t>(crc64);
}

KVC_AVX512_CLMUL uint32_t Crc32cAvx512(const uint8_t* data, size_t length, uint32_t seed) {
  if (length < 2 * kFoldBytes) return Crc32cSse42(data, length, seed);
  uint8_t* no_dst = nullptr;
  const uint32_t crc = FoldAvx512<false>(no_dst, data, length, ~seed);
  return Crc32cSse42(data, length, ~crc);
}

KVC_AVX512_CLMUL uint32_t CopyCrc32cAvx512(uint8_t* dst, const uint8_t* src, size_t length, uint32_t seed) {
  if (length < 2 * kFoldBytes) return CopyCrc32cSse42(dst, src, length, seed);
  const uint32_t crc = FoldAvx512<true>(dst, src, length, ~seed);
  return CopyCrc32cSse42(dst, src, length, ~crc);
}

#undef KVC_AVX512_CLMUL

#endif  // __x86_64__

}  // namespace

uint32_t Crc32c(const uint8_t* data, size_t length, uint32_t seed) {
#if defined(__x86_64__)
  if (SimdEnabled() && DetectedCpuFeatures().avx512_clmul && WideSimdEnabled()) return Crc32cAvx512(data, length, seed);
  if (SimdEnabled() && DetectedCpuFeatures().sse42) return Crc32cSse42(data, length, seed);
#endif
  return Crc32cScalar(data, length, seed);
}

uint32_t CopyCrc32c(uint8_t* dst, const uint8_t* src, size_t length, uint32_t seed) {
#if defined(__x86_64__)
  if (SimdEnabled() && DetectedCpuFeatures().avx512_clmul && WideSimdEnabled()) return CopyCrc32cAvx512(dst, src, length, seed);
  if (SimdEnabled() && DetectedCpuFeatures().sse42) return CopyCrc32cSse42(dst, src, length, seed);
#endif
  // Without the crc32 instruction the table-driven checksum is far slower than the copy: copy a
  // block and checksum it while it is in the first-level cache.
  uint32_t crc = seed;
  for (size_t done = 0; done < length; done += kCopyCrcBlockBytes) {
    const size_t block = length - done < kCopyCrcBlockBytes ? length - done : kCopyCrcBlockBytes;
    std::memcpy(dst + done, src + done, block);
    crc = Crc32c(dst + done, block, crc);
  }
  return crc;
}

}  // namespace kvc
