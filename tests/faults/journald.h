// A real systemd-journald for the fault tests: the host's (started when none listens), or a
// private one in this thread's own mount namespace that a test may stop without touching the
// journal other suites use.
#pragma once
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <thread>

#include "tests/common/journald.h"
#include "tests/load/harness.h"

extern char** environ;

namespace clawjail::test {

inline bool ensure_host_journald() { return journald::ensure_host().empty(); }
inline pid_t private_journald() { return journald::start_private(); }

inline std::vector<Json> journal_entries(std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/journalctl", "--no-pager", "-o", "json"});
  auto c = run_captured(args, {}, std::chrono::seconds(30));
  std::vector<Json> out;
  if (!c) return out;
  std::stringstream in(c->out);
  for (std::string line; std::getline(in, line);)
    if (auto j = Json::parse(line, nullptr, false); j.is_object()) out.push_back(j);
  return out;
}

}  // namespace clawjail::test
