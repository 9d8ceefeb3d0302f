// The jail's tree dies with the supervisor: PR_SET_PDEATHSIG on the jail's init, tied to the
// monitor thread that lives exactly as long as the jail.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "tests/sandbox/jail_fixture.h"

extern char** environ;

namespace clawjail::sandbox::testing {
namespace {

// In the child that SupervisorDeathKillsTheJail spawns (marked by the environment), this runs
// before gtest's main: it holds a jail until the parent kills it.
const bool kHoldingAJail = [] {
  const char* m = getenv("CLAWJAIL_TEST_HOLD_MARKER");
  if (!m) return false;
  Command cmd;
  cmd.argv = {"/bin/bash", "-c", std::string("exec -a ") + m + " sleep 1000"};
  auto jail = Jail::start(base_spec(), cmd, Io{});
  if (jail.ok()) jail->wait();
  _exit(jail.ok() ? 0 : 1);
}();

TEST(Lifecycle, SupervisorDeathKillsTheJail) {
  ASSERT_FALSE(kHoldingAJail);
  std::string m = "clawjail-hold-" + std::to_string(getpid());
  std::string self = std::filesystem::read_symlink("/proc/self/exe");
  std::string env_marker = "CLAWJAIL_TEST_HOLD_MARKER=" + m;
  std::vector<std::string> env_storage = {env_marker, "ASAN_OPTIONS=detect_leaks=0"};
  for (char** e = environ; *e; ++e) env_storage.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  char* argv[] = {self.data(), nullptr};
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, envp.data()), 0);
  for (int i = 0; i < 250 && count_host_processes_with(m + std::string(1, '\0')) == 0; ++i) usleep(20000);
  ASSERT_GE(count_host_processes_with(m + std::string(1, '\0')), 1) << "the jail never started";
  ::kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  for (int i = 0; i < 100 && count_host_processes_with(m + std::string(1, '\0')) > 0; ++i) usleep(20000);
  EXPECT_EQ(count_host_processes_with(m + std::string(1, '\0')), 0);
}

// The processes `pid`'s threads started.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::istringstream ids(read_text(task.path() / "children"));
    for (pid_t child; ids >> child;) out.push_back(child);
  }
  return out;
}

// This process's one jail init (pid 1 of a pid namespace of its own) once it has built the jail
// to its last step, its seccomp filter, and sleeps: all it can wait for then is release().
// Waits for that up to 10 s; -1 if it never happens.
pid_t wait_for_init_waiting_for_release() {
  for (int i = 0; i < 500; ++i, usleep(20000))
    for (pid_t child : children_of(getpid())) {
      const std::string s = read_text("/proc/" + std::to_string(child) + "/status");
      const bool init = s.find("\nNSpid:\t" + std::to_string(child) + "\t1\n") != std::string::npos;
      if (init && s.find("\nSeccomp:\t2\n") != std::string::npos && s.find("\nState:\tS") != std::string::npos)
        return child;
    }
  return -1;
}

// The supervisor builds the jail while the call's `started` receipt is being made durable: until
// release() the command must not run, and a jail dropped unreleased never runs it.
TEST(Lifecycle, TheCommandRunsOnlyAfterRelease) {
  TempDir ws;
  JailSpec spec = base_spec();
  spec.workspace = ws.path();
  spec.workspace_access = policy::WorkspaceAccess::rw;
  Command cmd;
  cmd.argv = {"/bin/sh", "-c", "echo > /workspace/ran"};
  {
    auto dropped = Jail::begin(spec, cmd, Io{});
    ASSERT_TRUE(dropped.ok()) << dropped.error().detail;
    const pid_t init = wait_for_init_waiting_for_release();
    ASSERT_GT(init, 0) << "no jail init built its jail and waited for release() within 10 s";
    EXPECT_TRUE(children_of(init).empty()) << "the init started the worker before release()";
    EXPECT_FALSE(std::filesystem::exists(ws.path() / "ran")) << "the command ran before release()";
  }
  EXPECT_FALSE(std::filesystem::exists(ws.path() / "ran")) << "a dropped jail ran its command";
  auto jail = Jail::begin(spec, cmd, Io{});
  ASSERT_TRUE(jail.ok()) << jail.error().detail;
  ASSERT_TRUE(jail->release().ok());
  EXPECT_EQ(jail->wait().status, RunStatus::success);
  EXPECT_TRUE(std::filesystem::exists(ws.path() / "ran"));
}

}  // namespace
}  // namespace clawjail::sandbox::testing
