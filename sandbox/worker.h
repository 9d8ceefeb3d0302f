// What the jail's init runs: a command or file operations.
#pragma once
#include "sandbox/fs_ops.h"
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

struct WorkerPlan {
  std::vector<std::string> candidates;  // argv[0] resolved against the jail's PATH, in order
  std::vector<std::string> argv_storage, env_storage;
  std::vector<char*> argv, envp;
  std::string workdir;
  const FsRequest* fs = nullptr;  // set: run the file tool instead of exec
  bool fs_serve = false;          // set: be a file worker on stdin (FsWorker) instead of exec
};

}  // namespace clawjail::sandbox::detail
