#include "file-append.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace kvc {

namespace {

#ifdef IOV_MAX
constexpr size_t kIovMax = IOV_MAX;
#else
constexpr size_t kIovMax = 1024;
#endif

// pwritev until every byte of `chunks` is written: 0 or errno.
int WriteAll(int fd, std::vector<iovec> pending, off_t position) {
  size_t first = 0;
  for (;;) {
    while (first < pending.size() && pending[first].iov_len == 0) first++;
    if (first == pending.size()) return 0;
    const int count = static_cast<int>(std::min(kIovMax, pending.size() - first));
    const ssize_t written = ::pwritev(fd, pending.data() + first, count, position);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    // A write of nothing would loop forever; the disk is as good as full.
    if (written == 0) return ENOSPC;
    position += written;
    size_t left = static_cast<size_t>(written);
    while (first < pending.size() && left >= pending[first].iov_len) {
      left -= pending[first].iov_len;
      first++;
    }
    if (left > 0) {
      pending[first].iov_base = static_cast<char*>(pending[first].iov_base) + left;
      pending[first].iov_len -= left;
    }
  }
}

}  // namespace

AppendOutcome AppendDurable(int fd, const std::vector<iovec>& chunks, off_t position, bool sync, off_t drop_offset,
                            off_t drop_length) {
  AppendOutcome outcome;
  outcome.error = WriteAll(fd, chunks, position);
  if (outcome.error != 0) {
    outcome.failed_call = "pwritev";
    return outcome;
  }
  if (sync) {
    int synced;
    do {
      synced = ::fdatasync(fd);
    } while (synced != 0 && errno == EINTR);
    if (synced != 0) {
      outcome.error = errno;
      outcome.failed_call = "fdatasync";
      return outcome;
    }
  }
  if (drop_length > 0) outcome.drop_error = ::posix_fadvise(fd, drop_offset, drop_length, POSIX_FADV_DONTNEED);
  return outcome;
}

}  // namespace kvc
