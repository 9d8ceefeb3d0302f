// The jail's ordinary behaviour: a command runs, its output and status come back as produced.
#include "tests/sandbox/jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

TEST(Jail, RunsACommandAndRelaysItsOutput) {
  Ran r = sh(base_spec(), "echo hello; echo oops >&2; exit 3");
  ASSERT_FALSE(r.outcome.error) << r.outcome.error->detail;
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(r.err, "oops\n");
  EXPECT_EQ(r.outcome.status, RunStatus::error);
  EXPECT_EQ(r.outcome.exit_code, 3);
  EXPECT_EQ(r.outcome.stdout_bytes, 6);
  EXPECT_EQ(r.outcome.stdout_hash_b64u, "WJG1tSLV3whtD_CxEPvZ0hu0_HFjrzTQgoai6Eb2vgM");  // sha256("hello\n")
  EXPECT_TRUE(r.outcome.violations.empty());
}

TEST(Jail, OutputReopenedThroughDevStdoutAndDevStderrArrives) {
  Ran r = sh(base_spec(), "echo out > /dev/stdout && echo err > /dev/stderr");
  EXPECT_EQ(r.outcome.status, RunStatus::success) << r.err;
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

// The supervisor's threads block SIGPIPE; the command must not inherit that (or any) mask.
TEST(Jail, TheCommandStartsWithNoSignalBlockedAndDiesOfSigpipe) {
  auto ran = bash(base_spec(), "grep SigBlk /proc/self/status; yes | head -1; echo \"${PIPESTATUS[0]}\"");
  EXPECT_EQ(ran.outcome.status, RunStatus::success) << ran.err;
  EXPECT_EQ(ran.out, "SigBlk:\t0000000000000000\ny\n141\n") << ran.err;  // 128 + SIGPIPE
}

TEST(Jail, SuccessIsExitZero) {
  Ran r = sh(base_spec(), "true");
  EXPECT_EQ(r.outcome.status, RunStatus::success) << r.err;
  EXPECT_EQ(r.outcome.exit_code, 0);
}

TEST(Jail, MissingCommandIsAnError) {
  Ran r = run_in_jail(base_spec(), {"no-such-command-here"});
  EXPECT_EQ(r.outcome.status, RunStatus::error);
  ASSERT_TRUE(r.outcome.error);
  EXPECT_NE(r.outcome.error->detail.find("exec_not_found"), std::string::npos) << r.outcome.error->detail;
}

}  // namespace
}  // namespace clawjail::sandbox::testing
