// The symbolic name of an errno value ("ENOMEM"), for error codes and notes that JavaScript
// callers can match on. glibc's strerrorname_np is not everywhere (musl), so the few values the
// addon can meet are listed; anything else reads "errno N".
#ifndef KVC_NATIVE_ERRNO_NAME_H_
#define KVC_NATIVE_ERRNO_NAME_H_

#include <cerrno>
#include <string>

namespace kvc {

inline std::string ErrnoName(int error) {
  switch (error) {
    case ENOMEM: return "ENOMEM";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EFAULT: return "EFAULT";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case EIO: return "EIO";
    case ESRCH: return "ESRCH";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case ENOSPC: return "ENOSPC";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EROFS: return "EROFS";
    case EBADF: return "EBADF";
    case EDQUOT: return "EDQUOT";
    case EFBIG: return "EFBIG";
    case EINTR: return "EINTR";
    default: return "errno " + std::to_string(error);
  }
}

}  // namespace kvc

#endif  // KVC_NATIVE_ERRNO_NAME_H_
