// The shared lookup index: a fixed-capacity hash set of 64-bit page fingerprints in a shared-memory
// file, so that a client on the same host as a cache member answers Lookup from the member's own
// index without a round trip. The member is the only writer (one thread); clients in other
// processes map the file read-only and read it without locks.
//
// Why a seqlock: there is one writer and many readers in other processes, and a reader must never
// block the writer (a client that stalls or dies holding a lock would stall the member). Readers
// instead notice that the writer was busy while they read (the counter `seq` is odd, or changed)
// and read again. Why tombstones: a reader probes without a lock, so a removal cannot move the
// other entries of a probe chain back (a reader between the two moves would miss one); it marks
// the slot instead, and rebuild clears the marks.
//
// The file format (v1) is shared with the Python reader; all integers little-endian:
//   0 magic "KVCLKUP1" | 8 version u32 = 1 | 12 header_bytes u32 = 4096 | 16 nonce (16 bytes) |
//   32 capacity u64 (slots, a power of two >= 1024) | 40 seq u64 (odd while the writer modifies
//   slots or counters) | 48 used u64 | 56 tombstones u64 | 64 retired u32 (1: the writer replaced
//   or closed this file and readers must stop using it) | 68 writer pid u32 (for the sweep of
//   files whose writer is gone; readers ignore it) | zero up to 4096 |
//   4096 slots u64[capacity]: 0 empty, 1 tombstone, anything else a fingerprint.
// A fingerprint's home slot is fp & (capacity - 1); probing is linear (+1, wrapping), ends at an
// empty slot (absent) or at the fingerprint (present), skips tombstones, and visits at most
// `capacity` slots. Fingerprints are computed in TypeScript and Python (src/native/shared-lookup.ts);
// here they arrive as arrays of n unaligned little-endian u64s.
//
// Nothing here knows Node-API; addon.cc wraps it for JavaScript.
#ifndef KVC_NATIVE_SHARED_LOOKUP_H_
#define KVC_NATIVE_SHARED_LOOKUP_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace kvc {

constexpr size_t kLookupHeaderBytes = 4096;
constexpr size_t kLookupNonceBytes = 16;
constexpr uint32_t kLookupVersion = 1;
constexpr uint64_t kLookupCapacityMin = 1024;
constexpr uint64_t kLookupCapacityMax = uint64_t{1} << 32;
constexpr size_t kFingerprintBytes = 8;
// What MatchLookup answers instead of a count: the writer kept modifying the index through every
// attempt, or it retired the file.
constexpr int64_t kLookupBusy = -1;
constexpr int64_t kLookupRetired = -2;

// A mapping of a whole index file; base is nullptr once unmapped.
struct LookupMapping {
  uint8_t* base = nullptr;
  size_t bytes = 0;
  uint64_t capacity = 0;
};

// The outcome of CreateLookup / OpenLookup: mapping.base is set on success; otherwise either a
// system call failed (error is its errno, syscall its name) or, for OpenLookup, the file is not a
// valid index and `invalid` says why.
struct LookupOutcome {
  LookupMapping mapping;
  int error = 0;
  const char* syscall = "";
  std::string invalid;
};

struct LookupStats {
  uint64_t capacity;
  uint64_t used;
  uint64_t tombstones;
  uint64_t seq;
};

// A power of two from kLookupCapacityMin to kLookupCapacityMax.
bool IsLookupCapacity(uint64_t capacity);

// The writer's side. CreateLookup makes `path` exclusively (EEXIST when it exists), mode 0600, sized
// for `capacity` (which must pass IsLookupCapacity), with the header written and every slot empty;
// it maps it read-write. On failure the file is removed again.
LookupOutcome CreateLookup(const std::string& path, uint64_t capacity, const uint8_t* nonce);
// A reader's side: maps `path` read-only and checks its header and size.
LookupOutcome OpenLookup(const std::string& path);
// Unmaps (either side) and sets mapping.base to nullptr.
void UnmapLookup(LookupMapping& mapping);

// The index of the first of `count` fingerprints that is 0 or 1 (an empty slot's or a tombstone's
// value, never a fingerprint), or `count` when there is none.
size_t FindReservedFingerprint(const uint8_t* fingerprints, size_t count);

// The most slots that may be taken (fingerprints and tombstones): 90% of the capacity, rounded
// down. The writer keeps to it so that every probe meets an empty slot well before it has visited
// the whole table; its owner grows or rebuilds the index long before.
uint64_t LookupRoom(uint64_t capacity);

// The writer's operations; only the thread of the process that created the file calls them, on a
// mapping from CreateLookup, with fingerprints FindReservedFingerprint accepted.
// Whether `adds` more entries keep used + tombstones within LookupRoom, as ApplyLookup needs.
bool LookupHasRoomFor(const LookupMapping& mapping, uint64_t adds);
// Removes, then adds, in one write section. LookupHasRoomFor(add_count) must hold.
void ApplyLookup(const LookupMapping& mapping, const uint8_t* adds, size_t add_count, const uint8_t* removes,
                 size_t remove_count);
// Replaces the whole set (duplicates count once) in one write section; count must be within
// LookupRoom.
void RebuildLookup(const LookupMapping& mapping, const uint8_t* fingerprints, size_t count);
// Marks the file retired, in a write section so readers that started before see `seq` change.
void RetireLookup(const LookupMapping& mapping);
LookupStats ReadLookupStats(const LookupMapping& mapping);
// Copies the fingerprints in the table (slot order) to `out`, which has room for `count` (the used
// counter); returns how many it copied, or count + 1 when the table holds more (either mismatch
// is a broken invariant). For compacting or growing the index from its own contents (writer only).
size_t CopyLiveFingerprints(const LookupMapping& mapping, uint8_t* out, size_t count);

// A reader's operations (any process, any thread).
// The length of the longest prefix of `fingerprints` that are all present, or kLookupBusy, or
// kLookupRetired.
int64_t MatchLookup(const LookupMapping& mapping, const uint8_t* fingerprints, size_t count);

// One page key: its bytes in the caller's memory.
struct KeyBytes {
  const uint8_t* data;
  size_t length;
};

// The fingerprint of a page whose namespace is `prefix` minus its last byte (prefix = the
// namespace's UTF-8 bytes and 0x00) and whose key is `key`: the first 8 bytes of
// SHA-256(prefix || key) as a little-endian u64, 0 and 1 made 2 and 3.
uint64_t KeyFingerprint(const uint8_t* prefix, size_t prefix_length, const KeyBytes& key);

// MatchLookup of the fingerprints of `keys` (KeyFingerprint with `prefix`), each hashed only once
// the match gets to it: a lookup that misses early hashes little.
int64_t MatchLookupKeys(const LookupMapping& mapping, const uint8_t* prefix, size_t prefix_length, const KeyBytes* keys,
                        size_t count);
bool IsLookupRetired(const LookupMapping& mapping);
// Copies the kLookupNonceBytes nonce out of the header.
void CopyLookupNonce(const LookupMapping& mapping, uint8_t* nonce);

}  // namespace kvc

#endif  // KVC_NATIVE_SHARED_LOOKUP_H_
