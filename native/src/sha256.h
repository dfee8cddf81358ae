// SHA-256 (FIPS 180-4) of short messages, for the shared lookup index's page fingerprints
// (shared-lookup.h): a client hashes every key it looks up, and one call into the addon for all of
// a lookup's keys costs less than a crypto.hash call per key from JavaScript (the hashing was 60 %
// of a same-host lookup's CPU there). Portable code: a fingerprint hashes one or two blocks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvc {

constexpr size_t kSha256Bytes = 32;

// The SHA-256 digest of `first` followed by `second` (either may be empty), into `out`.
void Sha256Two(const uint8_t* first, size_t first_length, const uint8_t* second, size_t second_length,
               uint8_t out[kSha256Bytes]);

}  // namespace kvc
