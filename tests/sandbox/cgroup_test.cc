// An ended jail's cgroup is kept as a spare for the next jail with the same limits, and only
// when nothing of the last jail is left in it: no task, no limit event, little memory charged.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/sandbox/jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

struct Seen {
  std::string pids_cgroup;  // as the host sees it, while the jail runs
  Outcome outcome;
};

// Runs `script` in a jail that first waits for a line on its stdin, so that its cgroup can be
// read from the host while it lives. The jail is dropped before this returns.
Seen run_and_see(const JailSpec& spec, const std::string& script) {
  Seen seen;
  int hold[2];
  EXPECT_EQ(pipe2(hold, O_CLOEXEC), 0);
  int out = memfd_create("out", MFD_CLOEXEC);
  Command cmd;
  cmd.argv = {"/bin/sh", "-c", "read line; " + script};
  auto jail = Jail::start(spec, cmd, Io{hold[0], out, out, false});
  if (jail) {
    seen.pids_cgroup = cgroup_of(read_text("/proc/" + std::to_string(jail->pid()) + "/cgroup"), "pids");
    EXPECT_EQ(write(hold[1], "\n", 1), 1);
  }
  close(hold[1]);
  if (jail) seen.outcome = jail->wait();
  else seen.outcome.error = jail.error();
  close(hold[0]);
  close(out);
  return seen;
}

TEST(Cgroups, AnEndedJailsCgroupIsTakenByTheNextJailWithTheSameLimitsOnly) {
  if (!v1_cgroups_as_root()) GTEST_SKIP() << "needs root and the v1 memory and pids controllers";
  remove_spare_jail_cgroups();
  JailSpec spec = base_spec();
  Seen first = run_and_see(spec, "exit 0");
  Seen second = run_and_see(spec, "exit 0");
  ASSERT_NE(first.pids_cgroup.find("/clawjail/jail-"), std::string::npos) << first.pids_cgroup;
  EXPECT_EQ(second.pids_cgroup, first.pids_cgroup) << "the spare was not reused";
  EXPECT_EQ(second.outcome.status, RunStatus::success);
  spec.limits.pids += 1;
  Seen other = run_and_see(spec, "exit 0");
  EXPECT_NE(other.pids_cgroup, first.pids_cgroup) << "a spare went to a jail with other limits";
  EXPECT_EQ(read_text("/sys/fs/cgroup/pids" + other.pids_cgroup + "/pids.max"), std::to_string(spec.limits.pids) + "\n");
  EXPECT_EQ(remove_spare_jail_cgroups(), 2);
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/pids" + first.pids_cgroup));
}

// The kernel's limit counters only grow: a cgroup that saw pids.max reached would report the
// next jail as having hit it too.
TEST(Cgroups, ACgroupWhoseJailHitALimitIsNotReused) {
  if (!v1_cgroups_as_root()) GTEST_SKIP() << "needs root and the v1 memory and pids controllers";
  JailSpec spec = base_spec();
  spec.limits.pids = 8;
  Seen bomb = run_and_see(spec, "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 2 & done; exit 0");
  EXPECT_EQ(bomb.outcome.status, RunStatus::limit);
  Seen next = run_and_see(spec, "exit 0");
  EXPECT_EQ(next.outcome.status, RunStatus::success) << "the last jail's pids.max events counted against this one";
  EXPECT_NE(next.pids_cgroup, bomb.pids_cgroup);
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/pids" + bomb.pids_cgroup));
}

// Page cache of the files a jail wrote stays charged to its cgroup after it ends; the next jail,
// maybe another job's, would start by reclaiming it. 48 MB is above 1/16 of the 512 MiB limit.
TEST(Cgroups, ACgroupStillChargedWithTheLastJailsFilesIsNotReused) {
  if (!v1_cgroups_as_root()) GTEST_SKIP() << "needs root and the v1 memory and pids controllers";
  TempDir ws;
  JailSpec spec = base_spec();
  spec.workspace = ws.path();
  spec.workspace_access = policy::WorkspaceAccess::rw;
  ASSERT_EQ(spec.limits.memory_mb, 512);
  Seen writer = run_and_see(spec, "head -c 48000000 /dev/zero > /workspace/f");
  EXPECT_EQ(writer.outcome.status, RunStatus::success);
  EXPECT_EQ(std::filesystem::file_size(ws.path() / "f"), 48000000u);
  Seen next = run_and_see(spec, "exit 0");
  EXPECT_EQ(next.outcome.status, RunStatus::success);
  EXPECT_NE(next.pids_cgroup, writer.pids_cgroup) << "48 MB of the last jail's page cache went to the next one";
}

// Limits no WPC asks for any more must not hold the spares: the oldest one makes room.
TEST(Cgroups, TheOldestSpareMakesRoomForTheNewest) {
  if (!v1_cgroups_as_root()) GTEST_SKIP() << "needs root and the v1 memory and pids controllers";
  remove_spare_jail_cgroups();
  JailSpec spec = base_spec();
  std::vector<std::string> seen;
  for (int i = 0; i < 17; ++i) {
    spec.limits.pids = 100 + i;
    seen.push_back(run_and_see(spec, "exit 0").pids_cgroup);
  }
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/pids" + seen.front())) << "the oldest spare was kept";
  EXPECT_TRUE(std::filesystem::exists("/sys/fs/cgroup/pids" + seen.back())) << "the newest was not kept";
  EXPECT_EQ(remove_spare_jail_cgroups(), 16);
}

}  // namespace
}  // namespace clawjail::sandbox::testing
