// File tools run inside a jail by clawjail's own code: they work inside the workspace and
// cannot be steered out of it by `..`, absolute paths or symlinks.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/sandbox/jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

class FsOps : public ::testing::Test {
 protected:
  FsOps() {
    spec_ = base_spec();
    spec_.workspace = ws_.path();
    spec_.workspace_access = policy::WorkspaceAccess::rw;
    std::ofstream(ws_.path() / "hello.txt") << "hello";
    std::ofstream(outside_.path() / "secret") << "HOSTSECRET";
  }
  Result<FsResult> op(FsOp o, int in = -1, std::string* out = nullptr) {
    int fd = memfd_create("out", MFD_CLOEXEC);
    auto r = run_fs_op(spec_, o, Io{in, fd, -1, false});
    if (out) *out = slurp(fd);
    close(fd);
    return r;
  }
  static FsOp make(std::string name, std::vector<std::string> paths) {
    FsOp o;
    o.op = *from_name<FsOpKind>(name);
    o.paths = std::move(paths);
    return o;
  }
  TempDir ws_, outside_;
  JailSpec spec_;
};

TEST_F(FsOps, ReadStreamsTheFile) {
  std::string out;
  auto r = op(make("read", {"hello.txt"}), -1, &out);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(r->outcome.stdout_bytes, 5);
  EXPECT_EQ(r->outcome.status, RunStatus::success);
}

TEST_F(FsOps, WriteCreatesTruncatesAndHonoursExclusive) {
  int in = memfd_create("in", MFD_CLOEXEC);
  ASSERT_EQ(write(in, "new data", 8), 8);
  lseek(in, 0, SEEK_SET);
  auto w = op(make("write", {"dir-less.txt"}), in);
  ASSERT_TRUE(w.ok()) << w.error().detail;
  std::ifstream f(ws_.path() / "dir-less.txt");
  std::string content((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(content, "new data");
  FsOp excl = make("write", {"hello.txt"});
  excl.exclusive = true;
  lseek(in, 0, SEEK_SET);
  auto e = op(excl, in);
  EXPECT_EQ(e.reason(), Reason::FS_OP_FAILED);
  close(in);
}

TEST_F(FsOps, LsAndStatDescribeWithoutFollowingSymlinks) {
  std::filesystem::create_symlink(outside_.path() / "secret", ws_.path() / "link");
  auto ls = op(make("ls", {"."}));
  ASSERT_TRUE(ls.ok()) << ls.error().detail;
  ASSERT_EQ(ls->value.size(), 2u) << ls->value.dump();
  for (const auto& e : ls->value) {
    if (e["name"] == "hello.txt") EXPECT_EQ(e["size"], 5);
    else EXPECT_EQ(e["type"], "symlink");
  }
  auto st = op(make("stat", {"link"}));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->value["type"], "symlink");
  auto missing = op(make("stat", {"nope"}));
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->value.is_null());
}

TEST_F(FsOps, MkdirPRemoveRecursiveAndRename) {
  FsOp mk = make("mkdir", {"a/b/c"});
  mk.recursive = true;
  ASSERT_TRUE(op(mk).ok());
  EXPECT_TRUE(std::filesystem::is_directory(ws_.path() / "a/b/c"));
  std::ofstream(ws_.path() / "a/b/c/f") << "x";
  ASSERT_TRUE(op(make("rename", {"a", "z"})).ok());
  EXPECT_TRUE(std::filesystem::exists(ws_.path() / "z/b/c/f"));
  EXPECT_EQ(op(make("remove", {"z"})).reason(), Reason::FS_OP_FAILED);  // not empty, not recursive
  FsOp rm = make("remove", {"z"});
  rm.recursive = true;
  auto r = op(rm);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_FALSE(std::filesystem::exists(ws_.path() / "z"));
}

TEST_F(FsOps, DotDotCannotEscape) {
  std::filesystem::create_directory(ws_.path() / "a");
  for (const char* path : {"../secret", "a/../../x", "./../../etc/passwd"}) {
    std::string out;
    auto r = op(make("read", {path}), -1, &out);
    EXPECT_EQ(r.reason(), Reason::PATH_OUTSIDE_WORKSPACE) << path << ": " << (r ? "" : r.error().detail);
    EXPECT_EQ(out, "");
  }
  FsOp mk = make("mkdir", {"../escape"});
  mk.recursive = true;
  EXPECT_FALSE(op(mk).ok());
  EXPECT_FALSE(std::filesystem::exists(ws_.path().parent_path() / "escape"));
  EXPECT_EQ(op(make("read", {"/etc/passwd"})).reason(), Reason::PATH_OUTSIDE_WORKSPACE);
}

// openat2 with RESOLVE_BENEATH answers EAGAIN when a `..` is walked while anything on the host is
// renamed or mounted; the file tool retries instead of failing a legitimate path.
TEST_F(FsOps, DotDotInsideTheWorkspaceWorksWhileTheHostRenamesFiles) {
  std::filesystem::create_directory(ws_.path() / "a");
  std::atomic<bool> stop{false};
  TempDir scratch;
  std::thread renamer([&] {
    const auto x = scratch.path() / "x", y = scratch.path() / "y";
    std::ofstream(x) << "x";
    while (!stop.load()) {
      std::filesystem::rename(x, y);
      std::filesystem::rename(y, x);
    }
  });
  int failures = 0;
  std::string last_error;
  for (int i = 0; i < 40; ++i) {
    std::string out;
    auto r = op(make("read", {"a/../hello.txt"}), -1, &out);
    if (!r.ok() || out != "hello") {
      ++failures;
      last_error = r.ok() ? out : r.error().detail;
    }
  }
  stop = true;
  renamer.join();
  EXPECT_EQ(failures, 0) << last_error;
}

TEST_F(FsOps, SymlinkInWorkspaceCannotReachHostFile) {
  std::filesystem::create_symlink(outside_.path() / "secret", ws_.path() / "link");
  std::filesystem::create_symlink(outside_.path(), ws_.path() / "dirlink");
  std::filesystem::create_symlink("/proc/self/root/etc/passwd", ws_.path() / "magic");
  for (const char* path : {"link", "dirlink/secret", "magic"}) {
    std::string out;
    auto r = op(make("read", {path}), -1, &out);
    EXPECT_EQ(r.reason(), Reason::PATH_OUTSIDE_WORKSPACE) << path << ": " << (r ? "" : r.error().detail);
    EXPECT_EQ(out.find("HOSTSECRET"), std::string::npos);
  }
  int in = memfd_create("in", MFD_CLOEXEC);
  ASSERT_EQ(write(in, "pwn", 3), 3);
  lseek(in, 0, SEEK_SET);
  EXPECT_FALSE(op(make("write", {"link"}), in).ok());
  close(in);
  std::ifstream f(outside_.path() / "secret");
  std::string content((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(content, "HOSTSECRET");
  EXPECT_FALSE(op(make("remove", {"dirlink/secret"})).ok());
  EXPECT_TRUE(std::filesystem::exists(outside_.path() / "secret"));
}

// A component swapped between a directory and a symlink out of the workspace while the file tool
// walks the path: each step either opens the real directory or meets the link and refuses, never
// reading through it (with openat2 and with the component walk: sandbox.without_openat2).
TEST_F(FsOps, AComponentSwappedForASymlinkDuringTheWalkNeverLeadsOut) {
  const auto d = ws_.path() / "d", real = ws_.path() / "d.real", link = ws_.path() / "d.link";
  std::filesystem::create_directory(real);
  std::ofstream(real / "secret") << "inside";
  std::filesystem::create_symlink(outside_.path(), link);
  std::filesystem::rename(real, d);
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    while (!stop.load()) {  // d is the directory, then the link, then the directory again
      std::filesystem::rename(d, real);
      std::filesystem::rename(link, d);
      std::filesystem::rename(d, link);
      std::filesystem::rename(real, d);
    }
  });
  int inside = 0;
  std::string leaked;
  for (int i = 0; i < 60; ++i) {
    std::string out;
    auto r = op(make("read", {"d/secret"}), -1, &out);
    if (out.find("HOSTSECRET") != std::string::npos) leaked = out;
    if (r.ok() && out == "inside") ++inside;
  }
  stop = true;
  swapper.join();
  EXPECT_EQ(leaked, "");
  EXPECT_GT(inside, 0);  // the walk is not simply refusing everything
}

TEST_F(FsOps, ReadOnlyWorkspaceRefusesWrites) {
  spec_.workspace_access = policy::WorkspaceAccess::ro;
  int in = memfd_create("in", MFD_CLOEXEC);
  EXPECT_EQ(op(make("write", {"x"}), in).reason(), Reason::FS_OP_FAILED);
  EXPECT_EQ(op(make("remove", {"hello.txt"})).reason(), Reason::FS_OP_FAILED);
  EXPECT_TRUE(std::filesystem::exists(ws_.path() / "hello.txt"));
  close(in);
}

TEST_F(FsOps, NoWorkspaceMeansNoFileTools) {
  spec_.workspace_access = policy::WorkspaceAccess::none;
  EXPECT_EQ(op(make("read", {"hello.txt"})).reason(), Reason::WORKSPACE_INVALID);
}

TEST_F(FsOps, FileToolsRunWithExecRefused) {
  // run_fs_op forces allow_exec off: its jail's filter refuses execve, so a command jail built
  // from the same spec with exec denied cannot start anything either.
  JailSpec spec = spec_;
  spec.allow_exec = false;
  Ran r = sh(spec, "true");
  EXPECT_TRUE(r.violated("execve"));
  EXPECT_EQ(r.outcome.status, RunStatus::error);
}

TEST_F(FsOps, AFifoInTheWorkspaceIsRefusedAtOnceNotWaitedOn) {
  ASSERT_EQ(mkfifo((ws_.path() / "planted").c_str(), 0666), 0);
  spec_.limits.timeout_ms = 5000;
  int in = memfd_create("in", MFD_CLOEXEC);
  for (const char* name : {"read", "write"}) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = op(make(name, {"planted"}), in);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << name << " waited for a peer";
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.reason(), Reason::FS_OP_FAILED) << name << ": " << r.error().detail;
  }
  close(in);
}

TEST_F(FsOps, ARunningFileToolIsKilledLikeACommand) {
  int data[2];
  ASSERT_EQ(pipe2(data, O_CLOEXEC), 0);  // the write end stays open: the tool waits for more
  int out = memfd_create("out", MFD_CLOEXEC);
  auto call = FsCall::start(spec_, make("write", {"endless.txt"}), Io{data[0], out, -1, false});
  ASSERT_TRUE(call.ok()) << call.error().detail;
  ASSERT_EQ(write(data[1], "some", 4), 4);
  pollfd done{call->jail().done_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&done, 1, 300), 0) << "the tool ended while its input was still open";
  call->jail().kill();
  EXPECT_EQ(poll(&done, 1, 2000), 1) << "kill() did not end the file tool";
  EXPECT_EQ(call->jail().wait().status, RunStatus::killed);
  EXPECT_FALSE(call->result().ok());
  for (int fd : {data[0], data[1], out}) close(fd);
}

}  // namespace
}  // namespace clawjail::sandbox::testing
