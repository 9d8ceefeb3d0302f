// Jails built ahead of their calls (JailPool): a call of exactly the spec takes the waiting jail
// and gets its own command, stdin, output and deadline in it; anything else builds its own.
// Where jails are not built ahead (an ordinary user, sanitizer builds) every call must still
// work through the pool, which these tests check too.
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "tests/sandbox/jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

namespace fs = std::filesystem;

// A pool as the supervisor makes it keeps two jails of a spec waiting.
constexpr size_t kPerSpec = 2;

// Waits until the pool holds at least `n` jails; false where jails are not built ahead.
bool wait_for_jails(const JailPool& pool, size_t n) {
  if (!JailPool::available()) return false;
  for (int i = 0; i < 500 && pool.size() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return pool.size() >= n;
}

// Where jails are built ahead, the builder must have built `n` of them: a builder that stopped
// fails the test instead of turning it into a check of the fallback.
bool expect_built_ahead(const JailPool& pool, size_t n) {
  const bool ahead = wait_for_jails(pool, n);
  EXPECT_EQ(ahead, JailPool::available()) << "the builder had not built " << n << " jail(s) after 5 s";
  return ahead;
}

// Where jails are not built ahead, a test has checked only that calls work through the pool; it
// says so in the summary rather than passing as if it had checked the jails built ahead.
#define SKIP_UNLESS_BUILT_AHEAD()                                                                    \
  if (!JailPool::available())                                                                        \
  GTEST_SKIP() << "jails are not built ahead here (not root, or a sanitizer build): only the "       \
                  "fallback, a jail built by its call, was checked"

Ran run_in_pool(JailPool& pool, const JailSpec& spec, std::vector<std::string> argv, int stdin_fd = -1) {
  Ran ran;
  int out = memfd_create("out", MFD_CLOEXEC), err = memfd_create("err", MFD_CLOEXEC);
  Command cmd;
  cmd.argv = std::move(argv);
  auto jail = pool.begin(spec, cmd, Io{stdin_fd, out, err, false});
  Status released = jail ? jail->release() : Status(jail.error());
  if (!released) ran.outcome.error = released.error();
  else ran.outcome = jail->wait();
  ran.out = slurp(out);
  ran.err = slurp(err);
  close(out);
  close(err);
  return ran;
}

int stdin_with(const std::string& text) {
  int fd = memfd_create("in", MFD_CLOEXEC);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  lseek(fd, 0, SEEK_SET);
  return fd;
}

// The jails (cgroups) this process has now: one per jail alive, waiting or running, once the
// spares that ended jails left are removed.
int jail_cgroups() {
  remove_spare_jail_cgroups();
  int n = 0;
  const std::string prefix = "jail-" + std::to_string(getpid()) + "-";
  for (const char* dir : {"/sys/fs/cgroup/pids/clawjail", "/sys/fs/cgroup/unified/clawjail"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().filename().string().rfind(prefix, 0) == 0) ++n;
    if (n > 0) return n;
  }
  return n;
}

TEST(Pool, TheNextCallOfTheSameSpecTakesTheJailBuiltAheadWithItsOwnStdinAndOutput) {
  JailPool pool;
  JailSpec spec = base_spec();
  pool.build_ahead(spec);
  const bool ahead = expect_built_ahead(pool, kPerSpec);
  int in = stdin_with("from the client\n");
  auto ran = run_in_pool(pool, spec, {"/bin/sh", "-c", "cat; echo err >&2; echo \"pid $$\""}, in);
  close(in);
  EXPECT_EQ(ran.outcome.status, RunStatus::success) << ran.err;
  EXPECT_EQ(ran.out, "from the client\npid 2\n");  // the worker is pid 2 of the jail's own namespace
  EXPECT_EQ(ran.err, "err\n");
  EXPECT_EQ(ran.outcome.stdout_bytes, 22);
  EXPECT_EQ(pool.taken(), ahead ? 1u : 0u);
  EXPECT_EQ(pool.size(), ahead ? kPerSpec - 1 : 0u);
  SKIP_UNLESS_BUILT_AHEAD();
}

// Back to back, as the supervisor does it (each call asks for the next jail once it is done):
// every call takes a jail that was waiting, and none sees what an earlier one left.
TEST(Pool, CallsBackToBackEachTakeAFreshJailThatWasWaiting) {
  JailPool pool;
  JailSpec spec = base_spec();
  pool.build_ahead(spec);
  expect_built_ahead(pool, kPerSpec);
  for (int call = 0; call < 3; ++call) {
    // Normally one is waiting already; on a loaded machine the builder may still be at it.
    wait_for_jails(pool, 1);
    auto ran = run_in_pool(pool, spec, {"/bin/sh", "-c", "test -e /tmp/mark && echo seen; echo x > /tmp/mark"});
    EXPECT_EQ(ran.outcome.status, RunStatus::success) << ran.err;
    EXPECT_EQ(ran.out, "") << "call " << call << " saw what an earlier call left in /tmp";
    pool.build_ahead(spec);
  }
  EXPECT_EQ(pool.taken(), JailPool::available() ? 3u : 0u);
  SKIP_UNLESS_BUILT_AHEAD();
}

// The jail waited longer than the call's timeout: the call still gets all of it. And the timeout
// is the call's own, not that of the call the jail was built after.
TEST(Pool, TheTimeoutIsTheCallsAndCountsFromTheCall) {
  JailPool pool;
  JailSpec spec = base_spec();
  spec.limits.timeout_ms = 1000;
  pool.build_ahead(spec);
  expect_built_ahead(pool, kPerSpec);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));  // the jail waits longer than the timeout
  auto ran = run_in_pool(pool, spec, {"/bin/sh", "-c", "sleep 0.2; echo done"});
  EXPECT_EQ(ran.outcome.status, RunStatus::success) << ran.err;
  EXPECT_EQ(ran.out, "done\n");
  pool.build_ahead(spec);
  expect_built_ahead(pool, 1);
  JailSpec shorter = spec;
  shorter.limits.timeout_ms = 300;
  auto slow = run_in_pool(pool, shorter, {"/bin/sleep", "30"});
  EXPECT_EQ(slow.outcome.status, RunStatus::timeout);
  EXPECT_GE(slow.outcome.duration_ms, 300);
  EXPECT_LT(slow.outcome.duration_ms, 1000);
  EXPECT_EQ(pool.taken(), JailPool::available() ? 2u : 0u);
  SKIP_UNLESS_BUILT_AHEAD();
}

// The workspace path names another directory than when the jail was built: the call gets a jail
// with the directory the path names now.
TEST(Pool, AWorkspaceReplacedAfterTheBuildIsNotTheOneTheCallGets) {
  TempDir root;
  const fs::path ws = root.path() / "ws";
  fs::create_directory(ws);
  std::ofstream(ws / "old") << "old";
  JailPool pool;
  JailSpec spec = base_spec();
  spec.workspace = ws;
  spec.workspace_access = policy::WorkspaceAccess::rw;
  pool.build_ahead(spec);
  expect_built_ahead(pool, kPerSpec);  // every waiting jail has the old directory
  fs::rename(ws, root.path() / "ws.before");
  fs::create_directory(ws);
  std::ofstream(ws / "new") << "new";
  auto ran = run_in_pool(pool, spec, {"/bin/ls", "/workspace"});
  EXPECT_EQ(ran.outcome.status, RunStatus::success) << ran.err;
  EXPECT_EQ(ran.out, "new\n");
  EXPECT_EQ(pool.taken(), 0u);
  SKIP_UNLESS_BUILT_AHEAD();
}

TEST(Pool, ACallOfAnotherSpecBuildsItsOwnJail) {
  JailPool pool;
  JailSpec spec = base_spec();
  pool.build_ahead(spec);
  const bool ahead = expect_built_ahead(pool, kPerSpec);
  JailSpec other = spec;
  other.limits.pids = spec.limits.pids + 1;
  auto ran = run_in_pool(pool, other, {"/bin/true"});
  EXPECT_EQ(ran.outcome.status, RunStatus::success) << ran.err;
  EXPECT_EQ(pool.taken(), 0u);
  EXPECT_EQ(pool.size(), ahead ? kPerSpec : 0u) << "the waiting jails are still there for their own spec";
  SKIP_UNLESS_BUILT_AHEAD();
}

// A waiting jail runs nothing, and dropping it (a reload, a drain) leaves nothing behind. Where
// jails are not built ahead, nothing waits at all.
TEST(Pool, AWaitingJailRunsNothingAndClearingLeavesNothing) {
  const int before = jail_cgroups();
  {
    JailPool pool;
    JailSpec spec = base_spec();
    for (int i = 0; i < 3; ++i) pool.build_ahead(spec);  // two per spec, however often asked
    const bool ahead = expect_built_ahead(pool, kPerSpec);
    // The builder stops at two per spec: a third would be built, and counted, at once.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(pool.size(), ahead ? kPerSpec : 0u);
    EXPECT_EQ(jail_cgroups(), before + (ahead ? static_cast<int>(kPerSpec) : 0));
    pool.clear();
    EXPECT_EQ(pool.size(), 0u);
  }
  EXPECT_EQ(jail_cgroups(), before);
  SKIP_UNLESS_BUILT_AHEAD();
}

// A jail nobody takes goes by itself once it has waited `idle`, even when no call comes.
TEST(Pool, AJailNobodyTakesIsDroppedAfterItsIdleTime) {
  const int before = jail_cgroups();
  JailPool pool(4, std::chrono::milliseconds(300));
  pool.build_ahead(base_spec());
  const bool ahead = expect_built_ahead(pool, kPerSpec);
  EXPECT_EQ(jail_cgroups(), before + (ahead ? static_cast<int>(kPerSpec) : 0));
  for (int i = 0; i < 200 && pool.size() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(pool.size(), 0u);
  for (int i = 0; i < 100 && jail_cgroups() > before; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(jail_cgroups(), before);
  SKIP_UNLESS_BUILT_AHEAD();
}

}  // namespace
}  // namespace clawjail::sandbox::testing
