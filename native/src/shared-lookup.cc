// The shared lookup index (see shared-lookup.h for why it exists and the file format).
//
// Memory ordering. The file is shared with other processes, so every access to seq, the counters,
// retired and the slots is an __atomic builtin on the mapping (plain accesses would be data races
// the compiler may tear, merge or reorder). The seqlock is the classic fence-based one:
//   writer: s = seq; seq = s + 1 (relaxed); release fence; relaxed stores ...; seq = s + 2 (release)
//   reader: s1 = seq (acquire); relaxed loads ...; acquire fence; s2 = seq (relaxed); valid iff
//           s1 == s2 and s1 is even.
// The release fence keeps the odd seq ahead of the slot stores, so a reader that saw any of them
// (and then fenced) sees seq moved on; the release store of s + 2 publishes the stores to a reader
// whose acquire load sees it. A reader may meet a half-written table while it probes; it only
// reads (each probe is bounded by the capacity), and throws the answer away when seq moved.
#include "shared-lookup.h"

#include "sha256.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

// Fingerprints and header fields are little-endian in the file and read with memcpy.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the shared lookup index format is little-endian");

namespace kvc {

namespace {

constexpr char kMagic[] = "KVCLKUP1";
constexpr size_t kMagicOffset = 0;
constexpr size_t kVersionOffset = 8;
constexpr size_t kHeaderBytesOffset = 12;
constexpr size_t kNonceOffset = 16;
constexpr size_t kCapacityOffset = 32;
constexpr size_t kSeqOffset = 40;
constexpr size_t kUsedOffset = 48;
constexpr size_t kTombstonesOffset = 56;
constexpr size_t kRetiredOffset = 64;
// The writer's pid: a member killed with SIGKILL cannot remove its file; the next member start in
// the directory removes files whose writer is gone (src/store pinned-memory.ts, the arena sweep).
constexpr size_t kPidOffset = 68;
constexpr uint64_t kEmpty = 0;
constexpr uint64_t kTombstone = 1;
constexpr uint64_t kNoSlot = ~uint64_t{0};
// LookupRoom's share of the capacity: 9/10.
constexpr uint64_t kLoadNumerator = 9;
constexpr uint64_t kLoadDenominator = 10;
// A reader's attempts before it answers kLookupBusy; it spins with a pause for the first ones
// (a write section lasts microseconds) and yields its CPU for the rest (the writer may be
// descheduled, or rebuilding).
constexpr int kMatchAttempts = 16;
constexpr int kMatchSpinAttempts = 8;

uint64_t MagicValue() {
  uint64_t value = 0;
  std::memcpy(&value, kMagic, sizeof value);
  return value;
}

uint64_t* Word(const LookupMapping& mapping, size_t offset) { return reinterpret_cast<uint64_t*>(mapping.base + offset); }

uint32_t* HalfWord(const LookupMapping& mapping, size_t offset) {
  return reinterpret_cast<uint32_t*>(mapping.base + offset);
}

uint64_t* Slots(const LookupMapping& mapping) { return Word(mapping, kLookupHeaderBytes); }

uint64_t FingerprintAt(const uint8_t* fingerprints, size_t index) {
  uint64_t value = 0;
  std::memcpy(&value, fingerprints + index * kFingerprintBytes, sizeof value);
  return value;
}

uint64_t FileBytes(uint64_t capacity) { return kLookupHeaderBytes + capacity * sizeof(uint64_t); }

// Walks fp's probe path. Returns the slot holding fp, or kNoSlot when fp is absent; then
// `free_slot` is where an insert goes: the first tombstone on the path, else the empty slot that
// ended it (kNoSlot only when the path had neither, which the writer's load limit rules out).
uint64_t Probe(const uint64_t* slots, uint64_t capacity, uint64_t fp, uint64_t& free_slot) {
  const uint64_t mask = capacity - 1;
  free_slot = kNoSlot;
  uint64_t slot = fp & mask;
  for (uint64_t visited = 0; visited < capacity; visited++, slot = (slot + 1) & mask) {
    const uint64_t value = __atomic_load_n(&slots[slot], __ATOMIC_RELAXED);
    if (value == fp) return slot;
    if (value == kEmpty) {
      if (free_slot == kNoSlot) free_slot = slot;
      return kNoSlot;
    }
    if (value == kTombstone && free_slot == kNoSlot) free_slot = slot;
  }
  return kNoSlot;
}

void StoreRelaxed(uint64_t* word, uint64_t value) { __atomic_store_n(word, value, __ATOMIC_RELAXED); }

uint64_t LoadRelaxed(const uint64_t* word) { return __atomic_load_n(word, __ATOMIC_RELAXED); }

// Opens a write section and returns the even seq it started from (EndWrite's argument).
uint64_t BeginWrite(const LookupMapping& mapping) {
  uint64_t* seq = Word(mapping, kSeqOffset);
  const uint64_t start = LoadRelaxed(seq);
  StoreRelaxed(seq, start + 1);
  std::atomic_thread_fence(std::memory_order_release);
  return start;
}

void EndWrite(const LookupMapping& mapping, uint64_t start) {
  __atomic_store_n(Word(mapping, kSeqOffset), start + 2, __ATOMIC_RELEASE);
}

// Inserts fp unless present; returns the counters' changes through `used` and `tombstones`.
void Insert(uint64_t* slots, uint64_t capacity, uint64_t fp, uint64_t& used, uint64_t& tombstones) {
  uint64_t free_slot = kNoSlot;
  if (Probe(slots, capacity, fp, free_slot) != kNoSlot) return;
  // A broken invariant, not an operating error: LookupHasRoomFor keeps empty slots in the table.
  if (free_slot == kNoSlot) std::abort();
  if (LoadRelaxed(&slots[free_slot]) == kTombstone) tombstones--;
  StoreRelaxed(&slots[free_slot], fp);
  used++;
}

void Pause(int attempt) {
  if (attempt >= kMatchSpinAttempts) {
    ::sched_yield();
    return;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

LookupOutcome Failure(int error, const char* syscall) {
  LookupOutcome outcome;
  outcome.error = error;
  outcome.syscall = syscall;
  return outcome;
}

LookupOutcome CreateFailure(const std::string& path, int fd, int error, const char* syscall) {
  ::close(fd);
  ::unlink(path.c_str());
  return Failure(error, syscall);
}

LookupOutcome Invalid(LookupMapping& mapping, const std::string& why) {
  UnmapLookup(mapping);
  LookupOutcome outcome;
  outcome.invalid = "not a shared lookup index: " + why;
  return outcome;
}

// Checks a mapped file's header and size; "" when it is a version 1 index.
std::string HeaderProblem(const LookupMapping& mapping) {
  if (__atomic_load_n(Word(mapping, kMagicOffset), __ATOMIC_ACQUIRE) != MagicValue()) return "bad magic";
  uint32_t version = 0;
  uint32_t header_bytes = 0;
  uint64_t capacity = 0;
  std::memcpy(&version, mapping.base + kVersionOffset, sizeof version);
  std::memcpy(&header_bytes, mapping.base + kHeaderBytesOffset, sizeof header_bytes);
  std::memcpy(&capacity, mapping.base + kCapacityOffset, sizeof capacity);
  if (version != kLookupVersion) return "version " + std::to_string(version) + " (only 1 is known)";
  if (header_bytes != kLookupHeaderBytes) {
    return "header_bytes " + std::to_string(header_bytes) + " (" + std::to_string(kLookupHeaderBytes) + " expected)";
  }
  if (!IsLookupCapacity(capacity)) {
    return "capacity " + std::to_string(capacity) + " is not a power of two from 1024 to 2^32";
  }
  if (mapping.bytes != FileBytes(capacity)) {
    return "the file has " + std::to_string(mapping.bytes) + " bytes, " + std::to_string(FileBytes(capacity)) +
           " expected for capacity " + std::to_string(capacity);
  }
  return "";
}

}  // namespace

bool IsLookupCapacity(uint64_t capacity) {
  return capacity >= kLookupCapacityMin && capacity <= kLookupCapacityMax && (capacity & (capacity - 1)) == 0;
}

LookupOutcome CreateLookup(const std::string& path, uint64_t capacity, const uint8_t* nonce) {
  const size_t bytes = FileBytes(capacity);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  // Nothing of ours to remove: the file existed or could not be made.
  if (fd < 0) return Failure(errno, "open");
  // The umask can only take bits away from 0600; fchmod makes the mode exact all the same.
  if (::fchmod(fd, 0600) != 0) return CreateFailure(path, fd, errno, "fchmod");
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) return CreateFailure(path, fd, errno, "ftruncate");
#if defined(__linux__)
  // Allocates tmpfs pages now, so a full /dev/shm fails here with ENOSPC rather than killing the
  // process with SIGBUS when the writer first touches a slot.
  if (::fallocate(fd, 0, 0, static_cast<off_t>(bytes)) != 0 && errno != EOPNOTSUPP) {
    return CreateFailure(path, fd, errno, "fallocate");
  }
#endif
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return CreateFailure(path, fd, errno, "mmap");
  // The mapping keeps the file; the descriptor has no further use.
  ::close(fd);
  LookupOutcome outcome;
  outcome.mapping = LookupMapping{static_cast<uint8_t*>(base), bytes, capacity};
  uint8_t* header = outcome.mapping.base;
  const uint32_t version = kLookupVersion;
  const uint32_t header_bytes = kLookupHeaderBytes;
  std::memcpy(header + kVersionOffset, &version, sizeof version);
  std::memcpy(header + kHeaderBytesOffset, &header_bytes, sizeof header_bytes);
  std::memcpy(header + kNonceOffset, nonce, kLookupNonceBytes);
  std::memcpy(header + kCapacityOffset, &capacity, sizeof capacity);
  const uint32_t pid = static_cast<uint32_t>(::getpid());
  std::memcpy(header + kPidOffset, &pid, sizeof pid);
  // The magic goes last, with release: a reader that opens the file while it is being made sees
  // "bad magic" until the rest of the header is in place, never a half-written header.
  __atomic_store_n(Word(outcome.mapping, kMagicOffset), MagicValue(), __ATOMIC_RELEASE);
  return outcome;
}

LookupOutcome OpenLookup(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Failure(errno, "open");
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return Failure(error, "fstat");
  }
  LookupMapping mapping;
  mapping.bytes = static_cast<size_t>(info.st_size);
  if (mapping.bytes < kLookupHeaderBytes) {
    ::close(fd);
    LookupOutcome outcome;
    outcome.invalid = "not a shared lookup index: the file has " + std::to_string(mapping.bytes) +
                      " bytes, less than the " + std::to_string(kLookupHeaderBytes) + "-byte header";
    return outcome;
  }
  // MAP_POPULATE: a Lookup should not pay a page fault per probed page; the index is small.
#if defined(MAP_POPULATE)
  constexpr int kPopulate = MAP_POPULATE;
#else
  constexpr int kPopulate = 0;
#endif
  void* base = ::mmap(nullptr, mapping.bytes, PROT_READ, MAP_SHARED | kPopulate, fd, 0);
  const int error = base == MAP_FAILED ? errno : 0;
  ::close(fd);
  if (error != 0) return Failure(error, "mmap");
  mapping.base = static_cast<uint8_t*>(base);
  const std::string problem = HeaderProblem(mapping);
  if (!problem.empty()) return Invalid(mapping, problem);
  std::memcpy(&mapping.capacity, mapping.base + kCapacityOffset, sizeof mapping.capacity);
  LookupOutcome outcome;
  outcome.mapping = mapping;
  return outcome;
}

void UnmapLookup(LookupMapping& mapping) {
  if (mapping.base == nullptr) return;
  ::munmap(mapping.base, mapping.bytes);
  mapping.base = nullptr;
}

size_t FindReservedFingerprint(const uint8_t* fingerprints, size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (FingerprintAt(fingerprints, i) <= kTombstone) return i;
  }
  return count;
}

// No overflow: the capacity is at most 2^32.
uint64_t LookupRoom(uint64_t capacity) { return capacity * kLoadNumerator / kLoadDenominator; }

bool LookupHasRoomFor(const LookupMapping& mapping, uint64_t adds) {
  const uint64_t taken = LoadRelaxed(Word(mapping, kUsedOffset)) + LoadRelaxed(Word(mapping, kTombstonesOffset));
  return taken + adds <= LookupRoom(mapping.capacity);
}

void ApplyLookup(const LookupMapping& mapping, const uint8_t* adds, size_t add_count, const uint8_t* removes,
                 size_t remove_count) {
  uint64_t* slots = Slots(mapping);
  uint64_t used = LoadRelaxed(Word(mapping, kUsedOffset));
  uint64_t tombstones = LoadRelaxed(Word(mapping, kTombstonesOffset));
  const uint64_t start = BeginWrite(mapping);
  for (size_t i = 0; i < remove_count; i++) {
    uint64_t free_slot = kNoSlot;
    const uint64_t slot = Probe(slots, mapping.capacity, FingerprintAt(removes, i), free_slot);
    if (slot == kNoSlot) continue;
    StoreRelaxed(&slots[slot], kTombstone);
    used--;
    tombstones++;
  }
  for (size_t i = 0; i < add_count; i++) Insert(slots, mapping.capacity, FingerprintAt(adds, i), used, tombstones);
  StoreRelaxed(Word(mapping, kUsedOffset), used);
  StoreRelaxed(Word(mapping, kTombstonesOffset), tombstones);
  EndWrite(mapping, start);
}

void RebuildLookup(const LookupMapping& mapping, const uint8_t* fingerprints, size_t count) {
  uint64_t* slots = Slots(mapping);
  uint64_t used = 0;
  uint64_t tombstones = 0;
  const uint64_t start = BeginWrite(mapping);
  for (uint64_t slot = 0; slot < mapping.capacity; slot++) StoreRelaxed(&slots[slot], kEmpty);
  for (size_t i = 0; i < count; i++) Insert(slots, mapping.capacity, FingerprintAt(fingerprints, i), used, tombstones);
  StoreRelaxed(Word(mapping, kUsedOffset), used);
  StoreRelaxed(Word(mapping, kTombstonesOffset), tombstones);
  EndWrite(mapping, start);
}

void RetireLookup(const LookupMapping& mapping) {
  const uint64_t start = BeginWrite(mapping);
  __atomic_store_n(HalfWord(mapping, kRetiredOffset), uint32_t{1}, __ATOMIC_RELEASE);
  EndWrite(mapping, start);
}

LookupStats ReadLookupStats(const LookupMapping& mapping) {
  return LookupStats{mapping.capacity, LoadRelaxed(Word(mapping, kUsedOffset)),
                     LoadRelaxed(Word(mapping, kTombstonesOffset)), LoadRelaxed(Word(mapping, kSeqOffset))};
}

size_t CopyLiveFingerprints(const LookupMapping& mapping, uint8_t* out, size_t count) {
  const uint64_t* slots = Slots(mapping);
  size_t found = 0;
  for (uint64_t slot = 0; slot < mapping.capacity; slot++) {
    const uint64_t value = LoadRelaxed(&slots[slot]);
    if (value <= kTombstone) continue;
    if (found == count) return count + 1;
    std::memcpy(out + found * kFingerprintBytes, &value, sizeof value);
    found++;
  }
  return found;
}

namespace {

// The seqlock read of a lookup: how many of the `count` fingerprints `fingerprint(i)` gives, from
// the first, are present (see the file comment), retried while the writer changes the table.
template <typename Fingerprint>
int64_t MatchWith(const LookupMapping& mapping, size_t count, Fingerprint fingerprint) {
  const uint64_t* seq = Word(mapping, kSeqOffset);
  const uint64_t* slots = Slots(mapping);
  for (int attempt = 0; attempt < kMatchAttempts; attempt++) {
    if (attempt > 0) Pause(attempt);
    const uint64_t before = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
    if ((before & 1) != 0) continue;
    if (IsLookupRetired(mapping)) return kLookupRetired;
    int64_t matched = 0;
    for (size_t i = 0; i < count; i++) {
      uint64_t free_slot = kNoSlot;
      if (Probe(slots, mapping.capacity, fingerprint(i), free_slot) == kNoSlot) break;
      matched++;
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (LoadRelaxed(seq) == before) return matched;
  }
  return kLookupBusy;
}

}  // namespace

int64_t MatchLookup(const LookupMapping& mapping, const uint8_t* fingerprints, size_t count) {
  return MatchWith(mapping, count, [fingerprints](size_t i) { return FingerprintAt(fingerprints, i); });
}

uint64_t KeyFingerprint(const uint8_t* prefix, size_t prefix_length, const KeyBytes& key) {
  uint8_t digest[kSha256Bytes];
  Sha256Two(prefix, prefix_length, key.data, key.length, digest);
  uint64_t fp = 0;
  std::memcpy(&fp, digest, sizeof fp);
  return fp <= kTombstone ? fp + 2 : fp;
}

int64_t MatchLookupKeys(const LookupMapping& mapping, const uint8_t* prefix, size_t prefix_length, const KeyBytes* keys,
                        size_t count) {
  // Fingerprints hashed so far, kept across attempts (a retry probes again, it does not rehash);
  // a key is hashed only once the match gets to it.
  std::vector<uint64_t> fps;
  fps.reserve(count);
  return MatchWith(mapping, count, [&](size_t i) {
    if (i == fps.size()) fps.push_back(KeyFingerprint(prefix, prefix_length, keys[i]));
    return fps[i];
  });
}

bool IsLookupRetired(const LookupMapping& mapping) {
  return __atomic_load_n(HalfWord(mapping, kRetiredOffset), __ATOMIC_ACQUIRE) != 0;
}

void CopyLookupNonce(const LookupMapping& mapping, uint8_t* nonce) {
  std::memcpy(nonce, mapping.base + kNonceOffset, kLookupNonceBytes);
}

}  // namespace kvc
