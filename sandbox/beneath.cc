// Opening a path inside a directory without ever leaving it: no symlink is followed (not even a
// magic link), no `..` climbs above the start, an absolute path is refused. The kernel does it
// with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS). Where openat2 answers
// ENOSYS (systemd's RestrictSUIDSGID=yes filter refuses it, since it cannot inspect the mode inside
// struct open_how: docs/operations.md, "What the service may do"), the same rules are kept by
// walking one component at a time from descriptors: every component is opened with O_NOFOLLOW
// relative to the directory opened before it, a symlink found on the way is refused, and `..` is
// taken lexically before the walk, so a directory renamed or swapped meanwhile cannot lead out.
// Runs in jails: raw syscalls and stack buffers only (sandbox/steps.h).
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/beneath.h"

namespace clawjail::sandbox::detail {
namespace {

constexpr uint64_t kResolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

// With RESOLVE_BENEATH, a `..` walked while any mount or rename happens anywhere on the host
// fails with EAGAIN ("may retry", openat2(2)); concurrent jails mount all the time.
constexpr int kRaceRetries = 1000;

int fail_with(int err) {
  errno = err;
  return -1;
}

// `path` without `.` and with each `..` taking back the component before it, into `out` ("" is
// the start itself). EXDEV, as openat2 says for an escape, when it is absolute or a `..` would
// climb above the start.
bool normalize_beneath(const char* path, char (&out)[PATH_MAX]) {
  if (path[0] == '/') {
    errno = EXDEV;
    return false;
  }
  size_t len = 0;
  for (const char* p = path; *p;) {
    while (*p == '/') ++p;
    const char* end = p;
    while (*end && *end != '/') ++end;
    size_t n = static_cast<size_t>(end - p);
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      if (len == 0) {
        errno = EXDEV;
        return false;
      }
      while (len > 0 && out[len - 1] != '/') --len;
      if (len > 0) --len;
    } else if (n > 0 && !(n == 1 && p[0] == '.')) {
      if (len + 1 + n + 1 > sizeof out) {
        errno = ENAMETOOLONG;
        return false;
      }
      if (len > 0) out[len++] = '/';
      memcpy(out + len, p, n);
      len += n;
    }
    p = end;
  }
  out[len] = '\0';
  return true;
}

// The next directory of the walk, never through a symlink: O_PATH|O_NOFOLLOW opens a link itself,
// which is then refused as openat2 would (ELOOP).
int open_component(int dir, const char* name) {
  int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  int err = fstat(fd, &st) != 0 ? errno : S_ISLNK(st.st_mode) ? ELOOP : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
  if (err == 0) return fd;
  close(fd);
  return fail_with(err);
}

int walk_beneath(int dirfd, const char* path, int flags, mode_t mode) {
  char rel[PATH_MAX];
  if (!normalize_beneath(path, rel)) return -1;
  if (rel[0] == '\0') return openat(dirfd, ".", flags | O_CLOEXEC, mode);
  int cur = dirfd;
  char* name = rel;
  for (char* slash; (slash = strchr(name, '/')) != nullptr; name = slash + 1) {
    *slash = '\0';
    int next = open_component(cur, name);
    int err = errno;
    if (cur != dirfd) close(cur);
    if (next < 0) return fail_with(err);
    cur = next;
  }
  int fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
  int err = errno;
  // O_DIRECTORY on a symlink says ENOTDIR; openat2 says ELOOP, and so do we.
  struct stat st;
  if (fd < 0 && err == ENOTDIR && fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    err = ELOOP;
  if (cur != dirfd) close(cur);
  return fd >= 0 ? fd : fail_with(err);
}

}  // namespace

int open_beneath(int dirfd, const char* path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = kResolve;
  for (int attempt = 0;; ++attempt) {
    int fd = static_cast<int>(syscall(SYS_openat2, dirfd, path, &how, sizeof how));
    if (fd < 0 && errno == ENOSYS) return walk_beneath(dirfd, path, flags, (flags & O_CREAT) ? mode : 0);
    if (fd >= 0 || errno != EAGAIN || attempt == kRaceRetries) return fd;
  }
}

}  // namespace clawjail::sandbox::detail
