// Pinned memory regions: anonymous mappings rounded up to 2 MiB, aligned to 2 MiB, with
// transparent huge pages requested, bound to a NUMA node with mbind(2) when one is asked for,
// pre-faulted, mlock(2)ed when RLIMIT_MEMLOCK (or CAP_IPC_LOCK) allows, and registered with CUDA
// (cudaHostRegister through dlopen("libcudart.so")) when CUDA's runtime library and a GPU are
// present; KVC_NATIVE_CUDA=0 turns registration off.
// Only allocation failures are errors; everything else that does not work is reported in `note`.
#ifndef KVC_NATIVE_PINNED_H_
#define KVC_NATIVE_PINNED_H_

#include <cstddef>
#include <string>

namespace kvc {

constexpr size_t kHugePageBytes = size_t{2} << 20;
// Node ids fit the nodemask given to mbind(2); Linux's own limit (MAX_NUMNODES) is at most 1024.
constexpr int kNumaNodeIdMax = 1023;

struct PinnedMapping {
  void* base = nullptr;       // start of the mapping, kHugePageBytes-aligned
  size_t mapped_bytes = 0;    // the requested bytes rounded up to kHugePageBytes
  bool mlocked = false;
  bool cuda_registered = false;
};

struct PinnedOutcome {
  PinnedMapping mapping;      // base == nullptr on failure
  int numa_node = -1;         // the node the mapping is bound to, -1 for none
  std::string note;           // '' or why not mlocked / not bound / not registered
  int error = 0;              // errno of the failed call when base == nullptr
  const char* syscall = "";   // name of the failed call when base == nullptr
};

// numa_node -1 means "do not bind".
PinnedOutcome MapPinned(size_t bytes, int numa_node);
// Undoes MapPinned: cudaHostUnregister, munlock, munmap.
void UnmapPinned(const PinnedMapping& mapping);

// The same kind of region in a shared-memory file, so that other processes of the host can map it
// (the same-host read path, docs/ARCHITECTURE.md). `path` is created here, exclusively (an
// existing file is EEXIST: the caller removes stale files first) with mode 0600, sized to
// kSharedDataOffset + `bytes` rounded up to kHugePageBytes, and allocated with fallocate, so a
// full /dev/shm (or a hugetlbfs pool without free pages) fails here with ENOSPC instead of
// killing the process with SIGBUS at a later first touch. The mapping covers the whole file
// (mapping.base is the file's start); `header` (at most kSharedDataOffset bytes) is written at
// its start and the payload bytes begin kSharedDataOffset bytes in, so they stay huge-page
// aligned. On failure the file is removed again. Removing it when no new reader should map it is
// the caller's job; unmapping is UnmapPinned's.
constexpr size_t kSharedDataOffset = kHugePageBytes;
PinnedOutcome MapSharedPinned(const std::string& path, size_t bytes, int numa_node, const unsigned char* header,
                              size_t header_bytes);

// A read-only, shared mapping of a whole file (a reader of another process's shared region),
// pre-faulted with MAP_POPULATE. Returns 0 and fills `base`/`bytes`, or an errno with `syscall`.
int MapReadOnly(const std::string& path, void*& base, size_t& bytes, const char*& syscall);

}  // namespace kvc

#endif  // KVC_NATIVE_PINNED_H_
