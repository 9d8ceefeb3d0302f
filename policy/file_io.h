// Durable file writes: the policy store and the token ledger (policy/), and the token file
// `clawjail cst issue --out` renews (supervisor/cli/cst.cc).
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string_view>

#include "base/reason.h"

namespace clawjail::policy {

// Writes `data` to a temporary file in path's directory, fsyncs it, renames it over `path` and
// fsyncs the directory: readers see the old file or the new one, never a torn one, even after a
// crash. `reason` is what a failure is reported as.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data, int mode, Reason reason);
struct FileOwner {
  uid_t uid;
  gid_t gid;
};
// Replaces the regular file `path` with `data` so that a reader sees the old file or the new one,
// never part of either: a temporary file beside it, fsync, rename, fsync of the directory, all
// through one handle on the directory. The new file keeps the owner, group and permission bits of
// the one it replaces; a file that did not exist is created 0600, owned by `new_owner` when given,
// else by the caller. Refused with `reason`: a symbolic link, a directory or any other non-regular
// file at `path`, and an existing file whose owner is not `new_owner`'s user when that is given.
Status replace_file_keeping_owner(const std::filesystem::path& path, std::string_view data,
                                  const std::optional<FileOwner>& new_owner, Reason reason);
// Writes all of `data` to fd, retrying on EINTR and short writes.
Status write_all(int fd, std::string_view data, const std::filesystem::path& path, Reason reason);
// Creates `dir` (and parents) with mode 0700 if missing.
Status ensure_private_dir(const std::filesystem::path& dir, Reason reason);

}  // namespace clawjail::policy
