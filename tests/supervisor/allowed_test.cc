// Admitted calls: receipts, exit status, streaming output, file tools.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "policy/encoding.h"

namespace clawjail::test {
namespace {

class AllowedCall : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
  // `clawjail fs` of `job` in the world's workspace, then `tail` (flags, op, paths).
  std::vector<std::string> fs_args(const std::string& job, const std::filesystem::path& cst,
                                   std::vector<std::string> tail) {
    std::vector<std::string> a = {"fs", "--socket", world.socket.string(), "--job", job, "--cst-file", cst.string(),
                                  "--workspace", world.workspace.string()};
    a.insert(a.end(), tail.begin(), tail.end());
    return a;
  }
};

TEST_F(AllowedCall, CommandRunsWithStartedAndFinishedReceiptsAndItsExitCode) {
  auto cst = job_token("job-ok");
  auto c = clawjail(run_args("job-ok", cst, {"--", "/bin/sh", "-c", "echo out; echo err >&2; exit 7"}));
  EXPECT_EQ(c.exit_code, 7) << c.err;
  EXPECT_EQ(c.out, "out\n");
  EXPECT_EQ(c.err, "err\n");
  auto r = receipts("job-ok");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["phase"], "started");
  EXPECT_EQ(r[0]["decision"], "allowed");
  EXPECT_EQ(r[0]["policy_hash_b64u"], main_wpc);
  EXPECT_EQ(r[0]["agent_did"], world.agent_key->did());
  EXPECT_EQ(r[1]["phase"], "finished");
  EXPECT_EQ(r[1]["call_id"], r[0]["call_id"]);
  EXPECT_EQ(r[1]["result"]["exit_code"], 7);
  EXPECT_EQ(r[1]["result"]["stdout_bytes"], 4);
  EXPECT_EQ(r[1]["result"]["stdout_hash_b64u"], policy::sha256_b64u("out\n"));
  EXPECT_EQ(r[1]["request_hash_b64u"], r[0]["request_hash_b64u"]);
}

// The jail's pid 1 is the supervisor's own init: what it shows of itself must not name the host's
// files (the supervisor's binary, its configuration, the state directory).
TEST_F(AllowedCall, TheJailsInitShowsNoHostPath) {
  auto cst = job_token("job-proc1");
  auto c = clawjail(run_args("job-proc1", cst, {"--", "/bin/sh", "-c",
                                                "for f in cmdline comm environ maps stat status; do echo \"== $f\"; "
                                                "tr '\\0' ' ' </proc/1/$f; echo; done; for l in exe cwd root; do "
                                                "echo \"== $l $(readlink /proc/1/$l)\"; done"}));
  EXPECT_EQ(c.exit_code, 0) << c.err;
  ASSERT_NE(c.out.find("== cmdline"), std::string::npos) << c.out;
  for (const auto& host : {std::string(CLAWJAIL_BINARY), world.config_path.string(), world.root.string(),
                           fs::path(CLAWJAIL_BINARY).parent_path().string(), std::string("serve")})
    EXPECT_EQ(c.out.find(host), std::string::npos) << "the jail sees " << host << ":\n" << c.out;
}

TEST_F(AllowedCall, DeathBySignalIs128PlusN) {
  auto cst = job_token("job-sig");
  auto c = clawjail(run_args("job-sig", cst, {"--", "/bin/sh", "-c", "kill -TERM $$"}));
  EXPECT_EQ(c.exit_code, 128 + SIGTERM) << c.err;
}

TEST_F(AllowedCall, TimeoutIs124) {
  auto cst = job_token("job-timeout");
  auto c = clawjail(run_args("job-timeout", cst, {"--timeout-ms", "300", "--", "/bin/sleep", "20"}));
  EXPECT_EQ(c.exit_code, 124) << c.err;
  auto r = receipts("job-timeout");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["result"]["status"], "timeout");
}

// A jail that reaches its pids limit and then runs out of time: the receipt says `limit`, and the
// client says so too and exits as a killed command (137), never as a supervisor failure (125).
// The limit is seen through the pids cgroup, so as root only.
TEST_F(AllowedCall, ALimitThenATimeoutExitsAsKilledAndSaysLimit) {
  if (geteuid() != 0) GTEST_SKIP() << "the pids limit is seen through a cgroup only as root";
  auto cst = job_token("job-limit");
  auto c = clawjail(run_args("job-limit", cst, {"--timeout-ms", "5000", "--", "/bin/bash", "-c",
                                                "for i in $(seq 300); do sleep 30 & done 2>/dev/null; wait"}));
  auto r = receipts("job-limit");
  ASSERT_EQ(r.size(), 2u);
  ASSERT_EQ(r[1]["result"]["status"], "limit") << r[1].dump();
  EXPECT_EQ(c.exit_code, 128 + SIGKILL) << c.err << r[1].dump();
  EXPECT_EQ(r[1]["result"]["signal"], SIGKILL);
  EXPECT_NE(c.err.find("clawjail: run: stopped at a limit of the WPC"), std::string::npos) << c.err;
}

TEST_F(AllowedCall, OutputStreamsBeforeTheCommandEnds) {
  auto cst = job_token("job-stream");
  auto client = start_client(run_args("job-stream", cst, {"--", "/bin/sh", "-c", "echo first; sleep 4; echo second"}));
  auto t0 = std::chrono::steady_clock::now();
  pollfd p{client.out.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 3000), 1) << "no output within 3 s";
  char buf[64] = {};
  ASSERT_GT(::read(client.out.get(), buf, sizeof(buf) - 1), 0);
  EXPECT_EQ(std::string(buf), "first\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(3500));
  int status = 0;
  EXPECT_EQ(::waitpid(client.pid, &status, WNOHANG), 0) << "the command had already ended";
  EXPECT_EQ(wait_exit_code(client.pid), 0);
  EXPECT_EQ(read_all(client.out.get()), "second\n");
}

TEST_F(AllowedCall, StdinReachesTheCommand) {
  auto cst = job_token("job-stdin");
  auto c = clawjail(run_args("job-stdin", cst, {"--", "/bin/cat"}), "piped input\n");
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "piped input\n");
}

TEST_F(AllowedCall, FileToolsWriteReadListInTheWorkspace) {
  auto cst = job_token("job-fs");
  auto fs = [&](std::vector<std::string> tail) { return fs_args("job-fs", cst, std::move(tail)); };
  auto w = clawjail(fs({"write", "notes.txt"}), "some data\n");
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto r = clawjail(fs({"read", "notes.txt"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "some data\n");
  auto ls = clawjail(fs({"--json", "ls", "."}));
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("notes.txt"), std::string::npos) << ls.out;
  auto missing = clawjail(fs({"read", "absent.txt"}));
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_EQ(receipts("job-fs").size(), 8u);
}

// A file larger than one call carries goes in ranges: --offset places a write, --offset and
// --length pick a read's bytes; a negative one never reaches the supervisor.
TEST_F(AllowedCall, FileToolsTakeRangesFromTheCommandLine) {
  auto cst = job_token("job-range");
  auto fs = [&](std::vector<std::string> tail) { return fs_args("job-range", cst, std::move(tail)); };
  ASSERT_EQ(clawjail(fs({"write", "r.txt"}), "0123456789").exit_code, 0);
  auto tail = clawjail(fs({"--offset", "10", "--no-truncate", "write", "r.txt"}), "abcdef");
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_EQ(clawjail(fs({"read", "r.txt"})).out, "0123456789abcdef");
  auto middle = clawjail(fs({"--offset", "8", "--length", "4", "read", "r.txt"}));
  EXPECT_EQ(middle.exit_code, 0) << middle.err;
  EXPECT_EQ(middle.out, "89ab");
  EXPECT_EQ(clawjail(fs({"--offset", "14", "read", "r.txt"})).out, "ef");
  EXPECT_EQ(clawjail(fs({"--length", "0", "read", "r.txt"})).out, "");
  const size_t before = receipts("job-range").size();
  auto negative = clawjail(fs({"--offset", "-1", "read", "r.txt"}));
  EXPECT_NE(negative.exit_code, 0);
  EXPECT_NE(negative.err.find("--offset"), std::string::npos) << negative.err;
  auto on_ls = clawjail(fs({"--length", "3", "ls", "."}));
  EXPECT_EQ(on_ls.exit_code, 126) << on_ls.err;
  EXPECT_NE(on_ls.err.find("takes no length"), std::string::npos) << on_ls.err;
  EXPECT_EQ(receipts("job-range").size(), before + 1) << "a refused request gets one blocked receipt";
}

TEST_F(AllowedCall, CallsOfDifferentJobsDoNotWaitForEachOther) {
  auto slow_cst = job_token("job-slow");
  auto fast_cst = job_token("job-fast");
  auto slow = start_client(run_args("job-slow", slow_cst, {"--", "/bin/sleep", "5"}));
  ASSERT_TRUE(wait_receipts("job-slow", 1));
  auto t0 = std::chrono::steady_clock::now();
  auto fast = clawjail(run_args("job-fast", fast_cst, {"--", "/bin/true"}));
  EXPECT_EQ(fast.exit_code, 0) << fast.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_EQ(wait_exit_code(slow.pid), 0);
}

}  // namespace
}  // namespace clawjail::test
