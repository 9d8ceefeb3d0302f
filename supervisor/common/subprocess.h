// Running another program (the demo's client calls, the supervisor child): posix_spawn, never a
// shell, with its output captured through pipes.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "base/reason.h"

namespace clawjail {

struct Captured {
  int exit_code = -1;  // the exit status, or 128+N when killed by signal N
  std::string out, err;
};
// Runs argv[0] (a path) with `input` on its stdin; kills it after `timeout`.
Result<Captured> run_captured(const std::vector<std::string>& argv, std::string_view input = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(60));
struct RunOptions {
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  std::vector<std::string> extra_env;  // NAME=VALUE: added to this process's environment, replacing NAME
  size_t max_output = 0;               // stdout and stderr together; beyond it the child is killed (0: no bound)
  // A process group of its own, killed whole at the timeout: a program that starts helpers (Node)
  // cannot keep the pipes open, and so the call, past its bound.
  bool own_group = false;
};
Result<Captured> run_captured(const std::vector<std::string>& argv, std::string_view input, const RunOptions& options);
// Starts argv[0] with stdout and stderr sent to `log_fd` and stdin from /dev/null.
Result<pid_t> spawn_logged(const std::vector<std::string>& argv, int log_fd);
int wait_exit_code(pid_t pid);
std::filesystem::path self_executable();

}  // namespace clawjail
