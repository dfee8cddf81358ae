#include "allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace kvc {

AllocatorTuning TuneAllocator(long mmap_threshold, long trim_threshold, long top_pad) {
  AllocatorTuning result;
#if defined(__GLIBC__)
  // mallopt returns 1 on success. Setting any of these turns off glibc's dynamic mmap threshold,
  // so the threshold is set first: if it is refused, the others are not set either.
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_threshold)) != 1) {
    result.note = "glibc refused M_MMAP_THRESHOLD " + std::to_string(mmap_threshold);
    return result;
  }
  if (mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold)) != 1 || mallopt(M_TOP_PAD, static_cast<int>(top_pad)) != 1) {
    result.note = "glibc refused M_TRIM_THRESHOLD or M_TOP_PAD";
    return result;
  }
  result.applied = true;
  result.note = "glibc malloc: mmap threshold " + std::to_string(mmap_threshold) + ", trim threshold " +
                std::to_string(trim_threshold) + ", top pad " + std::to_string(top_pad) + " bytes";
#else
  (void)mmap_threshold;
  (void)trim_threshold;
  (void)top_pad;
  result.note = "not glibc: the allocator is left as it is";
#endif
  return result;
}

AllocatorTrim TrimAllocator() {
  AllocatorTrim result;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  result.supported = true;
  result.released = malloc_trim(0) == 1;
  result.free_bytes = static_cast<double>(mallinfo2().fordblks);
#endif
  return result;
}

}  // namespace kvc
