// run_captured's options, as the OpenClaw audit relies on them: a bound that holds even when the
// program leaves helpers holding its pipes, a bound on output, and an environment of our choosing.
#include <gtest/gtest.h>

#include <chrono>

#include "supervisor/common/subprocess.h"

namespace clawjail {
namespace {

using std::chrono::steady_clock;

TEST(RunCaptured, OwnGroupTimeoutKillsHelpersHoldingThePipes) {
  RunOptions options;
  options.timeout = std::chrono::seconds(1);
  options.own_group = true;
  const auto start = steady_clock::now();
  auto r = run_captured({"/bin/sh", "-c", "sleep 60 & sleep 60"}, {}, options);
  ASSERT_TRUE(r.ok());
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(15));
  EXPECT_EQ(r->exit_code, 128 + 9);
}

TEST(RunCaptured, OutputBeyondTheBoundKillsTheChild) {
  RunOptions options;
  options.timeout = std::chrono::seconds(60);
  options.max_output = 1 << 20;
  options.own_group = true;
  auto r = run_captured({"/usr/bin/yes"}, {}, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 128 + 9);
  EXPECT_LT(r->out.size(), size_t{4} << 20);
}

TEST(RunCaptured, ExtraEnvironmentReplacesAName) {
  ::setenv("CLAWJAIL_TEST_VAR", "old", 1);
  RunOptions options;
  options.extra_env = {"CLAWJAIL_TEST_VAR=new"};
  auto r = run_captured({"/usr/bin/env"}, {}, options);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->out.find("CLAWJAIL_TEST_VAR=new\n"), std::string::npos) << r->out;
  EXPECT_EQ(r->out.find("CLAWJAIL_TEST_VAR=old"), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("PATH="), std::string::npos) << "the rest of the environment is kept";
  ::unsetenv("CLAWJAIL_TEST_VAR");
}

}  // namespace
}  // namespace clawjail
