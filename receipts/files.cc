// Small file helpers for the state directory: reading a held log, durable atomic writes.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "receipts/internal.h"

namespace clawjail::receipts::detail {
namespace {

Error io_error(const std::filesystem::path& path, std::string_view what) {
  return fail(Reason::RECEIPT_STORE_FAILED,
              std::string(what) + " " + path.string() + ": " + std::strerror(errno));
}

Status write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error(path, "write");
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

}  // namespace

Status fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) return io_error(dir, "fsync directory");
  return ok_status();
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view bytes, mode_t mode) {
  auto tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(::gettid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) return io_error(tmp, "create");
  auto written = write_all(fd.get(), bytes, tmp);
  if (written.ok() && ::fsync(fd.get()) != 0) written = io_error(tmp, "fsync");
  if (written.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) written = io_error(path, "rename");
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  return fsync_dir(path.parent_path());
}

Result<UniqueFd> lock_store(const std::filesystem::path& state_dir) {
  auto path = receipts_dir(state_dir) / ".store.lock";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return io_error(path, "open");
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
    return fail(Reason::RECEIPT_STORE_FAILED, path.string() + " is held by another supervisor: one per state directory");
  return fd;
}

}  // namespace clawjail::receipts::detail
