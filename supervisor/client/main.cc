// `clawjail`, the command users and OpenClaw run for every tool call. `run` and `fs` are the
// per-call hot path and are handled here, in a binary linked statically and without the
// supervisor's shared libraries (spdlog, libsystemd and their dependencies): loading those took
// longer than building the whole jail. Every other subcommand is executed by the full
// clawjail-supervisor binary, unchanged arguments and all.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string_view>

#include "supervisor/common/commands.h"

namespace {

namespace fs = std::filesystem;

// Beside this binary in a build tree; under ../libexec/clawjail once installed.
fs::path full_binary() {
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (fs::path candidate : {dir / "clawjail-supervisor", dir / "../libexec/clawjail/clawjail-supervisor"})
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && (std::string_view(argv[1]) == "run" || std::string_view(argv[1]) == "fs"))
    return clawjail::cli::run_app(argc, argv);
  fs::path full = full_binary();
  if (full.empty()) {
    std::cerr << "clawjail: clawjail-supervisor is missing (looked beside this binary and in "
                 "../libexec/clawjail): the installation is incomplete\n";
    return clawjail::kExitSupervisor;
  }
  ::execv(full.c_str(), argv);
  std::cerr << "clawjail: cannot execute " << full.string() << ": " << std::strerror(errno) << "\n";
  return clawjail::kExitSupervisor;
}
