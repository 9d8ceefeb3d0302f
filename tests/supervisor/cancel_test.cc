// Cancellation: the client dies, the job is stopped, the token is revoked.
#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "fixture.h"
#include "policy/ledger.h"

namespace clawjail::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class Cancel : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
  // A long call whose jailed process carries `marker` on its command line.
  Client start_long_call(const std::string& job, const fs::path& cst, const std::string& marker,
                         std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--", "/bin/sh", "-c", "sleep 30; : " + marker});
    auto c = start_client(run_args(job, cst, flags));
    EXPECT_TRUE(wait_receipts(job, 1)) << "no started receipt";
    // started is durable before the jail exists: wait for the process itself.
    for (int i = 0; i < 500 && !process_with_marker_exists(marker); ++i) std::this_thread::sleep_for(milliseconds(20));
    EXPECT_TRUE(process_with_marker_exists(marker));
    return c;
  }
  // `fs write` whose data never ends: its stdin stays open while the Client lives.
  Client start_long_fs_write(const std::string& job, const fs::path& cst) {
    auto c = start_client({"fs", "--socket", world.socket.string(), "--job", job, "--cst-file", cst.string(),
                           "--workspace", world.workspace.string(), "write", "endless.txt"},
                          true);
    EXPECT_EQ(::write(c.in.get(), "partial", 7), 7);
    EXPECT_TRUE(wait_receipts(job, 1)) << "no started receipt";
    // The tool writes what it reads: once the file holds the input, the tool is running and
    // waiting for more.
    const fs::path file = world.workspace / "endless.txt";
    std::error_code ec;
    for (int i = 0; i < 500 && fs::file_size(file, ec) != 7; ++i) std::this_thread::sleep_for(milliseconds(20));
    EXPECT_EQ(fs::file_size(file, ec), 7u) << "the file tool did not write its input within 10 s";
    EXPECT_EQ(receipts(job).size(), 1u) << "the file tool ended while its input was open";
    return c;
  }
  void expect_killed(const std::string& job, const std::string& code, const std::string& marker) {
    ASSERT_TRUE(wait_receipts(job, 2)) << "no finished receipt";
    auto r = receipts(job);
    EXPECT_EQ(r[1]["phase"], "finished");
    EXPECT_EQ(r[1]["result"]["status"], "killed");
    EXPECT_EQ(r[1]["reason_code"], code);
    EXPECT_FALSE(process_with_marker_exists(marker)) << "a jail process survived";
  }
};

TEST_F(Cancel, ClientKilledMidCallKillsTheJail) {
  auto cst = job_token("job-client-dies");
  auto c = start_long_call("job-client-dies", cst, "marker-client-dies");
  ::kill(c.pid, SIGKILL);
  wait_exit_code(c.pid);
  expect_killed("job-client-dies", "CLIENT_DISCONNECTED", "marker-client-dies");
}

TEST_F(Cancel, JobStopKillsRunningCallWithinASecond) {
  auto cst = job_token("job-stop");
  auto c = start_long_call("job-stop", cst, "marker-job-stop");
  auto t0 = steady_clock::now();
  auto stop = clawjail({"job", "stop", "job-stop", "--socket", world.socket.string()});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_NE(stop.out.find("1 running call"), std::string::npos) << stop.out;
  // `job stop` answers once the calls it killed have ended: nothing of the job runs after it.
  EXPECT_FALSE(process_with_marker_exists("marker-job-stop")) << "the killed jail outlived the stop's answer";
  // The kill happens before `job stop` answers; the bound excludes the start-up of the `job stop`
  // process itself, which sanitizer builds under parallel load make slow.
  auto answered = steady_clock::now();
  int code = wait_exit_code(c.pid);
  EXPECT_LT(steady_clock::now() - answered, milliseconds(1000));
  EXPECT_LT(steady_clock::now() - t0, milliseconds(5000));
  EXPECT_EQ(code, 128 + SIGKILL);
  expect_killed("job-stop", "JOB_STOPPED", "marker-job-stop");
  auto later = clawjail(run_args("job-stop", cst, {"--", "/bin/true"}));
  EXPECT_EQ(later.exit_code, 126);
  EXPECT_NE(later.err.find("blocked: JOB_STOPPED"), std::string::npos) << later.err;
  EXPECT_EQ(receipts("job-stop").back().value("reason_code", ""), "JOB_STOPPED");
}

TEST_F(Cancel, RevocationInTheLedgerKillsRunningCallWithinASecond) {
  auto cst = job_token("job-revoke");
  auto c = start_long_call("job-revoke", cst, "marker-revoke");
  auto token = receipts("job-revoke")[0]["cst_jti"].get<std::string>();
  // What `clawjail cst revoke` does: write the durable ledger from another process.
  policy::TokenLedger ledger(world.state_dir);
  auto t0 = steady_clock::now();
  ASSERT_TRUE(ledger.revoke_jti(token, "test").ok());
  int code = wait_exit_code(c.pid);
  EXPECT_LT(steady_clock::now() - t0, milliseconds(1000));
  EXPECT_EQ(code, 128 + SIGKILL);
  expect_killed("job-revoke", "CST_REVOKED", "marker-revoke");
}

// A background call (the WPC allows `process`, its lifetime is far away) is a running call like
// any other: its client's death, `job stop` and a revocation kill it, and its finished receipt
// says which.
class CancelBackground : public Cancel {
 protected:
  Client start_background(const std::string& job, const std::string& marker) {
    cst = token_file(job, {.job = job, .policy_hash_b64u = install_background_wpc(500, 60000)});
    auto c = start_long_call(job, cst, marker, {"--background"});
    auto started = receipts(job).at(0);
    EXPECT_EQ(started["phase"], "started");
    EXPECT_EQ(started["scopes"], Json::array({"exec", "process"}));
    // Past the foreground timeout (500 ms): only the background lifetime applies.
    std::this_thread::sleep_for(milliseconds(1000));
    EXPECT_EQ(receipts(job).size(), 1u) << "the background call ended at the foreground timeout";
    EXPECT_TRUE(process_with_marker_exists(marker));
    return c;
  }
  fs::path cst;
};

TEST_F(CancelBackground, ClientKilledKillsTheJail) {
  auto c = start_background("job-bg-client-dies", "marker-bg-client-dies");
  ::kill(c.pid, SIGKILL);
  wait_exit_code(c.pid);
  expect_killed("job-bg-client-dies", "CLIENT_DISCONNECTED", "marker-bg-client-dies");
}

TEST_F(CancelBackground, JobStopKillsIt) {
  auto c = start_background("job-bg-stop", "marker-bg-stop");
  auto stop = clawjail({"job", "stop", "job-bg-stop", "--socket", world.socket.string()});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_NE(stop.out.find("1 running call"), std::string::npos) << stop.out;
  EXPECT_FALSE(process_with_marker_exists("marker-bg-stop")) << "the killed jail outlived the stop's answer";
  EXPECT_EQ(wait_exit_code(c.pid), 128 + SIGKILL);
  expect_killed("job-bg-stop", "JOB_STOPPED", "marker-bg-stop");
}

TEST_F(CancelBackground, RevocationKillsIt) {
  auto c = start_background("job-bg-revoke", "marker-bg-revoke");
  policy::TokenLedger ledger(world.state_dir);
  auto t0 = steady_clock::now();
  ASSERT_TRUE(ledger.revoke_jti(receipts("job-bg-revoke")[0]["cst_jti"].get<std::string>(), "test").ok());
  EXPECT_EQ(wait_exit_code(c.pid), 128 + SIGKILL);
  EXPECT_LT(steady_clock::now() - t0, milliseconds(1500));
  expect_killed("job-bg-revoke", "CST_REVOKED", "marker-bg-revoke");
}

TEST_F(Cancel, ClientKilledMidFileToolKillsIt) {
  auto cst = job_token("job-fs-client-dies");
  auto c = start_long_fs_write("job-fs-client-dies", cst);
  ::kill(c.pid, SIGKILL);
  wait_exit_code(c.pid);
  expect_killed("job-fs-client-dies", "CLIENT_DISCONNECTED", "no-such-marker");
}

TEST_F(Cancel, JobStopKillsRunningFileTool) {
  auto cst = job_token("job-fs-stop");
  auto c = start_long_fs_write("job-fs-stop", cst);
  auto stop = clawjail({"job", "stop", "job-fs-stop", "--socket", world.socket.string()});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_NE(stop.out.find("1 running call"), std::string::npos) << stop.out;
  auto answered = steady_clock::now();
  int code = wait_exit_code(c.pid);
  EXPECT_LT(steady_clock::now() - answered, milliseconds(1000));
  EXPECT_EQ(code, 128 + SIGKILL);
  expect_killed("job-fs-stop", "JOB_STOPPED", "no-such-marker");
}

TEST_F(Cancel, JobStopWithoutSupervisorIsRecordedForItsNextStart) {
  EXPECT_EQ(stop_supervisor(), 0);
  auto stop = clawjail({"job", "stop", "job-offline", "--socket", world.socket.string(), "--config",
                        world.config_path.string()});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  start_supervisor();
  auto cst = job_token("job-offline");
  auto c = clawjail(run_args("job-offline", cst, {"--", "/bin/true"}));
  EXPECT_EQ(c.exit_code, 126);
}

}  // namespace
}  // namespace clawjail::test
