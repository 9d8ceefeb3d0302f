// Private to policy/: durable file writes shared by the policy store and the token ledger.
#pragma once
#include <filesystem>
#include <string_view>

#include "policy/reason.h"

namespace clawjail::policy {

// Writes `data` to a temporary file in path's directory, fsyncs it, renames it over `path` and
// fsyncs the directory: readers see the old file or the new one, never a torn one, even after a
// crash. `reason` is what a failure is reported as.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data, int mode, Reason reason);
// Writes all of `data` to fd, retrying on EINTR and short writes.
Status write_all(int fd, std::string_view data, const std::filesystem::path& path, Reason reason);
// Creates `dir` (and parents) with mode 0700 if missing.
Status ensure_private_dir(const std::filesystem::path& dir, Reason reason);

}  // namespace clawjail::policy
