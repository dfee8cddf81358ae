// Pinned regions (see pinned.h). Order matters: the NUMA policy must be set before the pages are
// faulted in (mbind places pages at fault time), and mlock/cudaHostRegister come last, on memory
// that is already resident.
#include "pinned.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "errno-name.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL and the pages are touched
#endif

namespace kvc {

namespace {

constexpr long kMpolBind = 2;  // MPOL_BIND from <linux/mempolicy.h>
constexpr size_t kMaskBits = kNumaNodeIdMax + 1;
constexpr size_t kBitsPerWord = 8 * sizeof(unsigned long);
// cudaHostRegisterPortable: the region counts as pinned for every CUDA context, not only the
// current one.
constexpr unsigned int kCudaHostRegisterPortable = 1;
constexpr int kCudaSuccess = 0;
// cudaErrorInsufficientDriver and cudaErrorNoDevice: the runtime library is installed but there
// is no GPU to use (a CUDA toolkit on a machine without one). That is the same as no CUDA.
constexpr int kCudaErrorInsufficientDriver = 35;
constexpr int kCudaErrorNoDevice = 100;

size_t RoundUp(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// mmap gives page alignment only: map one huge page more and unmap the unaligned head and tail.
void* MapAligned(size_t bytes, int& error) {
  const size_t span = bytes + kHugePageBytes;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    error = errno;
    return nullptr;
  }
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = RoundUp(start, kHugePageBytes);
  const size_t head = aligned - start;
  const size_t tail = span - head - bytes;
  if (head > 0) ::munmap(raw, head);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  return reinterpret_cast<void*>(aligned);
}

// Binds the (not yet faulted) range to `node`; returns 0 or an errno.
int Bind(void* base, size_t bytes, int node) {
#if defined(__linux__) && defined(SYS_mbind)
  unsigned long mask[kMaskBits / kBitsPerWord] = {};
  mask[node / kBitsPerWord] |= 1UL << (node % kBitsPerWord);
  // The kernel reads maxnode - 1 bits (a historical off-by-one that libnuma also accounts for).
  const long result = ::syscall(SYS_mbind, base, bytes, kMpolBind, mask, kMaskBits + 1, 0UL);
  return result == 0 ? 0 : errno;
#else
  (void)base;
  (void)bytes;
  (void)node;
  return ENOSYS;
#endif
}

// Faults every page in now, so the first request that touches the region does not pay for it.
int Populate(void* base, size_t bytes) {
  if (::madvise(base, bytes, MADV_POPULATE_WRITE) == 0) return 0;
  if (errno != EINVAL) return errno;  // ENOMEM: the node (or the machine) has no room
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  volatile char* bytes_view = static_cast<volatile char*>(base);
  for (size_t offset = 0; offset < bytes; offset += page) bytes_view[offset] = 0;
  return 0;
}

std::string MlockNote(int error, size_t bytes) {
  struct rlimit limit;
  std::string allowed = "unknown";
  if (::getrlimit(RLIMIT_MEMLOCK, &limit) == 0) {
    allowed = limit.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(limit.rlim_cur) + " bytes";
  }
  return std::string("not mlocked: mlock failed (") + ErrnoName(error) + "); RLIMIT_MEMLOCK is " + allowed +
         " and the region needs " + std::to_string(bytes) + " bytes (raise `ulimit -l` or grant CAP_IPC_LOCK)";
}

struct CudaRuntime {
  int (*host_register)(void*, size_t, unsigned int) = nullptr;
  int (*host_unregister)(void*) = nullptr;
};

// CUDA's runtime library, looked up once; absent (the usual case here) means no registration.
// KVC_NATIVE_CUDA=0 skips it, because registering creates a CUDA context in every process.
const CudaRuntime& Cuda() {
  static const CudaRuntime runtime = [] {
    CudaRuntime found;
    const char* setting = std::getenv("KVC_NATIVE_CUDA");
    if (setting != nullptr && std::strcmp(setting, "0") == 0) return found;
    for (const char* name : {"libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0"}) {
      void* library = ::dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (library == nullptr) continue;
      found.host_register = reinterpret_cast<int (*)(void*, size_t, unsigned int)>(::dlsym(library, "cudaHostRegister"));
      found.host_unregister = reinterpret_cast<int (*)(void*)>(::dlsym(library, "cudaHostUnregister"));
      if (found.host_register != nullptr && found.host_unregister != nullptr) return found;
      found = CudaRuntime();  // the library stays loaded; a process loads it at most once per name
    }
    return found;
  }();
  return runtime;
}

void AppendNote(std::string& note, const std::string& line) {
  if (!note.empty()) note += "; ";
  note += line;
}

// mlock and CUDA registration: failures become notes, never errors.
void Pin(PinnedOutcome& outcome) {
  PinnedMapping& mapping = outcome.mapping;
  if (::mlock(mapping.base, mapping.mapped_bytes) == 0) {
    mapping.mlocked = true;
  } else {
    AppendNote(outcome.note, MlockNote(errno, mapping.mapped_bytes));
  }
  static std::atomic<bool> no_gpu{false};
  const CudaRuntime& cuda = Cuda();
  if (cuda.host_register == nullptr || no_gpu.load(std::memory_order_relaxed)) return;
  const int status = cuda.host_register(mapping.base, mapping.mapped_bytes, kCudaHostRegisterPortable);
  mapping.cuda_registered = status == kCudaSuccess;
  if (status == kCudaErrorInsufficientDriver || status == kCudaErrorNoDevice) {
    no_gpu.store(true, std::memory_order_relaxed);  // no GPU: skip silently from now on
  } else if (status != kCudaSuccess) {
    AppendNote(outcome.note, "cudaHostRegister failed with CUDA error " + std::to_string(status));
  }
}

}  // namespace

PinnedOutcome MapPinned(size_t bytes, int numa_node) {
  PinnedOutcome outcome;
  const size_t mapped_bytes = RoundUp(bytes, kHugePageBytes);
  int error = 0;
  void* base = MapAligned(mapped_bytes, error);
  if (base == nullptr) {
    outcome.error = error;
    outcome.syscall = "mmap";
    return outcome;
  }
  // Transparent huge pages cut TLB misses when a page is streamed; where THP is off this fails
  // and the region simply uses 4 KiB pages.
  ::madvise(base, mapped_bytes, MADV_HUGEPAGE);
  if (numa_node >= 0) {
    const int bind_error = Bind(base, mapped_bytes, numa_node);
    if (bind_error == 0) {
      outcome.numa_node = numa_node;
    } else {
      AppendNote(outcome.note, std::string("not bound to NUMA node ") + std::to_string(numa_node) + ": mbind failed (" +
                                   ErrnoName(bind_error) + ")");
    }
  }
  const int populate_error = Populate(base, mapped_bytes);
  if (populate_error != 0) {
    ::munmap(base, mapped_bytes);
    outcome.error = populate_error;
    outcome.syscall = "madvise(MADV_POPULATE_WRITE)";
    return outcome;
  }
  outcome.mapping.base = base;
  outcome.mapping.mapped_bytes = mapped_bytes;
  Pin(outcome);
  return outcome;
}

namespace {

// Maps `fd` (already sized to `bytes`) shared and writable at a kHugePageBytes-aligned address:
// an aligned anonymous reservation replaced by the file mapping (MAP_FIXED).
void* MapFileAligned(int fd, size_t bytes, int& error) {
  void* reserved = MapAligned(bytes, error);
  if (reserved == nullptr) return nullptr;
  void* mapped = ::mmap(reserved, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  if (mapped == MAP_FAILED) {
    error = errno;
    ::munmap(reserved, bytes);
    return nullptr;
  }
  return mapped;
}

PinnedOutcome SharedFailure(PinnedOutcome outcome, const std::string& path, int fd, void* base, size_t bytes,
                            int error, const char* syscall) {
  if (base != nullptr) ::munmap(base, bytes);
  if (fd >= 0) ::close(fd);
  ::unlink(path.c_str());
  outcome.error = error;
  outcome.syscall = syscall;
  return outcome;
}

}  // namespace

PinnedOutcome MapSharedPinned(const std::string& path, size_t bytes, int numa_node, const unsigned char* header,
                              size_t header_bytes) {
  PinnedOutcome outcome;
  const size_t file_bytes = kSharedDataOffset + RoundUp(bytes, kHugePageBytes);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    outcome.error = errno;
    outcome.syscall = "open";
    return outcome;  // nothing of ours to remove: the file existed or could not be made
  }
  // The umask can only take bits away from 0600; fchmod makes the mode exact all the same.
  if (::fchmod(fd, 0600) != 0) return SharedFailure(outcome, path, fd, nullptr, 0, errno, "fchmod");
  if (::ftruncate(fd, static_cast<off_t>(file_bytes)) != 0) return SharedFailure(outcome, path, fd, nullptr, 0, errno, "ftruncate");
  int error = 0;
  void* base = MapFileAligned(fd, file_bytes, error);
  if (base == nullptr) return SharedFailure(outcome, path, fd, nullptr, 0, error, "mmap");
  // tmpfs honours it where shmem huge pages are enabled; hugetlbfs is huge already (EINVAL there).
  ::madvise(base, file_bytes, MADV_HUGEPAGE);
  if (numa_node >= 0) {
    // On a shared mapping mbind sets the file's own policy, which fallocate below allocates by.
    const int bind_error = Bind(base, file_bytes, numa_node);
    if (bind_error == 0) {
      outcome.numa_node = numa_node;
    } else {
      AppendNote(outcome.note, std::string("not bound to NUMA node ") + std::to_string(numa_node) + ": mbind failed (" +
                                   ErrnoName(bind_error) + ")");
    }
  }
#if defined(__linux__)
  if (::fallocate(fd, 0, 0, static_cast<off_t>(file_bytes)) != 0 && errno != EOPNOTSUPP) {
    return SharedFailure(outcome, path, fd, base, file_bytes, errno, "fallocate");
  }
#endif
  ::close(fd);
  const int populate_error = Populate(base, file_bytes);
  if (populate_error != 0) return SharedFailure(outcome, path, -1, base, file_bytes, populate_error, "madvise(MADV_POPULATE_WRITE)");
  if (header_bytes > 0) std::memcpy(base, header, header_bytes < kSharedDataOffset ? header_bytes : kSharedDataOffset);
  outcome.mapping.base = base;
  outcome.mapping.mapped_bytes = file_bytes;
  Pin(outcome);
  return outcome;
}

int MapReadOnly(const std::string& path, void*& base, size_t& bytes, const char*& syscall) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    syscall = "open";
    return errno;
  }
  struct stat info;
  if (::fstat(fd, &info) != 0 || info.st_size <= 0) {
    const int error = info.st_size <= 0 ? EINVAL : errno;
    ::close(fd);
    syscall = "fstat";
    return error;
  }
  bytes = static_cast<size_t>(info.st_size);
  // MAP_POPULATE: the member keeps the whole file resident, so fault its page tables in now
  // rather than at the first read of every page.
#if defined(MAP_POPULATE)
  constexpr int kPopulate = MAP_POPULATE;
#else
  constexpr int kPopulate = 0;  // not Linux: pages fault in at first read instead
#endif
  void* mapped = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED | kPopulate, fd, 0);
  const int error = mapped == MAP_FAILED ? errno : 0;
  ::close(fd);
  if (error != 0) {
    syscall = "mmap";
    return error;
  }
  base = mapped;
  return 0;
}

void UnmapPinned(const PinnedMapping& mapping) {
  if (mapping.cuda_registered) Cuda().host_unregister(mapping.base);
  if (mapping.mlocked) ::munlock(mapping.base, mapping.mapped_bytes);
  ::munmap(mapping.base, mapping.mapped_bytes);
}

}  // namespace kvc
