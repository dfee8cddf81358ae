// Durable appends for src/io's appenders: a positioned gathering write, its fdatasync and the drop
// of the pages that sync wrote, run back to back on one thread of libuv's pool (addon.cc's
// appendDurable), not as three calls each queued from the JavaScript thread in turn. Measured on a
// leader under puts (strace, docs/BENCHMARKS.md "A WAL save in one step"): 9 ms of each ~37 ms
// save passed between the write's end and the fdatasync's start, waiting for the JavaScript
// thread. This file knows nothing of Node-API.
#ifndef KVC_NATIVE_FILE_APPEND_H_
#define KVC_NATIVE_FILE_APPEND_H_

#include <sys/types.h>
#include <sys/uio.h>

#include <vector>

namespace kvc {

struct AppendOutcome {
  // 0, or the errno of the call that failed ("pwritev" or "fdatasync" in `failed_call`).
  int error = 0;
  const char* failed_call = "";
  // The errno of posix_fadvise, which does not fail the append (the pages stay cached).
  int drop_error = 0;
};

// Writes every byte of `chunks` at `position` (pwritev, continuing short writes and EINTR, at most
// IOV_MAX pieces per call), then fdatasync when `sync`, then, when `drop_length` > 0 and all went
// well, posix_fadvise(POSIX_FADV_DONTNEED) over [drop_offset, drop_offset + drop_length).
AppendOutcome AppendDurable(int fd, const std::vector<iovec>& chunks, off_t position, bool sync, off_t drop_offset,
                            off_t drop_length);

}  // namespace kvc

#endif  // KVC_NATIVE_FILE_APPEND_H_
