// File tools (read, write, ls, stat, mkdir, remove, rename) run by clawjail's own code inside a
// jail whose seccomp filter refuses execve. Every path is resolved by the kernel relative to
// /workspace with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS: `..`, absolute
// paths, symlinks and magic links cannot leave the workspace, even if the jail races to swap a
// component (open_beneath, beneath.cc, which keeps the same rules where openat2 is refused). The
// worker side uses raw syscalls and stack buffers only (see sandbox/steps.h).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "policy/json.h"
#include "base/reason.h"
#include "policy/text.h"
#include "policy/wpc.h"
#include "sandbox/beneath.h"
#include "sandbox/fs_ops.h"
#include "sandbox/runner.h"
#include "sandbox/steps.h"
#include "sandbox/worker.h"

namespace clawjail::sandbox {
namespace detail {
namespace {

constexpr int kMaxDepth = 64;

// Splits "a/b/c" into the directory "a/b" (or ".") and the name "c", in caller buffers.
bool split(const char* path, char (&dir)[4096], char (&name)[256]) {
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/') --n;
  if (n == 0 || n >= sizeof dir) return false;
  size_t slash = n;
  while (slash > 0 && path[slash - 1] != '/') --slash;
  size_t name_len = n - slash;
  if (name_len == 0 || name_len >= sizeof name) return false;
  memcpy(name, path + slash, name_len);
  name[name_len] = '\0';
  if (slash == 0) {
    memcpy(dir, ".", 2);
  } else {
    memcpy(dir, path, slash);
    dir[slash] = '\0';
  }
  return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int64_t mtime_ms(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

int type_of(mode_t m) {
  if (S_ISREG(m)) return 1;
  if (S_ISDIR(m)) return 2;
  if (S_ISLNK(m)) return 3;
  return 4;
}

void send_entry(int report, const char* name, const struct stat& st) {
  Msg m;
  m.kind = MsgKind::fs_entry;
  m.present = 1;
  m.value = type_of(st.st_mode);
  m.size = st.st_size;
  m.mtime_ms = mtime_ms(st);
  size_t n = strlen(name);
  if (n >= sizeof m.name) n = sizeof m.name - 1;
  memcpy(m.name, name, n);
  send_msg(report, m);
}

bool copy(int from, int to) {
  char buf[16384];
  for (;;) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(to, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      off += w;
    }
  }
}

// Opened without blocking: a FIFO planted in the workspace must be refused at once, not hold the
// file tool until its timeout waiting for a peer (regular files ignore O_NONBLOCK).
bool is_regular_file(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  if (S_ISREG(st.st_mode)) return true;
  errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
  return false;
}

bool op_read(int ws, const FsPlan& p) {
  int fd = open_beneath(ws, p.paths[0].c_str(), O_RDONLY | O_NONBLOCK);
  if (fd < 0 || !is_regular_file(fd)) return false;
  return copy(fd, 1);
}

bool op_write(int ws, const FsPlan& p) {
  int flags = O_WRONLY | O_NONBLOCK;
  if (p.create || p.exclusive) flags |= O_CREAT;
  if (p.exclusive) flags |= O_EXCL;
  if (p.truncate) flags |= O_TRUNC;
  int fd = open_beneath(ws, p.paths[0].c_str(), flags, 0644);
  if (fd < 0 || !is_regular_file(fd)) return false;
  return copy(0, fd) && fsync(fd) == 0;
}

// Sends at most kMaxListEntries + 1 entries: the one past the cap only says there are more.
bool op_ls(int ws, const FsPlan& p, int report) {
  int fd = open_beneath(ws, p.paths[0].c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return false;
  alignas(dirent64) char buf[8192];
  for (size_t sent = 0; sent <= kMaxListEntries;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n < 0) return false;
    if (n == 0) return true;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<dirent64*>(buf + off);
      off += d->d_reclen;
      if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
      struct stat st;
      if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      send_entry(report, d->d_name, st);
      if (++sent > kMaxListEntries) break;
    }
  }
  return true;
}

// A symlink itself is reported (type "symlink"), never followed: O_PATH|O_NOFOLLOW with
// RESOLVE_NO_SYMLINKS returns the link for the last component only.
bool op_stat(int ws, const FsPlan& p, int report) {
  int fd = open_beneath(ws, p.paths[0].c_str(), O_PATH | O_NOFOLLOW);
  if (fd < 0 && (errno == ENOENT)) {
    Msg m;
    m.kind = MsgKind::fs_entry;
    m.present = 0;
    send_msg(report, m);
    return true;
  }
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return false;
  send_entry(report, "", st);
  return true;
}

int open_parent(int ws, const char* path, char (&name)[256]) {
  char dir[4096];
  if (!split(path, dir, name)) {
    errno = EINVAL;
    return -1;
  }
  return open_beneath(ws, dir, O_PATH | O_DIRECTORY);
}

bool op_mkdir(int ws, const FsPlan& p) {
  if (!p.recursive) {
    char name[256];
    int parent = open_parent(ws, p.paths[0].c_str(), name);
    return parent >= 0 && mkdirat(parent, name, 0755) == 0;
  }
  int cur = ws;
  for (const auto& part : p.components) {
    if (mkdirat(cur, part.c_str(), 0755) != 0 && errno != EEXIST) return false;
    int next = open_beneath(cur, part.c_str(), O_PATH | O_DIRECTORY);
    if (next < 0) return false;
    if (cur != ws) close(cur);
    cur = next;
  }
  return true;
}

bool remove_tree(int parent, const char* name, int depth) {
  if (depth > kMaxDepth) {
    errno = ELOOP;
    return false;
  }
  int fd = open_beneath(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) return false;
  alignas(dirent64) char buf[2048];
  bool ok = true;
  for (bool again = true; again && ok;) {  // rescan until empty: unlinking shifts the stream
    again = false;
    lseek(fd, 0, SEEK_SET);
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n < 0) ok = false;
    for (long off = 0; ok && off < n;) {
      auto* d = reinterpret_cast<dirent64*>(buf + off);
      off += d->d_reclen;
      if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
      again = true;
      struct stat st;
      if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) ok = false;
      else if (S_ISDIR(st.st_mode)) ok = remove_tree(fd, d->d_name, depth + 1) && unlinkat(fd, d->d_name, AT_REMOVEDIR) == 0;
      else ok = unlinkat(fd, d->d_name, 0) == 0;
    }
  }
  close(fd);
  return ok;
}

bool op_remove(int ws, const FsPlan& p) {
  char name[256];
  int parent = open_parent(ws, p.paths[0].c_str(), name);
  if (parent < 0) return false;
  struct stat st;
  if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  if (!S_ISDIR(st.st_mode)) return unlinkat(parent, name, 0) == 0;
  if (p.recursive && !remove_tree(parent, name, 0)) return false;
  return unlinkat(parent, name, AT_REMOVEDIR) == 0;
}

bool op_rename(int ws, const FsPlan& p) {
  char from_name[256], to_name[256];
  int from = open_parent(ws, p.paths[0].c_str(), from_name);
  int to = open_parent(ws, p.paths[1].c_str(), to_name);
  return from >= 0 && to >= 0 && renameat(from, from_name, to, to_name) == 0;
}

bool dispatch(int ws, const FsPlan& p, int report) {
  const std::string& op = p.op;
  if (op == "read") return op_read(ws, p);
  if (op == "write") return op_write(ws, p);
  if (op == "ls") return op_ls(ws, p, report);
  if (op == "stat") return op_stat(ws, p, report);
  if (op == "mkdir") return op_mkdir(ws, p);
  if (op == "remove") return op_remove(ws, p);
  if (op == "rename") return op_rename(ws, p);
  errno = EINVAL;
  return false;
}

}  // namespace

void run_fs_worker(const FsPlan& plan, int report_fd) {
  int ws = open("/workspace", O_PATH | O_DIRECTORY | O_CLOEXEC);
  errno = 0;
  if (ws < 0 || !dispatch(ws, plan, report_fd)) fail_and_exit(report_fd, failed(Step::fs_op));
  Msg done;
  done.kind = MsgKind::fs_done;
  send_msg(report_fd, done);
  _exit(0);
}

namespace {

Status validate(const FsOp& op, const JailSpec& spec) {
  static const std::vector<std::string> kOps = {"read", "write", "ls", "stat", "mkdir", "remove", "rename"};
  if (std::find(kOps.begin(), kOps.end(), op.op) == kOps.end()) return fail(Reason::BAD_FIELD, "unknown file op: " + op.op);
  size_t want = op.op == "rename" ? 2 : 1;
  if (op.paths.size() != want)
    return fail(Reason::BAD_FIELD, op.op + " takes " + std::to_string(want) + " path(s)");
  for (const auto& p : op.paths) {
    if (p.empty() || p.find('\0') != std::string::npos || p.size() >= 4096)
      return fail(Reason::BAD_FIELD, "bad path");
    if (p[0] == '/') return fail(Reason::PATH_OUTSIDE_WORKSPACE, p + ": paths are relative to the workspace");
  }
  if (spec.workspace_access == policy::WorkspaceAccess::none)
    return fail(Reason::WORKSPACE_INVALID, "this policy gives the jail no workspace");
  return ok_status();
}

const char* type_name(int t) {
  switch (t) {
    case 1: return "file";
    case 2: return "dir";
    case 3: return "symlink";
    default: return "other";
  }
}

Json entry_json(const Msg& m, bool with_name) {
  Json j = {{"type", type_name(m.value)}, {"size", m.size}, {"mtime_ms", m.mtime_ms}};
  if (with_name) policy::put_name(j, std::string_view(m.name, strnlen(m.name, sizeof m.name)));
  return j;
}

// The entries in the order the worker sent them, up to kMaxListEntries and kMaxListBytes.
Json listing(const std::vector<Msg>& msgs, bool& truncated) {
  Json entries = Json::array();
  size_t bytes = 2;
  for (const auto& m : msgs) {
    if (m.kind != MsgKind::fs_entry) continue;
    Json e = entry_json(m, true);
    bytes += e.dump().size() + 1;
    if (entries.size() == kMaxListEntries || bytes > kMaxListBytes) {
      truncated = true;
      break;
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

Error op_error(const FsOp& op, const Error& e) {
  // The kernel says EXDEV when RESOLVE_BENEATH stopped an escape and ELOOP for a symlink.
  const std::string& d = e.detail;
  if (d.find(strerror(EXDEV)) != std::string::npos || d.find(strerror(ELOOP)) != std::string::npos)
    return fail(Reason::PATH_OUTSIDE_WORKSPACE, op.op + " " + op.paths[0] + ": leaves the workspace or crosses a symlink (" + d + ")");
  return fail(Reason::FS_OP_FAILED, op.op + " " + op.paths[0] + ": " + d);
}

}  // namespace
}  // namespace detail

FsCall::FsCall() = default;
FsCall::FsCall(FsCall&&) noexcept = default;
FsCall& FsCall::operator=(FsCall&&) noexcept = default;
FsCall::~FsCall() = default;

Result<FsCall> FsCall::start(const JailSpec& spec_in, const FsOp& op, const Io& io) {
  JailSpec spec = spec_in;
  spec.allow_exec = false;  // the file tools never start a program
  if (auto s = detail::validate(op, spec); !s) return s.error();
  FsCall call;
  call.op_ = op;
  call.plan_ = std::make_unique<detail::FsPlan>();
  detail::FsPlan& plan = *call.plan_;
  plan.op = op.op;
  plan.paths = op.paths;
  plan.create = op.create;
  plan.truncate = op.truncate;
  plan.exclusive = op.exclusive;
  plan.recursive = op.recursive;
  if (op.op == "mkdir" && op.recursive)
    for (const auto& part : std::filesystem::path(op.paths[0]))
      if (!part.empty() && part != ".") plan.components.push_back(part.string());
  auto fill = [&](detail::WorkerPlan& w) {
    w.fs = &plan;
    w.workdir = "/workspace";
    return ok_status();
  };
  auto runner = detail::Runner::launch(spec, fill, io);
  if (!runner) return runner.error();
  call.jail_ = Jail(std::move(runner.value()));
  if (auto s = call.jail_.release(); !s) return s.error();
  return call;
}

Result<FsResult> FsCall::result() {
  FsResult result;
  result.outcome = jail_.wait();
  if (result.outcome.error) return detail::op_error(op_, *result.outcome.error);
  if (result.outcome.status != RunStatus::success)
    return fail(Reason::FS_OP_FAILED, op_.op + ": the file tool ended with " + std::string(name_of(result.outcome.status)));
  const auto& msgs = jail_.runner().fs_messages();
  if (op_.op == "ls") {
    result.value = detail::listing(msgs, result.truncated);
  } else if (op_.op == "stat") {
    result.value = nullptr;
    for (const auto& m : msgs)
      if (m.kind == detail::MsgKind::fs_entry && m.present) result.value = detail::entry_json(m, false);
  } else {
    result.value = Json::object();
  }
  return result;
}

Result<FsResult> run_fs_op(const JailSpec& spec, const FsOp& op, const Io& io) {
  auto call = FsCall::start(spec, op, io);
  if (!call) return call.error();
  return call->result();
}

}  // namespace clawjail::sandbox
