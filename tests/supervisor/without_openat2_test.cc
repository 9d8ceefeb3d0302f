// supervisor.without_openat2 (tests/supervisor/tests.cmake) is only worth its name if the running
// supervisor really cannot use openat2: its jails' workspaces then come from the component walk.
#include <fstream>
#include <string>

#include "fixture.h"
#include "tests/common/openat2_enosys.h"

namespace clawjail::test {
namespace {

std::string status_field(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + ":", 0) == 0) return line.substr(line.find_first_not_of(" \t", name.size() + 1));
  return "";
}

TEST_F(SupervisorTest, WithoutOpenat2TheSupervisorItselfRunsUnderTheFilter) {
  if (!openat2_refused()) GTEST_SKIP() << "runs as supervisor.without_openat2 (CLAWJAIL_TEST_OPENAT2_ENOSYS=1)";
  start_supervisor();
  // The supervisor installs no filter on itself outside systemd: mode 2 here is the inherited one.
  EXPECT_EQ(status_field(supervisor, "Seccomp"), "2");
  auto cst = job_token("job-walk");
  auto c = clawjail(run_args("job-walk", cst, {"--", "/bin/sh", "-c", "echo walked >/workspace/w.txt"}));
  EXPECT_EQ(c.exit_code, 0) << c.err << supervisor_log();
  std::ifstream written(world.workspace / "w.txt");
  std::string line;
  EXPECT_TRUE(std::getline(written, line) && line == "walked");
}

}  // namespace
}  // namespace clawjail::test
