// Jails start concurrently (no start lock in the supervisor) and are born inside their own
// cgroups: what the fast path must keep.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "tests/sandbox/jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

// Every thread of this process, with its cgroups: none may be left inside a jail's cgroup.
std::set<std::string> thread_cgroups() {
  std::set<std::string> out;
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) out.insert(read_text(t.path() / "cgroup"));
  return out;
}

int children_of_this_process() {
  int n = 0;
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    std::stringstream in(read_text(t.path() / "children"));
    for (std::string pid; in >> pid;) ++n;
  }
  return n;
}

// Concurrent starts, each with a workspace (so each also makes its idmap helper process): none
// fails, none hangs (helpers once held each other's pipes open), and nothing is left behind.
TEST(Concurrency, JailsStartInParallelAndLeaveNothingBehind) {
  TempDir ws;
  JailSpec spec = base_spec();
  spec.workspace = ws.path();
  spec.workspace_access = policy::WorkspaceAccess::rw;
  constexpr int kThreads = 8, kRounds = 4;
  auto all = std::async(std::launch::async, [&] {
    std::vector<std::future<std::vector<std::string>>> workers;
    for (int t = 0; t < kThreads; ++t)
      workers.push_back(std::async(std::launch::async, [&, t] {
        std::vector<std::string> statuses;
        for (int i = 0; i < kRounds; ++i) {
          Ran r = sh(spec, "echo call-" + std::to_string(t) + " > /workspace/out-" + std::to_string(t) + "-" +
                               std::to_string(i) + " && cat /workspace/out-" + std::to_string(t) + "-" + std::to_string(i));
          statuses.push_back(std::string(name_of(r.outcome.status)) + ":" + r.out + (r.outcome.error ? r.outcome.error->detail : ""));
        }
        return statuses;
      }));
    std::vector<std::string> got;
    for (auto& w : workers)
      for (auto& s : w.get()) got.push_back(s);
    return got;
  });
  ASSERT_EQ(all.wait_for(std::chrono::seconds(180)), std::future_status::ready) << "concurrent starts hang";
  auto statuses = all.get();
  ASSERT_EQ(statuses.size(), size_t{kThreads * kRounds});
  for (const auto& s : statuses) EXPECT_EQ(s.rfind("success:call-", 0), 0u) << s;
  EXPECT_EQ(children_of_this_process(), 0) << "a jail or helper process outlived its call";
}

TEST(Concurrency, JailIsBornInItsOwnCgroupAndTheSupervisorThreadsStayOut) {
  if (!v1_cgroups_as_root()) GTEST_SKIP() << "needs root and the v1 memory and pids controllers";
  const auto before = thread_cgroups();
  int hold[2];
  ASSERT_EQ(pipe2(hold, O_CLOEXEC), 0);
  int out = memfd_create("out", MFD_CLOEXEC);
  Command cmd;
  cmd.argv = {"/bin/sh", "-c", "cat /proc/self/cgroup; read line; exit 0"};
  auto jail = Jail::start(base_spec(), cmd, Io{hold[0], out, -1, false});
  ASSERT_TRUE(jail.ok()) << jail.error().detail;
  const std::string host_view = read_text("/proc/" + std::to_string(jail->pid()) + "/cgroup");
  std::string memory = cgroup_of(host_view, "memory"), pids = cgroup_of(host_view, "pids");
  EXPECT_NE(memory.find("/clawjail/jail-"), std::string::npos) << host_view;
  EXPECT_NE(pids.find("/clawjail/jail-"), std::string::npos) << host_view;
  EXPECT_TRUE(std::filesystem::exists("/sys/fs/cgroup/pids" + pids));
  EXPECT_EQ(thread_cgroups(), before) << "a supervisor thread was left in a jail's cgroup";
  close(hold[1]);
  Outcome o = jail->wait();
  close(hold[0]);
  EXPECT_EQ(o.status, RunStatus::success);
  // Its cgroup namespace was made inside its cgroup: the jail sees itself at its root.
  const std::string inside = slurp(out);
  close(out);
  EXPECT_EQ(cgroup_of(inside, "memory"), "/") << inside;
  EXPECT_EQ(cgroup_of(inside, "pids"), "/") << inside;
  jail = fail(Reason::INTERNAL_ERROR, "dropped");  // its cgroup, empty now, is kept as a spare
  EXPECT_EQ(read_text("/sys/fs/cgroup/pids" + pids + "/cgroup.procs"), "") << "a task outlived the jail";
  EXPECT_EQ(read_text("/sys/fs/cgroup/memory" + memory + "/cgroup.procs"), "");
  EXPECT_GE(remove_spare_jail_cgroups(), 1);
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/pids" + pids)) << "a spare cgroup outlived its removal";
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/memory" + memory));
}

// Set-ups run side by side and a busy host slows them: a deadline that passes before the jail
// is ready ends the call as a timeout (exit 124 for the client), never as a broken jail. The
// init is killed at a different point of its set-up each time, and it runs in the supervisor's
// memory: nothing it was doing may leave the supervisor stuck (it once held libcap's lock).
TEST(Concurrency, DeadlineDuringSetUpIsATimeout) {
  JailSpec spec = base_spec();
  for (int i = 0; i < 40; ++i) {
    spec.limits.timeout_ms = 1 + i % 4;  // usually gone before the jail is ready; a timeout either way
    Ran r = run_in_jail(spec, {"/bin/sleep", "30"});
    EXPECT_EQ(r.outcome.status, RunStatus::timeout) << (r.outcome.error ? r.outcome.error->detail : "");
    EXPECT_FALSE(r.outcome.error.has_value());
  }
}

// A supervisor killed with -9 leaves its jails' empty cgroups behind; the next one removes them
// at start-up, and never one that still holds a task or belongs to a live supervisor.
TEST(Cgroups, StaleJailCgroupsOfADeadSupervisorAreRemoved) {
  const HostSupport& host = host_support();
  if (!host.running_as_root || !host.cgroup_v1_memory_pids)
    GTEST_SKIP() << "needs root and the v1 memory and pids controllers";
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  pid_t alive = fork();
  if (alive == 0) {
    pause();
    _exit(0);
  }
  const std::filesystem::path pids = "/sys/fs/cgroup/pids/clawjail";
  std::filesystem::create_directories(pids);
  auto stale = pids / ("jail-" + std::to_string(dead) + "-1");
  auto busy = pids / ("jail-" + std::to_string(dead) + "-2");
  auto live_owner = pids / ("jail-" + std::to_string(alive) + "-1");
  for (const auto& dir : {stale, busy, live_owner}) ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
  {
    std::ofstream procs(busy / "cgroup.procs");
    procs << alive;  // a task inside: it must survive the sweep
  }
  EXPECT_GE(remove_stale_jail_cgroups(), 1);
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(busy));
  EXPECT_TRUE(std::filesystem::exists(live_owner));
  kill(alive, SIGKILL);
  waitpid(alive, nullptr, 0);
  for (int i = 0; i < 100 && (rmdir(busy.c_str()) != 0 && errno == EBUSY); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  rmdir(live_owner.c_str());
  EXPECT_FALSE(std::filesystem::exists(busy));
}

}  // namespace
}  // namespace clawjail::sandbox::testing
