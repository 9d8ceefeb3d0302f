// File tools (read, write, ls, stat, mkdir, remove, rename) run by clawjail's own code inside a
// jail whose seccomp filter refuses execve. Every path is resolved by the kernel relative to
// /workspace with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS: `..`, absolute
// paths, symlinks and magic links cannot leave the workspace, even if the jail races to swap a
// component (open_beneath, beneath.cc, which keeps the same rules where openat2 is refused). The
// worker side uses raw syscalls and stack buffers only (see sandbox/steps.h).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
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

// At most `limit` bytes (all of them when it is negative).
bool copy(int from, int to, int64_t limit = -1) {
  char buf[16384];
  for (;;) {
    size_t want = sizeof buf;
    if (limit >= 0) want = static_cast<size_t>(std::min<int64_t>(limit, static_cast<int64_t>(want)));
    if (want == 0) return true;
    ssize_t n = read(from, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(to, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      off += w;
    }
    if (limit >= 0) limit -= n;
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

// Closes a descriptor an operation opened, keeping the operation's errno.
struct Closing {
  int fd;
  ~Closing() {
    int saved = errno;
    if (fd >= 0) close(fd);
    errno = saved;
  }
};

// A range read says whether it reached the end: a byte past the range is looked for, not sent.
// A range that starts at or past the end is empty and reached it, wherever it starts (a seek past
// the largest offset the filesystem allows would fail).
bool op_read(int ws, const FsRequest& p, int out, int report) {
  int fd = open_beneath(ws, p.paths[0], O_RDONLY | O_NONBLOCK);
  if (fd < 0) return false;
  Closing closing{fd};
  struct stat st;
  if (!is_regular_file(fd) || fstat(fd, &st) != 0) return false;
  const bool past_end = p.offset >= st.st_size;
  if (!past_end && ((p.offset > 0 && lseek(fd, p.offset, SEEK_SET) < 0) || !copy(fd, out, p.length))) return false;
  if (p.length < 0) return true;
  char past;
  ssize_t n = 0;
  while (!past_end && (n = read(fd, &past, 1)) < 0 && errno == EINTR) {
  }
  if (n < 0) return false;
  Msg m;
  m.kind = MsgKind::fs_entry;
  m.present = n == 0 ? 1 : 0;  // the end of the file was reached
  send_msg(report, m);
  return true;
}

bool op_write(int ws, const FsRequest& p, int in) {
  int flags = O_WRONLY | O_NONBLOCK;
  if (p.create || p.exclusive) flags |= O_CREAT;
  if (p.exclusive) flags |= O_EXCL;
  if (p.truncate) flags |= O_TRUNC;
  int fd = open_beneath(ws, p.paths[0], flags, 0644);
  if (fd < 0) return false;
  Closing closing{fd};
  return is_regular_file(fd) && (p.offset == 0 || lseek(fd, p.offset, SEEK_SET) >= 0) && copy(in, fd) && fsync(fd) == 0;
}

// Sends at most kMaxListEntries + 1 entries: the one past the cap only says there are more.
bool op_ls(int ws, const FsRequest& p, int report) {
  int fd = open_beneath(ws, p.paths[0], O_RDONLY | O_DIRECTORY);
  if (fd < 0) return false;
  Closing closing{fd};
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
bool op_stat(int ws, const FsRequest& p, int report) {
  int fd = open_beneath(ws, p.paths[0], O_PATH | O_NOFOLLOW);
  if (fd < 0 && (errno == ENOENT)) {
    Msg m;
    m.kind = MsgKind::fs_entry;
    m.present = 0;
    send_msg(report, m);
    return true;
  }
  if (fd < 0) return false;
  Closing closing{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
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

// mkdir -p: each component of the path in turn, each resolved beneath the last.
bool mkdir_parents(int ws, const char* path) {
  char part[256];
  int cur = ws;
  for (const char* p = path; *p;) {
    while (*p == '/') ++p;
    size_t n = 0;
    while (p[n] && p[n] != '/') ++n;
    if (n == 0) break;
    if (n >= sizeof part) {
      errno = ENAMETOOLONG;
      break;
    }
    memcpy(part, p, n);
    part[n] = '\0';
    p += n;
    if (strcmp(part, ".") == 0) continue;
    Closing previous{cur == ws ? -1 : cur};
    if (mkdirat(cur, part, 0755) != 0 && errno != EEXIST) return false;
    cur = open_beneath(cur, part, O_PATH | O_DIRECTORY);
    if (cur < 0) return false;
  }
  Closing last{cur == ws ? -1 : cur};
  return errno != ENAMETOOLONG;
}

bool op_mkdir(int ws, const FsRequest& p) {
  if (p.recursive) return mkdir_parents(ws, p.paths[0]);
  char name[256];
  Closing parent{open_parent(ws, p.paths[0], name)};
  return parent.fd >= 0 && mkdirat(parent.fd, name, 0755) == 0;
}

bool remove_tree(int parent, const char* name, int depth) {
  if (depth > kMaxDepth) {
    errno = ELOOP;
    return false;
  }
  int fd = open_beneath(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) return false;
  Closing closing{fd};
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
  return ok;
}

bool op_remove(int ws, const FsRequest& p) {
  char name[256];
  Closing parent{open_parent(ws, p.paths[0], name)};
  if (parent.fd < 0) return false;
  struct stat st;
  if (fstatat(parent.fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  if (!S_ISDIR(st.st_mode)) return unlinkat(parent.fd, name, 0) == 0;
  if (p.recursive && !remove_tree(parent.fd, name, 0)) return false;
  return unlinkat(parent.fd, name, AT_REMOVEDIR) == 0;
}

bool op_rename(int ws, const FsRequest& p) {
  char from_name[256], to_name[256];
  Closing from{open_parent(ws, p.paths[0], from_name)};
  Closing to{open_parent(ws, p.paths[1], to_name)};
  return from.fd >= 0 && to.fd >= 0 && renameat(from.fd, from_name, to.fd, to_name) == 0;
}

// The file worker lives across operations: every descriptor an operation opens, it closes.
bool dispatch(int ws, const FsRequest& p, int data_fd, int report) {
  switch (p.op) {
    case FsOpKind::read: return op_read(ws, p, data_fd, report);
    case FsOpKind::write: return op_write(ws, p, data_fd);
    case FsOpKind::ls: return op_ls(ws, p, report);
    case FsOpKind::stat: return op_stat(ws, p, report);
    case FsOpKind::mkdir: return op_mkdir(ws, p);
    case FsOpKind::remove: return op_remove(ws, p);
    case FsOpKind::rename: return op_rename(ws, p);
  }
  errno = EINVAL;
  return false;
}

int open_workspace_root() { return open("/workspace", O_PATH | O_DIRECTORY | O_CLOEXEC); }

// One FsRequest and, for read and write, its data descriptor.
ssize_t receive_request(int channel, FsRequest& req, int& data_fd) {
  iovec iov{&req, sizeof req};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = recvmsg(channel, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  data_fd = -1;
  if (cmsghdr* c = n > 0 ? CMSG_FIRSTHDR(&msg) : nullptr; c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
    memcpy(&data_fd, CMSG_DATA(c), sizeof data_fd);
  return n;
}

// A write past the WPC's file_size_mb (RLIMIT_FSIZE, also reached by a far offset) then fails
// with EFBIG, an answer the caller can read, instead of SIGXFSZ ending the worker.
void ignore_file_size_signal() {
  struct sigaction sa{};
  sa.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &sa, nullptr);
}

}  // namespace

void serve_one(int ws, const FsRequest& req, int data_fd, int report_fd) {
  errno = 0;
  Msg end;
  end.kind = MsgKind::fs_done;
  if (ws < 0 || !dispatch(ws, req, data_fd, report_fd)) {
    end.kind = MsgKind::failed;
    end.step = Step::fs_op;
    end.err = errno;
  }
  send_msg(report_fd, end);
}

void run_fs_worker(const FsRequest& req, int report_fd) {
  ignore_file_size_signal();
  int ws = open_workspace_root();
  errno = 0;
  if (ws < 0 || !dispatch(ws, req, req.op == FsOpKind::write ? 0 : 1, report_fd)) fail_and_exit(report_fd, failed(Step::fs_op));
  Msg done;
  done.kind = MsgKind::fs_done;
  send_msg(report_fd, done);
  _exit(0);
}

// The supervisor is the only peer of the channel: a message that is not one whole request ends
// the worker (the supervisor then builds a new one).
void serve_fs_requests(int channel) {
  // Nothing of the jail's uid reads this process through /proc: it is a copy of the supervisor.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ignore_file_size_signal();
  const int ws = open_workspace_root();
  static FsRequest req;  // this process's own copy of memory: not shared with the supervisor
  for (;;) {
    int data_fd = -1;
    ssize_t n = receive_request(channel, req, data_fd);
    if (n != static_cast<ssize_t>(sizeof req) || req.path_count < 1 || req.path_count > 2) _exit(n == 0 ? 0 : 125);
    req.paths[0][sizeof req.paths[0] - 1] = req.paths[1][sizeof req.paths[1] - 1] = '\0';
    serve_one(ws, req, data_fd, channel);
    if (data_fd >= 0) close(data_fd);
  }
}

namespace {

std::string op_name(const FsOp& op) { return std::string(clawjail::name_of(op.op)); }

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

}  // namespace

Status validate_fs_op(const FsOp& op, const JailSpec& spec) {
  size_t want = op.op == FsOpKind::rename ? 2 : 1;
  if (op.paths.size() != want)
    return fail(Reason::BAD_FIELD, op_name(op) + " takes " + std::to_string(want) + " path(s)");
  if (auto s = check_fs_paths(op); !s) return s;
  for (const auto& p : op.paths)
    if (p[0] == '/') return fail(Reason::PATH_OUTSIDE_WORKSPACE, p + ": paths are relative to the workspace");
  if (op.offset < 0 || (op.length && *op.length < 0)) return fail(Reason::BAD_FIELD, "a negative offset or length");
  if (spec.workspace_access == policy::WorkspaceAccess::none)
    return fail(Reason::WORKSPACE_INVALID, "this policy gives the jail no workspace");
  return ok_status();
}

void fs_request_of(const FsOp& op, FsRequest& out) {
  out.op = op.op;
  out.path_count = static_cast<int32_t>(op.paths.size());
  for (size_t i = 0; i < op.paths.size() && i < 2; ++i) memcpy(out.paths[i], op.paths[i].c_str(), op.paths[i].size() + 1);
  out.create = op.create;
  out.truncate = op.truncate;
  out.exclusive = op.exclusive;
  out.recursive = op.recursive;
  out.offset = op.offset;
  out.length = op.length.value_or(-1);
}

int64_t read_cap(const FsOp& op, int64_t output_bytes) {
  return op.length ? std::min(*op.length, output_bytes) : output_bytes;
}

// The value of a successful operation from what the worker sent.
FsResult fs_result_of(const FsOp& op, const std::vector<Msg>& msgs) {
  FsResult result;
  if (op.op == FsOpKind::ls) {
    result.value = listing(msgs, result.truncated);
  } else if (op.op == FsOpKind::stat) {
    result.value = nullptr;
    for (const auto& m : msgs)
      if (m.kind == MsgKind::fs_entry && m.present) result.value = entry_json(m, false);
  } else if (op.op == FsOpKind::read && op.length) {
    result.value = {{"eof", false}};
    for (const auto& m : msgs)
      if (m.kind == MsgKind::fs_entry) result.value["eof"] = m.present != 0;
  } else {
    result.value = Json::object();
  }
  return result;
}

Error fs_op_error(const FsOp& op, const Error& e) {
  // The kernel says EXDEV when RESOLVE_BENEATH stopped an escape and ELOOP for a symlink.
  const std::string& d = e.detail;
  if (d.find(strerror(EXDEV)) != std::string::npos || d.find(strerror(ELOOP)) != std::string::npos)
    return fail(Reason::PATH_OUTSIDE_WORKSPACE, op_name(op) + " " + op.paths[0] + ": leaves the workspace or crosses a symlink (" + d + ")");
  return fail(Reason::FS_OP_FAILED, op_name(op) + " " + op.paths[0] + ": " + d);
}

}  // namespace detail

FsCall::FsCall() = default;
FsCall::FsCall(FsCall&&) noexcept = default;
FsCall& FsCall::operator=(FsCall&&) noexcept = default;
FsCall::~FsCall() = default;

Result<FsCall> FsCall::start(const JailSpec& spec, const FsOp& op, const Io& io) {
  auto call = begin(spec, op, io);
  if (!call) return call.error();
  if (auto s = call->jail_.release(); !s) return s.error();
  return call;
}

Result<FsCall> FsCall::begin(const JailSpec& spec_in, const FsOp& op, const Io& io) {
  JailSpec spec = spec_in;
  spec.allow_exec = false;  // the file tools never start a program
  if (auto s = detail::validate_fs_op(op, spec); !s) return s.error();
  spec.limits.output_bytes = detail::read_cap(op, spec.limits.output_bytes);
  FsCall call;
  call.op_ = op;
  call.plan_ = std::make_unique<detail::FsRequest>();
  detail::fs_request_of(op, *call.plan_);
  auto fill = [&](detail::WorkerPlan& w) {
    w.fs = call.plan_.get();
    w.workdir = "/workspace";
    return ok_status();
  };
  auto runner = detail::Runner::launch(spec, fill, io);
  if (!runner) return runner.error();
  call.jail_ = Jail(std::move(runner.value()));
  return call;
}

Result<FsResult> FsCall::result() {
  Outcome outcome = jail_.wait();
  if (outcome.error) return detail::fs_op_error(op_, *outcome.error);
  if (outcome.status != RunStatus::success)
    return fail(Reason::FS_OP_FAILED, detail::op_name(op_) + ": the file tool ended with " + std::string(name_of(outcome.status)));
  FsResult result = detail::fs_result_of(op_, jail_.runner().fs_messages());
  result.outcome = std::move(outcome);
  return result;
}

Status check_fs_paths(const FsOp& op) {
  for (const auto& p : op.paths) {
    if (p.empty() || p.find('\0') != std::string::npos || p.size() >= sizeof detail::FsRequest{}.paths[0])
      return fail(Reason::BAD_FIELD, "bad path: a path is not empty, holds no NUL byte and is shorter than " +
                                         std::to_string(sizeof detail::FsRequest{}.paths[0]) + " bytes");
  }
  return ok_status();
}

Result<FsResult> run_fs_op(const JailSpec& spec, const FsOp& op, const Io& io) {
  auto call = FsCall::start(spec, op, io);
  if (!call) return call.error();
  return call->result();
}

}  // namespace clawjail::sandbox
