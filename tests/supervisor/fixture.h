// A real supervisor on a temporary installation, driven through the real `clawjail` binary.
#pragma once
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "policy/json.h"
#include "base/reason.h"
#include "base/unique_fd.h"
#include "supervisor/common/subprocess.h"
#include "supervisor/demo/world.h"

namespace clawjail::test {

using policy::Json;
namespace fs = std::filesystem;

struct Client {  // a client started in the background with its output on pipes
  pid_t pid = -1;
  UniqueFd out, err;
  UniqueFd in;  // with piped_stdin: the write end of its stdin
};

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Creates the installation (called by SetUp with default options; call again before start()
  // for other options).
  void make_world(const demo::WorldOptions& options = {});
  void start_supervisor(std::vector<std::string> extra_args = {});
  int stop_supervisor(int sig = SIGTERM);  // returns the supervisor's exit code

  // `clawjail run` for `job` with its token, the main WPC pinned by the token, the workspace.
  std::vector<std::string> run_args(const std::string& job, const fs::path& cst, std::vector<std::string> tail);
  Captured clawjail(std::vector<std::string> args, std::string_view input = {});
  // stdin is /dev/null, or with `piped_stdin` a pipe that stays open while Client::in does.
  Client start_client(std::vector<std::string> args, bool piped_stdin = false);
  fs::path token_file(const std::string& name, const demo::TokenOptions& options);
  fs::path job_token(const std::string& job) { return token_file(job, {.job = job, .policy_hash_b64u = main_wpc}); }
  // The main WPC with the `process` scope allowed (background calls) and the given wall-clock
  // limits; returns its hash.
  std::string install_background_wpc(int64_t timeout_ms, int64_t background_ms);

  std::vector<Json> receipts(const std::string& job);  // payloads, in order
  // Waits until the job has at least `n` receipts (false on timeout).
  bool wait_receipts(const std::string& job, size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::string supervisor_log();

  fs::path root;
  demo::World world;
  std::string main_wpc;
  pid_t supervisor = -1;
};

// A descriptor the supervisor keeps for the next jails, bounded and not returned at rest: a jail
// cgroup's file (spare or in use) or the user namespace of an idmapped workspace.
inline bool kept_for_next_jails(const fs::path& fd_link) {
  std::error_code ec;
  auto target = fs::read_symlink(fd_link, ec).string();
  return target.rfind("user:[", 0) == 0 || (target.rfind("/sys/fs/cgroup/", 0) == 0 && target.find("/jail-") != std::string::npos);
}

// Sends `request` (no descriptors) from a forked child running as `uid` (gid = uid) with the
// supplementary `groups`, and returns the supervisor's answer. The error says which step of the
// child failed (drop privileges, connect, no answer).
Result<policy::Json> request_as(const fs::path& socket, uid_t uid, const std::vector<gid_t>& groups,
                                const policy::Json& request);

// A process whose command line contains `marker` still exists (a jail survivor).
bool process_with_marker_exists(const std::string& marker);
std::string read_all(int fd);

}  // namespace clawjail::test
