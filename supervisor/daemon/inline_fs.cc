#include "supervisor/daemon/inline_fs.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace clawjail {
namespace {

Error system_error(const std::string& what) {
  return fail(Reason::INTERNAL_ERROR, what + ": " + strerror(errno));
}

Result<UniqueFd> dev_null(int flags) {
  UniqueFd fd(::open("/dev/null", flags | O_CLOEXEC));
  if (!fd) return system_error("cannot open /dev/null");
  return fd;
}

Result<UniqueFd> memfd(const char* name) {
  UniqueFd fd(::memfd_create(name, MFD_CLOEXEC));
  if (!fd) return system_error("memfd_create");
  return fd;
}

Status write_all(int fd, const std::string& bytes) {
  for (size_t off = 0; off < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return system_error("cannot fill the write's memfd");
    off += static_cast<size_t>(n);
  }
  if (::lseek(fd, 0, SEEK_SET) != 0) return system_error("lseek");
  return ok_status();
}

}  // namespace

Status check_call_descriptors(const proto::Request& request, size_t fds) {
  const auto* fs = request.fs ? &*request.fs : nullptr;
  if (fds == 3) {
    if (fs && fs->data)
      return fail(Reason::REQUEST_MALFORMED, "fs.data_b64 is for a call without descriptors (its stdin carries the data)");
    return ok_status();
  }
  if (fds != 0 || !fs)
    return fail(Reason::REQUEST_MALFORMED,
                "a call must carry stdin, stdout and stderr (3 descriptors); only a file tool may carry none");
  if (fs->op == FsOpKind::write && !fs->data)
    return fail(Reason::BAD_FIELD, "a write without descriptors needs fs.data_b64");
  if (fs->op == FsOpKind::read && fs->length && *fs->length > proto::kMaxInlineBytes)
    return fail(Reason::BAD_FIELD, "fs.length: a read without descriptors returns at most " +
                                       std::to_string(proto::kMaxInlineBytes) + " bytes");
  return ok_status();
}

Result<std::vector<UniqueFd>> inline_descriptors(const proto::FsArgs& fs) {
  std::vector<UniqueFd> fds;
  auto in = fs.data ? memfd("clawjail-write") : dev_null(O_RDONLY);
  if (!in) return in.error();
  if (fs.data)
    if (auto s = write_all(in->get(), *fs.data); !s) return s.error();
  auto out = fs.op == FsOpKind::read ? memfd("clawjail-read") : dev_null(O_WRONLY);
  if (!out) return out.error();
  auto err = dev_null(O_WRONLY);
  if (!err) return err.error();
  fds.push_back(std::move(*in));
  fds.push_back(std::move(*out));
  fds.push_back(std::move(*err));
  return fds;
}

Result<std::string> inline_output(int fd) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) return system_error("fstat of the read's memfd");
  if (st.st_size > proto::kMaxInlineBytes)
    return fail(Reason::INTERNAL_ERROR, "the read relayed more than " + std::to_string(proto::kMaxInlineBytes) + " bytes");
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  for (size_t off = 0; off < bytes.size();) {
    ssize_t n = ::pread(fd, bytes.data() + off, bytes.size() - off, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return system_error("cannot read the read's memfd");
    off += static_cast<size_t>(n);
  }
  return bytes;
}

}  // namespace clawjail
