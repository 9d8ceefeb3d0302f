// `clawjail run --pty` end to end: the real binary, a real supervisor, the call's own terminal.
#include "fixture.h"

namespace clawjail::test {
namespace {

class PtyCall : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
};

TEST_F(PtyCall, TtyPrintsTheJailsTerminalAndTheReceiptCountsItsOutput) {
  auto cst = job_token("job-pty");
  auto c = clawjail(run_args("job-pty", cst, {"--pty", "--", "/usr/bin/tty"}));
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out.rfind("/dev/pts/", 0), 0u) << c.out;
  EXPECT_EQ(c.out.substr(c.out.size() - 2), "\r\n") << c.out;  // the terminal's own line ending
  auto r = receipts("job-pty");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["result"]["stdout_bytes"], c.out.size());
  EXPECT_EQ(r[1]["result"]["stdout_hash_b64u"], policy::sha256_b64u(c.out));
}

TEST_F(PtyCall, WithoutPtyThereIsNoTerminal) {
  auto cst = job_token("job-nopty");
  auto c = clawjail(run_args("job-nopty", cst, {"--", "/usr/bin/tty"}));
  EXPECT_EQ(c.exit_code, 1) << c.err;
  EXPECT_EQ(c.out, "not a tty\n");
}

TEST_F(PtyCall, StdinStdoutAndStderrAreTheTerminalAndInputArrives) {
  auto cst = job_token("job-pty-io");
  auto c = clawjail(run_args("job-pty-io", cst,
                             {"--pty", "--", "/bin/sh", "-c",
                              "test -t 0 && test -t 1 && test -t 2 && echo all-tty; read -r l; echo got:$l; exit 3"}),
                    "hello\n");
  EXPECT_EQ(c.exit_code, 3) << c.err;
  EXPECT_NE(c.out.find("all-tty\r\n"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("got:hello\r\n"), std::string::npos) << c.out;
  EXPECT_EQ(c.err, "");
}

TEST_F(PtyCall, TimeoutIs124WithAPtyToo) {
  auto cst = job_token("job-pty-timeout");
  auto c = clawjail(run_args("job-pty-timeout", cst, {"--pty", "--timeout-ms", "300", "--", "/bin/sleep", "20"}));
  EXPECT_EQ(c.exit_code, 124) << c.err;
  auto r = receipts("job-pty-timeout");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["result"]["status"], "timeout");
}

}  // namespace
}  // namespace clawjail::test
