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

}  // namespace kvc

#endif  // KVC_NATIVE_PINNED_H_
