// Background calls (`exec.background`, OpenClaw's background exec): refused without the WPC's
// `process` scope; with it, bounded by sandbox.limits.background_ms instead of timeout_ms. Their
// cancellation (client, job stop, revocation) is in cancel_test.cc.
#include <thread>

#include "fixture.h"

namespace clawjail::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class Background : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
};

TEST_F(Background, RefusedWithoutTheProcessScope) {
  auto cst = job_token("job-bg-refused");  // the main WPC allows exec, not process
  auto marker = world.workspace / "bg-ran";
  auto c = clawjail(run_args("job-bg-refused", cst, {"--background", "--", "/bin/sh", "-c", "touch /workspace/bg-ran"}));
  EXPECT_EQ(c.exit_code, 126) << c.err;
  EXPECT_NE(c.err.find("clawjail: blocked: EXEC_DENIED: process: not allowed by the WPC (a background exec needs it)"),
            std::string::npos)
      << c.err;
  EXPECT_FALSE(fs::exists(marker)) << "the refused background command ran";
  auto r = receipts("job-bg-refused");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["phase"], "blocked");
  EXPECT_EQ(r[0]["reason_code"], "EXEC_DENIED");
  EXPECT_EQ(r[0]["scopes"], Json::array({"exec", "process"}));
  // The same command in the foreground runs: only the background needs `process`.
  EXPECT_EQ(clawjail(run_args("job-bg-refused", cst, {"--", "/bin/sh", "-c", "touch /workspace/bg-ran"})).exit_code, 0);
  EXPECT_TRUE(fs::exists(marker));
}

TEST_F(Background, OutlivesTheForegroundTimeout) {
  auto cst = token_file("bg", {.job = "job-bg-long", .policy_hash_b64u = install_background_wpc(1000, 30000)});
  const std::vector<std::string> cmd = {"--", "/bin/sh", "-c", "sleep 2.5; echo still-here"};
  auto fg = clawjail(run_args("job-bg-long", cst, cmd));
  EXPECT_EQ(fg.exit_code, 124) << fg.err;  // the foreground call dies at timeout_ms
  std::vector<std::string> bg_args = {"--background"};
  bg_args.insert(bg_args.end(), cmd.begin(), cmd.end());
  auto bg = clawjail(run_args("job-bg-long", cst, bg_args));
  EXPECT_EQ(bg.exit_code, 0) << bg.err;
  EXPECT_EQ(bg.out, "still-here\n");
  auto r = receipts("job-bg-long");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[1]["result"]["status"], "timeout");
  EXPECT_EQ(r[2]["phase"], "started");
  EXPECT_EQ(r[2]["scopes"], Json::array({"exec", "process"}));
  EXPECT_EQ(r[3]["phase"], "finished");
  EXPECT_EQ(r[3]["result"]["status"], "success");
  EXPECT_GE(r[3]["result"]["duration_ms"].get<int64_t>(), 2500);
  EXPECT_NE(r[2]["jail_hash_b64u"], r[0]["jail_hash_b64u"]) << "the jail description shows the longer limit";
}

TEST_F(Background, KilledAtItsLifetimeLimit) {
  auto cst = token_file("bg", {.job = "job-bg-limit", .policy_hash_b64u = install_background_wpc(500, 2000)});
  auto t0 = steady_clock::now();
  auto c = clawjail(run_args("job-bg-limit", cst, {"--background", "--", "/bin/sh", "-c", "sleep 30; : marker-bg-limit"}));
  auto took = steady_clock::now() - t0;
  EXPECT_EQ(c.exit_code, 124) << c.err;
  EXPECT_NE(c.err.find("timed out: the background call reached its lifetime limit of 2000 ms"), std::string::npos) << c.err;
  EXPECT_GE(took, milliseconds(2000));
  EXPECT_LT(took, milliseconds(10000));
  EXPECT_FALSE(process_with_marker_exists("marker-bg-limit")) << "a jail process survived its limit";
  auto r = receipts("job-bg-limit");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["phase"], "finished");
  EXPECT_EQ(r[1]["result"]["status"], "timeout");
  EXPECT_EQ(r[1]["result"]["signal"], 9);
  EXPECT_NE(r[1].value("reason", "").find("sandbox.limits.background_ms"), std::string::npos) << r[1].dump();
  // The client may ask for less, never for more.
  auto shorter = clawjail(run_args("job-bg-limit", cst, {"--background", "--timeout-ms", "600", "--", "/bin/sleep", "30"}));
  EXPECT_EQ(shorter.exit_code, 124);
  EXPECT_NE(shorter.err.find("lifetime limit of 600 ms"), std::string::npos) << shorter.err;
  auto longer = clawjail(run_args("job-bg-limit", cst, {"--background", "--timeout-ms", "60000", "--", "/bin/sleep", "30"}));
  EXPECT_NE(longer.err.find("lifetime limit of 2000 ms"), std::string::npos) << longer.err;
}

}  // namespace
}  // namespace clawjail::test
