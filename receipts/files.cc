// Small file helpers for the state directory: fsync of a directory, the store lock. Atomic file
// writes are policy::write_file_atomic (policy/file_io.h).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/reason.h"
#include "base/unique_fd.h"
#include "receipts/internal.h"

namespace clawjail::receipts::detail {
namespace {

Error io_error(const std::filesystem::path& path, std::string_view what) {
  return fail(Reason::RECEIPT_STORE_FAILED,
              std::string(what) + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

Status fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) return io_error(dir, "fsync directory");
  return ok_status();
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
