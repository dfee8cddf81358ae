// Process-wide tuning of the C allocator for a process that moves MiB-sized buffers all day.
#pragma once

#include <string>

namespace kvc {

struct AllocatorTuning {
  bool applied = false;
  // One line: what was set, or why nothing was.
  std::string note;
};

// glibc: buffers below `mmap_threshold` come from the heap instead of a fresh mmap each, and up to
// `trim_threshold` of free heap is kept instead of being handed back at once (`top_pad` is added
// to every heap growth). A fresh mmap costs a page fault per 4 KiB page on first touch, which on a
// virtual machine made a new 1 MiB buffer cost ~3 ms instead of ~0.1 ms when reused. Elsewhere: a
// no-op that says so.
AllocatorTuning TuneAllocator(long mmap_threshold, long trim_threshold, long top_pad);

struct AllocatorTrim {
  bool supported = false;
  // malloc_trim handed memory back.
  bool released = false;
  // Free bytes in the allocator's arenas (mallinfo2 fordblks), trimmed pages included.
  double free_bytes = 0;
};

// glibc: malloc_trim(0), which hands every free page of every arena back to the kernel, the ones
// in the middle of the heap too (madvise), not only the top the trim threshold governs. With the
// tuning above, 2 MiB buffers come from the brk heap, where one live buffer near the top keeps
// every free page below it resident: after a burst of puts a member held 100-200 MiB of free heap.
AllocatorTrim TrimAllocator();

}  // namespace kvc
