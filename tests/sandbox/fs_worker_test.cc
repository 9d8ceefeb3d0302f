// The file worker: one file-tool jail serving the operations of one job in turn. It is confined
// exactly like a jail per operation, and what one operation or a command plants between two
// operations cannot steer the next one out of the workspace.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "tests/sandbox/jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

// The worker is the only child of the jail's init.
pid_t worker_pid(pid_t init) {
  std::ifstream children("/proc/" + std::to_string(init) + "/task/" + std::to_string(init) + "/children");
  pid_t pid = -1;
  children >> pid;
  return pid;
}

std::string status_field(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(field + ":", 0) == 0) {
      auto v = line.substr(field.size() + 1);
      return v.substr(v.find_first_not_of(" \t"));
    }
  return "";
}

class FsWorkerTest : public ::testing::Test {
 protected:
  FsWorkerTest() {
    spec_ = base_spec();
    spec_.workspace = ws_.path();
    spec_.workspace_access = policy::WorkspaceAccess::rw;
    std::ofstream(ws_.path() / "hello.txt") << "hello";
    std::ofstream(outside_.path() / "secret") << "HOSTSECRET";
  }
  static FsOp make(FsOpKind kind, std::vector<std::string> paths) {
    FsOp o;
    o.op = kind;
    o.paths = std::move(paths);
    return o;
  }
  Result<FsResult> run(FsWorker& w, FsOp o, int in = -1, std::string* out = nullptr) {
    int fd = memfd_create("out", MFD_CLOEXEC);
    auto r = w.run(spec_, o, Io{in, fd, -1, false}, -1, nullptr);
    if (out) *out = slurp(fd);
    close(fd);
    return r;
  }
  TempDir ws_, outside_;
  JailSpec spec_;
};

TEST_F(FsWorkerTest, OneJailServesOperationAfterOperation) {
  auto w = FsWorker::start(spec_);
  ASSERT_TRUE(w.ok()) << w.error().detail;
  const pid_t init = (*w)->pid();
  int in = memfd_create("in", MFD_CLOEXEC);
  ASSERT_EQ(write(in, "new data", 8), 8);
  lseek(in, 0, SEEK_SET);
  ASSERT_FALSE(run(**w, make(FsOpKind::write, {"a/b.txt"}), in).ok());  // no parent yet
  const pid_t worker = worker_pid(init);  // started by the init once released: there by now
  ASSERT_GT(worker, 0);
  FsOp mk = make(FsOpKind::mkdir, {"a"});
  ASSERT_TRUE(run(**w, mk).ok());
  lseek(in, 0, SEEK_SET);
  auto wr = run(**w, make(FsOpKind::write, {"a/b.txt"}), in);
  ASSERT_TRUE(wr.ok()) << wr.error().detail;
  std::string out;
  auto rd = run(**w, make(FsOpKind::read, {"a/b.txt"}), -1, &out);
  ASSERT_TRUE(rd.ok()) << rd.error().detail;
  EXPECT_EQ(out, "new data");
  EXPECT_EQ(rd->outcome.stdout_bytes, 8);
  EXPECT_EQ(rd->outcome.status, RunStatus::success);
  auto st = run(**w, make(FsOpKind::stat, {"a/b.txt"}));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->value["size"], 8);
  auto ls = run(**w, make(FsOpKind::ls, {"a"}));
  ASSERT_TRUE(ls.ok());
  ASSERT_EQ(ls->value.size(), 1u);
  EXPECT_EQ((*w)->pid(), init);
  EXPECT_EQ(worker_pid(init), worker) << "the operations did not all run in the same worker";
  EXPECT_EQ((*w)->operations(), 6u);
  // Each operation closed what it opened: the worker holds its stdio, report and channel only.
  size_t fds = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(worker) + "/fd")) ++fds;
  EXPECT_LE(fds, 6u);
  close(in);
}

TEST_F(FsWorkerTest, ConfinedLikeAFileToolJail) {
  auto w = FsWorker::start(spec_);
  ASSERT_TRUE(w.ok()) << w.error().detail;
  ASSERT_TRUE(run(**w, make(FsOpKind::stat, {"hello.txt"})).ok());
  const pid_t worker = worker_pid((*w)->pid());
  ASSERT_GT(worker, 0);
  EXPECT_EQ(status_field(worker, "Seccomp"), "2");
  EXPECT_EQ(status_field(worker, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(worker, "CapEff"), "0000000000000000");
  EXPECT_EQ(status_field(worker, "CapBnd"), "0000000000000000");
  auto uid = status_field(worker, "Uid");
  EXPECT_NE(uid.rfind("0\t", 0), 0u) << "the worker runs as root on the host: " << uid;
  EXPECT_NE(std::stoul(uid), static_cast<unsigned long>(geteuid())) << "the worker has the supervisor's uid";
  EXPECT_EQ(status_field(worker, "TracerPid"), "0");
  // The same spec as a command: its filter refuses execve, so a hostile attempt to start a
  // program from a file-tool jail fails.
  JailSpec no_exec = spec_;
  no_exec.allow_exec = false;
  Ran r = sh(no_exec, "true");
  EXPECT_TRUE(r.violated("execve"));
  EXPECT_EQ(r.outcome.status, RunStatus::error);
}

TEST_F(FsWorkerTest, EscapesPlantedBetweenOperationsAreRefused) {
  auto w = FsWorker::start(spec_);
  ASSERT_TRUE(w.ok()) << w.error().detail;
  std::string out;
  ASSERT_TRUE(run(**w, make(FsOpKind::read, {"hello.txt"}), -1, &out).ok());
  // A command of the same job plants symlinks and a `..` path in the workspace.
  const std::string outside = outside_.path().string();
  Ran planted = sh(spec_, "ln -s " + outside + "/secret /workspace/link && ln -s " + outside +
                              " /workspace/dirlink && ln -s .. /workspace/up && ln -s /etc/passwd /workspace/passwd");
  ASSERT_EQ(planted.outcome.status, RunStatus::success) << planted.err;
  for (std::string path : {"link", "dirlink/secret", "up/hello.txt", "passwd", "../secret"}) {
    out.clear();
    auto r = run(**w, make(FsOpKind::read, {path}), -1, &out);
    EXPECT_FALSE(r.ok()) << path << " was read: " << out;
    if (!r.ok()) {
      EXPECT_EQ(r.reason(), Reason::PATH_OUTSIDE_WORKSPACE) << path << ": " << r.error().detail;
    }
    EXPECT_EQ(out.find("HOSTSECRET"), std::string::npos);
  }
  int in = memfd_create("in", MFD_CLOEXEC);
  ASSERT_EQ(write(in, "X", 1), 1);
  lseek(in, 0, SEEK_SET);
  EXPECT_FALSE(run(**w, make(FsOpKind::write, {"dirlink/secret"}), in).ok());
  EXPECT_EQ(read_text(outside_.path() / "secret"), "HOSTSECRET");
  EXPECT_FALSE(run(**w, make(FsOpKind::remove, {"dirlink/secret"})).ok());
  EXPECT_TRUE(std::filesystem::exists(outside_.path() / "secret"));
  // Still serving, in the same worker.
  EXPECT_TRUE(run(**w, make(FsOpKind::read, {"hello.txt"})).ok());
  EXPECT_EQ((*w)->operations(), 9u);
  close(in);
}

// A refused write closes the worker's end of the data pipe while the caller still has bytes to
// pass on: the caller gets the refusal, not SIGPIPE (whose default action ends the process), and
// its thread's signal mask is as it was.
TEST_F(FsWorkerTest, ARefusedWriteWithDataStillComingDoesNotEndTheCaller) {
  auto w = FsWorker::start(spec_);
  ASSERT_TRUE(w.ok()) << w.error().detail;
  Ran planted = sh(spec_, "ln -s " + outside_.path().string() + " /workspace/dirlink");
  ASSERT_EQ(planted.outcome.status, RunStatus::success) << planted.err;
  int in = memfd_create("in", MFD_CLOEXEC);
  const std::string mib(1 << 20, 'X');  // far more than a pipe holds: the caller is still writing
  ASSERT_EQ(write(in, mib.data(), mib.size()), static_cast<ssize_t>(mib.size()));
  for (int i = 0; i < 3; ++i) {
    lseek(in, 0, SEEK_SET);
    auto r = run(**w, make(FsOpKind::write, {"dirlink/new"}), in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.reason(), Reason::PATH_OUTSIDE_WORKSPACE) << r.error().detail;
  }
  EXPECT_FALSE(std::filesystem::exists(outside_.path() / "new"));
  sigset_t mask, pending;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGPIPE)) << "the run left SIGPIPE blocked";
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
  EXPECT_TRUE(run(**w, make(FsOpKind::read, {"hello.txt"})).ok());
  close(in);
}

TEST_F(FsWorkerTest, AMissedDeadlineOrAKillEndsTheWorker) {
  spec_.limits.timeout_ms = 500;
  auto w = FsWorker::start(spec_);
  ASSERT_TRUE(w.ok()) << w.error().detail;
  int data[2];
  ASSERT_EQ(pipe2(data, O_CLOEXEC), 0);  // the write end stays open: the write waits for more
  auto r = run(**w, make(FsOpKind::write, {"endless.txt"}), data[0]);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->outcome.status, RunStatus::timeout);
  EXPECT_FALSE((*w)->alive());
  EXPECT_FALSE((*w)->serves(spec_));
  for (int fd : data) close(fd);

  auto w2 = FsWorker::start(spec_);
  ASSERT_TRUE(w2.ok()) << w2.error().detail;
  ASSERT_TRUE(run(**w2, make(FsOpKind::stat, {"hello.txt"})).ok());
  const pid_t worker = worker_pid((*w2)->pid());
  ASSERT_EQ(::kill(worker, SIGKILL), 0);
  auto after = run(**w2, make(FsOpKind::stat, {"hello.txt"}));
  EXPECT_TRUE(!after.ok() || after->outcome.status != RunStatus::success);
  for (int i = 0; i < 100 && (*w2)->alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE((*w2)->alive()) << "the jail outlived its worker";
}

TEST_F(FsWorkerTest, ServesOnlyItsOwnSpecAndWorkspace) {
  auto w = FsWorker::start(spec_);
  ASSERT_TRUE(w.ok()) << w.error().detail;
  EXPECT_TRUE((*w)->serves(spec_));
  JailSpec other = spec_;
  other.workspace = outside_.path();
  EXPECT_FALSE((*w)->serves(other));
  JailSpec ro = spec_;
  ro.workspace_access = policy::WorkspaceAccess::ro;
  EXPECT_FALSE((*w)->serves(ro));
  JailSpec longer = spec_;
  longer.limits.timeout_ms = spec_.limits.timeout_ms + 1;  // the deadline is the operation's
  EXPECT_TRUE((*w)->serves(longer));
  // The workspace replaced behind its path: not the directory the worker bound.
  auto moved = ws_.path().string() + ".moved";
  std::filesystem::rename(ws_.path(), moved);
  std::filesystem::create_directory(ws_.path());
  EXPECT_FALSE((*w)->serves(spec_));
  std::filesystem::remove_all(ws_.path());
  std::filesystem::rename(moved, ws_.path());
}

}  // namespace
}  // namespace clawjail::sandbox::testing
