// File operations through the supervisor run in a file worker per job: reused by the job's next
// operations, never shared with another job, gone on job stop, rebuilt when killed, and every
// operation still gets its two receipts.
#include <signal.h>

#include <fstream>
#include <set>
#include <thread>

#include "policy/ledger.h"
#include "supervisor/client/client.h"
#include "supervisor/proto/protocol.h"
#include "supervisor/daemon/fs_workers.h"
#include "tests/supervisor/fixture.h"

namespace clawjail::test {
namespace {

std::set<pid_t> children_of(pid_t parent) {
  std::set<pid_t> out;
  for (auto& task : fs::directory_iterator("/proc/" + std::to_string(parent) + "/task")) {
    std::ifstream children(task.path() / "children");
    for (pid_t pid; children >> pid;) out.insert(pid);
  }
  return out;
}

// The jails' processes below the supervisor (their inits' children): file workers and commands.
std::set<pid_t> jail_processes(pid_t supervisor) {
  std::set<pid_t> out;
  for (pid_t init : children_of(supervisor))
    for (pid_t p : children_of(init)) out.insert(p);
  return out;
}

bool gone(pid_t pid) { return !fs::exists("/proc/" + std::to_string(pid)); }

class FileWorkers : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
  std::vector<std::string> fs_args(const std::string& job, const fs::path& cst, const fs::path& workspace,
                                   std::vector<std::string> tail) {
    std::vector<std::string> a = {"fs", "--socket", world.socket.string(), "--job", job, "--cst-file", cst.string(),
                                  "--workspace", workspace.string()};
    a.insert(a.end(), tail.begin(), tail.end());
    return a;
  }
  // The one jail process that serves `job`'s operations, found by what changed under the supervisor.
  pid_t worker_after(const std::set<pid_t>& before) {
    pid_t found = -1;
    for (pid_t p : jail_processes(supervisor))
      if (!before.count(p)) found = p;
    return found;
  }
};

TEST_F(FileWorkers, AJobsOperationsShareOneWorkerThatNoOtherJobGets) {
  auto cst_a = job_token("job-wa");
  auto cst_b = job_token("job-wb");
  const fs::path ws_b = root / "workspace-b";
  fs::create_directory(ws_b);
  auto before = jail_processes(supervisor);
  auto w = clawjail(fs_args("job-wa", cst_a, world.workspace, {"write", "a-only.txt"}), "from A\n");
  ASSERT_EQ(w.exit_code, 0) << w.err;
  const pid_t worker_a = worker_after(before);
  ASSERT_GT(worker_a, 0) << "no file worker stayed after the operation";
  auto r = clawjail(fs_args("job-wa", cst_a, world.workspace, {"read", "a-only.txt"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "from A\n");
  EXPECT_FALSE(gone(worker_a));
  EXPECT_EQ(worker_after(before), worker_a) << "job A's second operation did not reuse its worker";

  // Job B (its own workspace): a worker of its own, which sees nothing of A's.
  auto before_b = jail_processes(supervisor);
  auto st = clawjail(fs_args("job-wb", cst_b, ws_b, {"--json", "stat", "a-only.txt"}));
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_EQ(st.out, "null\n") << "job B sees job A's file";
  const pid_t worker_b = worker_after(before_b);
  ASSERT_GT(worker_b, 0);
  EXPECT_NE(worker_b, worker_a);
  auto escape = clawjail(fs_args("job-wb", cst_b, ws_b, {"read", "../workspace/a-only.txt"}));
  EXPECT_NE(escape.exit_code, 0);
  EXPECT_EQ(escape.out, "");
  // No descriptor of A's operations is in B's worker.
  for (auto& fd : fs::directory_iterator("/proc/" + std::to_string(worker_b) + "/fd")) {
    std::error_code ec;
    auto target = fs::read_symlink(fd.path(), ec).string();
    EXPECT_EQ(target.find(world.workspace.string()), std::string::npos) << target;
  }
  EXPECT_EQ(receipts("job-wa").size(), 4u);
  auto rb = receipts("job-wb");
  ASSERT_EQ(rb.size(), 4u);  // stat, and the escape the worker refused: two each
  EXPECT_EQ(rb[3]["reason_code"], "PATH_OUTSIDE_WORKSPACE");
}

TEST_F(FileWorkers, JobStopKillsTheWorkerAndAKilledOneIsRebuilt) {
  auto cst = job_token("job-wk");
  auto before = jail_processes(supervisor);
  ASSERT_EQ(clawjail(fs_args("job-wk", cst, world.workspace, {"write", "x.txt"}), "x").exit_code, 0);
  const pid_t worker = worker_after(before);
  ASSERT_GT(worker, 0);
  ASSERT_EQ(::kill(worker, SIGKILL), 0);
  for (int i = 0; i < 100 && !gone(worker); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto r = clawjail(fs_args("job-wk", cst, world.workspace, {"read", "x.txt"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "x");
  auto rs = receipts("job-wk");
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[3]["phase"], "finished");
  const pid_t rebuilt = worker_after(before);
  ASSERT_GT(rebuilt, 0);
  EXPECT_NE(rebuilt, worker);

  auto stop = clawjail({"job", "stop", "job-wk", "--socket", world.socket.string()});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  for (int i = 0; i < 100 && !gone(rebuilt); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(gone(rebuilt)) << "the job's file worker outlived `job stop`";
  auto after = clawjail(fs_args("job-wk", cst, world.workspace, {"read", "x.txt"}));
  EXPECT_EQ(after.exit_code, 126) << after.err;
}

// A job's worker serves each operation under the limits of that operation's own WPC: one built
// for a WPC with a 60 s timeout does not lend it to an operation whose WPC says 1 s.
TEST_F(FileWorkers, AReusedWorkerKeepsEachOperationToItsOwnWpcsTimeout) {
  const std::string job = "job-wt";
  auto cst_long = job_token(job);  // the main WPC: 60 s
  auto payload = demo::wpc_payload(world, {.policy_id = "short-timeout", .timeout_ms = 1000});
  auto short_wpc = demo::install_wpc(world, payload);
  ASSERT_TRUE(short_wpc.ok()) << short_wpc.error().detail;
  auto before = jail_processes(supervisor);
  ASSERT_EQ(clawjail(fs_args(job, cst_long, world.workspace, {"write", "t.txt"}), "x").exit_code, 0);
  const pid_t worker = worker_after(before);
  ASSERT_GT(worker, 0);

  // A write whose data never ends: only the timeout ends it.
  Json call = {{"clawjail_protocol", 1}, {"type", "call"}, {"job_id", job}, {"wpc_hash_b64u", *short_wpc},
               {"tool", "write"}, {"cst", demo::issue_token(world, {.job = job, .policy_hash_b64u = *short_wpc})},
               {"workspace", world.workspace.string()}, {"fs", {{"op", "write"}, {"paths", {"t.txt"}}}}};
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd data_r(p[0]), data_w(p[1]);
  auto fd = client::connect_unix(world.socket);
  ASSERT_TRUE(fd);
  int fds[3] = {data_r.get(), 1, 2};
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(proto::write_frame(fd.get(), call.dump(), fds).ok());
  data_r.reset();
  auto frame = proto::read_frame(fd.get(), sent + std::chrono::seconds(15));
  const auto took = std::chrono::steady_clock::now() - sent;
  ASSERT_TRUE(frame.ok()) << "no answer within 15 s: the operation ran under another WPC's timeout";
  auto answer = Json::parse(frame->body);
  EXPECT_EQ(answer["status"], "timeout") << answer.dump();
  EXPECT_EQ(answer["exit_code"], 124);
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(receipts(job).size(), 4u);
}

// The registry itself, with a short idle time: a worker nobody uses is dropped, and so is the
// worker of a job stopped from another process (the ledger).
TEST_F(FileWorkers, IdleWorkersAndThoseOfStoppedJobsAreDropped) {
  Ledger ledger(world.state_dir);
  clawjail::FsWorkers workers(ledger, std::chrono::milliseconds(300));
  sandbox::JailSpec spec;
  spec.workspace = world.workspace;
  spec.workspace_access = policy::WorkspaceAccess::rw;
  sandbox::FsOp stat;
  stat.op = sandbox::FsOpKind::stat;
  stat.paths = {"."};
  pid_t init = -1;
  {
    auto lease = workers.take("job-idle", std::nullopt, spec);
    ASSERT_TRUE(lease.ok()) << lease.error().detail;
    ASSERT_TRUE(lease->has_value());
    ASSERT_TRUE((*lease)->worker().run(spec, stat, {}, -1, nullptr).ok());
    init = (*lease)->worker().pid();
    auto busy = workers.take("job-idle", std::nullopt, spec);
    ASSERT_TRUE(busy.ok());
    EXPECT_FALSE(busy->has_value()) << "a busy worker was handed to a second operation";
  }
  {
    auto again = workers.take("job-idle", std::nullopt, spec);
    ASSERT_TRUE(again.ok() && again->has_value());
    EXPECT_EQ((*again)->worker().pid(), init);
  }
  EXPECT_EQ(workers.size(), 1u);
  for (int i = 0; i < 100 && workers.size() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(workers.size(), 0u);
  for (int i = 0; i < 100 && !gone(init); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(gone(init)) << "the idle worker's jail is still there";

  clawjail::FsWorkers long_lived(ledger, std::chrono::seconds(60));
  {
    auto lease = long_lived.take("job-stopped-elsewhere", std::nullopt, spec);
    ASSERT_TRUE(lease.ok() && lease->has_value());
    init = (*lease)->worker().pid();
  }
  ASSERT_TRUE(policy::TokenLedger(world.state_dir).revoke_job("job-stopped-elsewhere").ok());
  ledger.reload();
  for (int i = 0; i < 150 && !gone(init); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(gone(init)) << "the worker of a stopped job is still there";
}

}  // namespace
}  // namespace clawjail::test
