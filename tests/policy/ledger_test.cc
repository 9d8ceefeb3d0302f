// The token ledger: a jti replayed under another job, a revoked token and a stopped job are
// refused — after a restart, and with many writers at once.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "policy/cst.h"
#include "policy/ledger.h"
#include "base/unique_fd.h"
#include "tests/policy/test_util.h"

namespace clawjail::policy {
namespace {

// Whether someone waits for an flock on the file with inode `ino`: the kernel lists each waiter
// in /proc/locks as a "->" line naming the file as MAJOR:MINOR:INODE.
bool lock_has_waiter(ino_t ino) {
  std::ifstream locks("/proc/locks");
  const std::string file = ":" + std::to_string(ino) + " ";
  for (std::string line; std::getline(locks, line);)
    if (line.find("-> FLOCK") != std::string::npos && line.find(file) != std::string::npos) return true;
  return false;
}

Cst token_with(std::string jti, std::string token) {
  Cst c;
  c.jti = std::move(jti);
  c.token = std::move(token);
  return c;
}

TEST(Ledger, JtiReusedUnderAnotherJobIsReplay) {
  testing::TempDir state;
  TokenLedger ledger(state.path());
  EXPECT_TRUE(ledger.bind_jti("jti-1", "job-1").ok());
  EXPECT_TRUE(ledger.bind_jti("jti-1", "job-1").ok());  // same job: the same token for many calls
  EXPECT_EQ(ledger.bind_jti("jti-1", "job-2").reason(), Reason::CST_JTI_REPLAYED);
}

// Every call of a job presents the token its first call bound: confirming that binding reads the
// ledger without waiting for its lock (held here by another writer), while a new binding waits.
TEST(Ledger, AnAlreadyBoundJtiIsConfirmedWithoutTheWritersLock) {
  testing::TempDir state;
  TokenLedger ledger(state.path());
  ASSERT_TRUE(ledger.bind_jti("jti-1", "job-1").ok());
  UniqueFd lock(::open((state.path() / "tokens" / "ledger.lock").c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(lock);
  ASSERT_EQ(::flock(lock.get(), LOCK_EX), 0);
  struct stat st {};
  ASSERT_EQ(::fstat(lock.get(), &st), 0);
  std::atomic<int> confirmed{0};  // 0: still waiting, 1: ok, 2: refused
  std::thread reader([&] {
    const bool ok = ledger.bind_jti("jti-1", "job-1").ok() &&
                    ledger.bind_jti("jti-1", "job-2").reason() == Reason::CST_JTI_REPLAYED;
    confirmed = ok ? 1 : 2;
  });
  for (int i = 0; i < 200 && confirmed.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(confirmed.load(), 1) << "0: confirming a binding waited for the writers' lock";
  std::atomic<bool> bound{false};
  std::thread writer([&] { bound = ledger.bind_jti("jti-2", "job-1").ok(); });
  bool waiting = false;
  for (int i = 0; i < 500 && !(waiting = lock_has_waiter(st.st_ino)) && !bound.load(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(waiting) << "the new binding never waited for the writers' lock";
  EXPECT_FALSE(bound.load()) << "a new binding must wait for the lock";
  ::flock(lock.get(), LOCK_UN);
  reader.join();
  writer.join();
  EXPECT_TRUE(bound.load());
  EXPECT_EQ(TokenLedger(state.path()).bind_jti("jti-2", "job-9").reason(), Reason::CST_JTI_REPLAYED);
}

// A binding is kept while its token can still be presented, and forgotten a day after it
// expired, so a long-running supervisor's ledger (read on every call) does not grow for ever.
TEST(Ledger, BindingsOfLongExpiredTokensAreForgotten) {
  testing::TempDir state;
  TokenLedger ledger(state.path());
  const int64_t now = ::time(nullptr);
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(ledger.bind_jti("old-" + std::to_string(i), "job-old", now - 2 * 24 * 3600).ok());
  ASSERT_TRUE(ledger.bind_jti("recently-expired", "job-a", now - 60).ok());
  ASSERT_TRUE(ledger.bind_jti("live", "job-b", now + 3600).ok());
  ASSERT_TRUE(ledger.bind_jti("forever", "job-c").ok());
  EXPECT_TRUE(ledger.jtis_of_job("job-old").empty());
  EXPECT_EQ(ledger.bind_jti("recently-expired", "job-x").reason(), Reason::CST_JTI_REPLAYED);
  EXPECT_EQ(ledger.bind_jti("live", "job-x").reason(), Reason::CST_JTI_REPLAYED);
  EXPECT_EQ(ledger.bind_jti("forever", "job-x").reason(), Reason::CST_JTI_REPLAYED);
  std::ifstream in(ledger.file());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("old-"), std::string::npos) << "expired bindings are gone from the file";
}

TEST(Ledger, BindingSurvivesARestart) {
  testing::TempDir state;
  ASSERT_TRUE(TokenLedger(state.path()).bind_jti("jti-1", "job-1").ok());
  TokenLedger restarted(state.path());
  EXPECT_EQ(restarted.bind_jti("jti-1", "job-2").reason(), Reason::CST_JTI_REPLAYED);
  EXPECT_EQ(restarted.jtis_of_job("job-1"), std::vector<std::string>{"jti-1"});
}

TEST(Ledger, RevokedJtiIsRefused) {
  testing::TempDir state;
  TokenLedger ledger(state.path());
  auto cst = token_with("jti-1", "a.b.c");
  EXPECT_TRUE(ledger.check_not_revoked(cst).ok());
  ASSERT_TRUE(ledger.revoke_jti("jti-1", "leaked").ok());
  EXPECT_EQ(TokenLedger(state.path()).check_not_revoked(cst).reason(), Reason::CST_REVOKED);
}

// Queries keep the parsed ledger while its bytes are unchanged: a revocation written by another
// process (here another instance) is seen by the very next query.
TEST(Ledger, RevocationByAnotherWriterIsSeenByTheNextQuery) {
  testing::TempDir state;
  TokenLedger reader(state.path());
  auto cst = token_with("jti-1", "a.b.c");
  ASSERT_TRUE(reader.bind_jti("jti-1", "job-1").ok());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(reader.check_not_revoked(cst).ok());
  EXPECT_FALSE(reader.job_stopped("job-1"));
  TokenLedger writer(state.path());
  ASSERT_TRUE(writer.revoke_job("job-1").ok());
  EXPECT_EQ(reader.check_not_revoked(cst).reason(), Reason::CST_REVOKED);
  EXPECT_TRUE(reader.job_stopped("job-1"));
  EXPECT_EQ(reader.bind_jti("jti-2", "job-1").reason(), Reason::JOB_STOPPED);
}

TEST(Ledger, RevokedTokenHashIsRefused) {
  testing::TempDir state;
  TokenLedger ledger(state.path());
  auto cst = token_with("jti-9", "x.y.z");
  ASSERT_TRUE(ledger.revoke_token_hash(cst.token_sha256_b64u(), "leaked").ok());
  EXPECT_EQ(ledger.check_not_revoked(cst).reason(), Reason::CST_REVOKED);
  EXPECT_TRUE(ledger.check_not_revoked(token_with("jti-9", "x.y.w")).ok());
  EXPECT_EQ(ledger.revoke_token_hash("not-a-hash", "x").reason(), Reason::BAD_ENCODING);
}

TEST(Ledger, StoppedJobRevokesItsJtisAndRefusesNewOnes) {
  testing::TempDir state;
  TokenLedger ledger(state.path());
  ASSERT_TRUE(ledger.bind_jti("jti-1", "job-1").ok());
  ASSERT_TRUE(ledger.bind_jti("jti-2", "job-2").ok());
  ASSERT_TRUE(ledger.revoke_job("job-1").ok());
  EXPECT_TRUE(ledger.job_stopped("job-1"));
  EXPECT_FALSE(ledger.job_stopped("job-2"));
  EXPECT_EQ(ledger.check_not_revoked(token_with("jti-1", "t1")).reason(), Reason::CST_REVOKED);
  EXPECT_TRUE(ledger.check_not_revoked(token_with("jti-2", "t2")).ok());
  EXPECT_EQ(ledger.bind_jti("jti-3", "job-1").reason(), Reason::JOB_STOPPED);
}

TEST(Ledger, CorruptLedgerFailsClosed) {
  testing::TempDir state;
  TokenLedger ledger(state.path());
  ASSERT_TRUE(ledger.bind_jti("jti-1", "job-1").ok());
  std::ofstream(ledger.file()) << "{\"jtis\":";
  EXPECT_EQ(ledger.bind_jti("jti-2", "job-1").reason(), Reason::CST_LEDGER_FAILED);
  EXPECT_EQ(ledger.check_not_revoked(token_with("jti-2", "t")).reason(), Reason::CST_LEDGER_FAILED);
  EXPECT_TRUE(ledger.job_stopped("job-1"));
}

TEST(Ledger, StateDirThatIsAFileFailsClosed) {
  testing::TempDir state;
  std::ofstream(state.path() / "file") << "x";
  TokenLedger ledger(state.path() / "file");
  EXPECT_EQ(ledger.bind_jti("jti-1", "job-1").reason(), Reason::CST_LEDGER_FAILED);
  EXPECT_EQ(ledger.revoke_jti("jti-1", "x").reason(), Reason::CST_LEDGER_FAILED);
}

TEST(Ledger, ConcurrentThreadsLoseNoWrite) {
  testing::TempDir state;
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      TokenLedger ledger(state.path());
      for (int i = 0; i < kEach; ++i)
        EXPECT_TRUE(ledger.bind_jti("t" + std::to_string(t) + "-" + std::to_string(i), "job-" + std::to_string(t)).ok());
    });
  for (auto& th : threads) th.join();
  TokenLedger ledger(state.path());
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(ledger.jtis_of_job("job-" + std::to_string(t)).size(), size_t{kEach});
}

// Processes racing for the same jti under different jobs: exactly one wins, and every other
// record written meanwhile is still there.
TEST(Ledger, ConcurrentProcessesBindOneJtiToExactlyOneJob) {
  testing::TempDir state;
  constexpr int kProcs = 6;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      TokenLedger ledger(state.path());
      bool ok = true;
      for (int i = 0; i < 20; ++i)
        ok = ok && ledger.bind_jti("p" + std::to_string(p) + "-" + std::to_string(i), "job-" + std::to_string(p)).ok();
      auto shared = ledger.bind_jti("shared", "job-" + std::to_string(p));
      ::_exit(!ok ? 3 : shared.ok() ? 0 : shared.reason() == Reason::CST_JTI_REPLAYED ? 1 : 2);
    }
    pids.push_back(pid);
  }
  int winners = 0, losers = 0;
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0) ++winners;
    else if (WEXITSTATUS(status) == 1) ++losers;
    else ADD_FAILURE() << "child exit " << WEXITSTATUS(status);
  }
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(losers, kProcs - 1);
  TokenLedger ledger(state.path());
  size_t total = 0;
  for (int p = 0; p < kProcs; ++p) total += ledger.jtis_of_job("job-" + std::to_string(p)).size();
  EXPECT_EQ(total, size_t{kProcs} * 20 + 1);  // every private jti, and "shared" once
}

}  // namespace
}  // namespace clawjail::policy
