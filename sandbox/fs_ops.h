// File operations run inside a file-tool jail.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

struct FsPlan {
  std::string op;
  std::vector<std::string> paths;
  std::vector<std::string> components;  // mkdir -p, in order
  bool create = true, truncate = true, exclusive = false, recursive = false;
};
[[noreturn]] void run_fs_worker(const FsPlan& plan, int report_fd);

}  // namespace clawjail::sandbox::detail
