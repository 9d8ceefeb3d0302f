// max_calls_per_job: how many calls of one job run at once (docs/operations.md "Background calls").
#include <signal.h>

#include <thread>

#include "fixture.h"
#include "policy/strict_json.h"
#include "supervisor/common/config.h"
#include "supervisor/common/subprocess.h"

namespace clawjail::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class JobSlots : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    auto config = policy::parse_strict_json_file(world.config_path);
    ASSERT_TRUE(config.ok());
    (*config)["max_calls_per_job"] = 2;
    ASSERT_TRUE(demo::write_file(world.config_path, config->dump(2)).ok());
    start_supervisor();
  }
  Client start_sleeper(const std::string& job, const fs::path& cst, const std::string& marker) {
    auto c = start_client(run_args(job, cst, {"--", "/bin/sh", "-c", "sleep 30; : " + marker}));
    for (int i = 0; i < 250 && !process_with_marker_exists(marker); ++i) std::this_thread::sleep_for(milliseconds(20));
    EXPECT_TRUE(process_with_marker_exists(marker)) << marker << " never ran";
    return c;
  }
};

TEST_F(JobSlots, PastItsLimitAJobsCallIsBlockedOtherJobsRunAndAFreedSlotIsUsedAgain) {
  const std::string job = "job-slots";
  auto cst = job_token(job);
  auto first = start_sleeper(job, cst, "marker-slot-1");
  auto second = start_sleeper(job, cst, "marker-slot-2");

  auto third = clawjail(run_args(job, cst, {"--", "/bin/sh", "-c", "touch /workspace/third-ran"}));
  EXPECT_EQ(third.exit_code, 126) << third.err;
  EXPECT_NE(third.err.find("clawjail: blocked: JOB_CALL_LIMIT: job job-slots already has 2 calls running"),
            std::string::npos)
      << third.err;
  EXPECT_FALSE(fs::exists(world.workspace / "third-ran"));
  auto r = receipts(job);
  ASSERT_EQ(r.size(), 3u);  // two started, one blocked
  EXPECT_EQ(r[2]["phase"], "blocked");
  EXPECT_EQ(r[2]["decision"], "blocked");
  EXPECT_EQ(r[2]["reason_code"], "JOB_CALL_LIMIT");
  // File tools count too.
  auto fs_call = clawjail({"fs", "--socket", world.socket.string(), "--job", job, "--cst-file", cst.string(),
                           "--workspace", world.workspace.string(), "stat", "."});
  EXPECT_EQ(fs_call.exit_code, 126) << fs_call.err;

  auto other = clawjail(run_args("job-slots-other", job_token("job-slots-other"), {"--", "/bin/true"}));
  EXPECT_EQ(other.exit_code, 0) << "another job is not limited by this one: " << other.err;

  ::kill(first.pid, SIGKILL);  // its call is killed and its slot freed once it has its receipt
  wait_exit_code(first.pid);
  Captured again;
  const auto deadline = steady_clock::now() + std::chrono::seconds(10);
  do {
    again = clawjail(run_args(job, cst, {"--", "/bin/true"}));
    if (again.exit_code == 0) break;
    std::this_thread::sleep_for(milliseconds(50));
  } while (steady_clock::now() < deadline);
  EXPECT_EQ(again.exit_code, 0) << "the slot of the killed call was not freed: " << again.err;
  ::kill(second.pid, SIGKILL);
  wait_exit_code(second.pid);
}

TEST(JobSlotsConfig, OutOfRangeIsAStartUpError) {
  for (int bad : {0, 4097}) {
    auto config = parse_config({{"max_calls_per_job", bad}}, "/x/config.json");
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_NE(config.error().detail.find("max_calls_per_job: between 1 and 4096"), std::string::npos);
  }
  auto good = parse_config({{"max_calls_per_job", 1}}, "/x/config.json");
  ASSERT_TRUE(good.ok()) << good.error().detail;
  EXPECT_EQ(good->max_calls_per_job, 1);
}

}  // namespace
}  // namespace clawjail::test
