#include "sandbox/runner.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "policy/reason.h"
#include "policy/unique_fd.h"
#include "policy/wpc.h"
#include "sandbox/cgroups.h"
#include "sandbox/fd_passing.h"
#include "sandbox/idmap.h"
#include "sandbox/landlock.h"
#include "sandbox/limits.h"
#include "sandbox/mounts.h"
#include "sandbox/namespaces.h"
#include "sandbox/pty.h"
#include "sandbox/seccomp.h"
#include "sandbox/stdin_relay.h"
#include "sandbox/steps.h"
#include "sandbox/worker.h"

namespace clawjail::sandbox::detail {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kExitGrace = std::chrono::seconds(2);
// The jail's init and worker run on stacks of their own in the supervisor's memory (namespaces.cc).
constexpr size_t kInitStack = 1 << 20;
constexpr size_t kWorkerStack = 256 << 10;

// glibc 2.36's <sys/pidfd.h> lacks C linkage for C++; the syscall is one line anyway.
void send_sigkill(int pidfd) { syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0); }

Error setup_error(const char* what) {
  return fail(Reason::JAIL_SETUP_FAILED, std::string(what) + ": " + strerror(errno));
}

Status make_pipe(UniqueFd& r, UniqueFd& w) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return setup_error("pipe2");
  r.reset(p[0]);
  w.reset(p[1]);
  return ok_status();
}

std::string b64u(const unsigned char* bytes, size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(strlen(out.c_str()));
  return out;
}

// stdout or stderr of the jail: hashed and counted as relayed, cut at the shared output cap.
struct Stream {
  int in = -1;
  int out = -1;
  crypto_hash_sha256_state hash;
  int64_t bytes = 0;
  bool out_failed = false;
  Stream() { crypto_hash_sha256_init(&hash); }
  std::string digest() {
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&hash, d);
    return b64u(d, sizeof d);
  }
};

// The reader of the jail's output (the client) may stall: a blocking write would stall the
// monitor and with it the timeout. So every write waits for POLLOUT only until `deadline` and
// never writes more than the reader has room for: MSG_DONTWAIT on sockets, at most PIPE_BUF
// (which POLLOUT guarantees) on pipes. The descriptor's own flags are shared with the client
// and are left alone.
enum class Written { all, deadline, reader_gone };
Written write_all(int fd, const char* p, size_t n, Clock::time_point deadline) {
  while (n > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count() + 1;
    pollfd pfd{fd, POLLOUT, 0};
    int ready = Clock::now() >= deadline ? 0 : poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (ready == 0) return Written::deadline;
    if (ready < 0) continue;  // EINTR
    ssize_t w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) w = write(fd, p, std::min<size_t>(n, PIPE_BUF));
    if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (w <= 0) return Written::reader_gone;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Written::all;
}

std::vector<std::string> path_candidates(const Command& c) {
  const std::string& argv0 = c.argv.front();
  if (argv0.find('/') != std::string::npos) return {argv0};
  auto it = c.env.find("PATH");
  std::string path = it != c.env.end() ? it->second : "/usr/local/bin:/usr/bin:/bin";
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty() && dir[0] == '/') out.push_back(dir + "/" + argv0);
    start = end + 1;
  }
  return out;
}

}  // namespace

Status fill_command(WorkerPlan& w, const JailSpec& spec, const Command& c) {
  if (c.argv.empty() || c.argv.front().empty()) return fail(Reason::BAD_FIELD, "empty command");
  for (const auto& a : c.argv)
    if (a.find('\0') != std::string::npos) return fail(Reason::BAD_FIELD, "NUL in an argument");
  w.candidates = path_candidates(c);
  w.argv_storage = c.argv;
  std::map<std::string, std::string> env = c.env;
  const bool ws = spec.workspace_access != policy::WorkspaceAccess::none;
  env.emplace("PATH", "/usr/local/bin:/usr/bin:/bin");
  env.emplace("HOME", ws ? "/workspace" : "/tmp");
  env.emplace("USER", "clawjail");
  env.emplace("LOGNAME", "clawjail");
  if (spec.network) add_proxy_env(env);
  for (const auto& [k, v] : env) {
    if (k.empty() || k.find('=') != std::string::npos || (k + v).find('\0') != std::string::npos)
      return fail(Reason::BAD_FIELD, "bad environment variable name: " + k);
    w.env_storage.push_back(k + "=" + v);
  }
  w.workdir = c.workdir.empty() ? "/workspace" : c.workdir;
  if (!ws && w.workdir == "/workspace") w.workdir = "/tmp";
  return ok_status();
}

// ---- launch ----

Result<std::unique_ptr<Runner>> Runner::launch(const JailSpec& spec, const FillWorker& fill, const Io& io) {
  const HostSupport& host = host_support();
  if (host.problem) return fail(Reason::JAIL_UNAVAILABLE, *host.problem);
  auto r = std::make_unique<Runner>(Key{});
  if (auto s = r->prepare(spec, fill, io); !s) return s.error();
  r->start_monitor();
  return r;
}

// The command is handed to the init through memory it shares with this process: a child with a
// copy of the memory (an ordinary user, sanitizer builds) would never see it.
bool Runner::builds_ahead() {
  return clone_shares_memory() && host_support().running_as_root && !host_support().problem;
}

Result<std::unique_ptr<Runner>> Runner::launch_ahead(const JailSpec& spec) {
  if (!builds_ahead())
    return fail(Reason::JAIL_UNAVAILABLE, "a jail is built ahead only as root, by a build whose jails share its memory");
  if (spec.network) return fail(Reason::JAIL_UNAVAILABLE, "a jail with the egress proxy is not built ahead");
  auto r = std::make_unique<Runner>(Key{});
  r->ahead_ = true;
  if (auto s = r->prepare(spec, nullptr, Io{}); !s) return s.error();
  r->start_monitor();
  return r;
}

void Runner::start_monitor() {
  ready_future_ = ready_.get_future();
  thread_ = std::thread([this] { monitor(); });
}

Status Runner::hand_over(const JailSpec& spec, const FillWorker& fill, const Io& io) {
  if (!ahead_ || release_ || go_stdin_) return fail(Reason::INTERNAL_ERROR, "hand_over() on a jail not built ahead, or twice");
  if (io.pty) return fail(Reason::INTERNAL_ERROR, "a jail built ahead has no terminal");
  if (auto s = sources_unchanged(spec); !s) return s;
  if (auto s = fill_worker(fill); !s) return s;
  if (auto s = plan_stdin(io, go_stdin_); !s) return s;
  if (io.stdout_fd >= 0) io_out_.reset(fcntl(io.stdout_fd, F_DUPFD_CLOEXEC, 3));
  if (io.stderr_fd >= 0) io_err_.reset(fcntl(io.stderr_fd, F_DUPFD_CLOEXEC, 3));
  call_timeout_ = std::chrono::milliseconds(spec.limits.timeout_ms);
  return ok_status();
}

// The workspace and the WPC's binds were opened for the call that had this jail built; the call
// that takes it must have opened the same objects (and the workspace owner the idmap maps).
Status Runner::sources_unchanged(const JailSpec& call) const {
  JailSpec opened = call;
  if (auto s = open_sources(opened); !s) return s;
  std::vector<const HostSource*> now;
  if (opened.opened->workspace) now.push_back(&*opened.opened->workspace);
  for (const auto& b : opened.opened->binds) now.push_back(&b);
  if (now.size() > mounts_.binds.size()) return fail(Reason::INTERNAL_ERROR, "the jail's binds are not its spec's");
  auto bound = mounts_.binds.end() - static_cast<std::ptrdiff_t>(now.size());
  for (const HostSource* source : now) {
    if (source->dev != bound->dev || source->ino != bound->ino)
      return fail(Reason::JAIL_SETUP_FAILED, source->path + " is no longer what the jail built ahead bound");
    ++bound;
  }
  const auto& ws = opened.opened->workspace;
  if (workspace_owner_ && (!ws || std::pair{ws->uid, ws->gid} != *workspace_owner_))
    return fail(Reason::JAIL_SETUP_FAILED, "the workspace changed owner since the jail was built ahead");
  return ok_status();
}

Status Runner::release() {
  if (!release_) {
    release_ = ready_future_.get();
    if (*release_) {
      if (ahead_) {
        released_at_ = Clock::now();
        released_.store(true, std::memory_order_release);
        uint64_t one = 1;
        (void)!write(wake_.get(), &one, sizeof one);
      }
      (void)send_go(sock_r_.get(), go_stdin_.get());  // fails only if the init is gone: wait() says why
      go_stdin_.reset();
    } else {
      wait();
    }
  }
  return *release_;
}

Status Runner::fill_worker(const FillWorker& fill) {
  if (auto s = fill(worker_); !s) return s;
  for (auto& a : worker_.argv_storage) worker_.argv.push_back(a.data());
  worker_.argv.push_back(nullptr);
  for (auto& e : worker_.env_storage) worker_.envp.push_back(e.data());
  worker_.envp.push_back(nullptr);
  return ok_status();
}

Status Runner::prepare(const JailSpec& spec, const FillWorker& fill, const Io& io) {
  spec_ = spec;
  if (auto s = open_sources(spec_); !s) return s.error();
  if (fill)
    if (auto s = fill_worker(fill); !s) return s;

  root_mode_ = host_support().running_as_root;
  std::shared_ptr<const UniqueFd> idmap;
  if (root_mode_) {
    auto lease = UidLease::acquire(spec_.uid_range);
    if (!lease) return lease.error();
    lease_ = std::move(lease.value());
    host_uid_ = lease_->uid();
    host_gid_ = lease_->uid();
    auto cg = JailCgroup::create(spec_.limits);
    if (!cg) return cg.error();
    cgroup_ = std::move(cg.value());
    // The owner the idmap maps is the one the admission checked: both read the same descriptor.
    if (const auto& ws = spec_.opened->workspace) {
      idmap = shared_idmap_userns(ws->uid, ws->gid, host_uid_, host_gid_);
      if (!idmap) return fail(Reason::JAIL_SETUP_FAILED, "cannot make the user namespace that idmaps the workspace");
      workspace_owner_ = {ws->uid, ws->gid};
    }
  } else {
    host_uid_ = geteuid();
    host_gid_ = getegid();
  }
  auto mounts = plan_mounts(spec_, ParentClone{root_mode_, idmap ? idmap->get() : -1, keep_alive_});
  if (!mounts) return mounts.error();
  mounts_ = std::move(mounts.value());
  rlimits_ = plan_rlimits(spec_.limits, cgroup_.memory(), cgroup_.pids());
  auto filter = build_seccomp(spec_);
  if (!filter) return filter.error();
  seccomp_ = std::move(filter.value());

  done_.reset(eventfd(0, EFD_CLOEXEC));
  if (!done_) return setup_error("eventfd");
  if (ahead_) {
    wake_.reset(eventfd(0, EFD_CLOEXEC));
    if (!wake_) return setup_error("eventfd");
  }
  for (auto [r, w] : {std::pair{&sync_r_, &sync_w_}, {&report_r_, &report_w_}})
    if (auto s = make_pipe(*r, *w); !s) return s;
  // Scripts reopen their output (`echo x > /dev/stderr` goes through /proc/self/fd/2): that is
  // an open of the pipe, allowed only to its owner, so the jail's own uid owns its two pipes
  // from their creation.
  {
    CreatingAs jail(host_uid_, host_gid_);
    if (!jail.ok()) return setup_error("output pipes as the jail's uid");
    for (auto [r, w] : {std::pair{&out_r_, &out_w_}, {&err_r_, &err_w_}})
      if (auto s = make_pipe(*r, *w); !s) return s;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return setup_error("socketpair");
  sock_r_.reset(sv[0]);
  sock_w_.reset(sv[1]);
  if (io.stdout_fd >= 0) io_out_.reset(fcntl(io.stdout_fd, F_DUPFD_CLOEXEC, 3));
  if (io.stderr_fd >= 0) io_err_.reset(fcntl(io.stderr_fd, F_DUPFD_CLOEXEC, 3));
  if (auto s = io.pty ? prepare_pty(io) : plan_stdin(io, stdin_); !s) return s;
  landlock_ = plan_landlock(mounts_, host_support().landlock_abi);
  for (auto [stack, size] : {std::pair{&init_stack_, kInitStack}, {&worker_stack_, kWorkerStack}}) {
    auto made = ChildStack::create(size);
    if (!made) return made.error();
    *stack = std::move(made.value());
  }

  child_.fds = ChildFds{sync_r_.get(), report_w_.get(), sock_w_.get(), stdin_.get(), out_w_.get(), err_w_.get()};
  child_.root_mode = root_mode_;
  child_.mounts = &mounts_;
  child_.rlimits = &rlimits_;
  child_.seccomp = seccomp_.fprog();
  child_.worker = &worker_;
  child_.landlock = &landlock_;
  child_.terminal = pty_path_.empty() ? nullptr : pty_path_.c_str();
  child_.worker_stack = &worker_stack_;
  if (spec_.network && !worker_.fs) {
    auto egress = EgressProxy::start(spec_.approved_hosts);
    if (!egress) return egress.error();
    egress_ = std::move(egress.value());
    child_.egress_handover = egress_->child_end();
  }
  return ok_status();
}

// The terminal replaces the three pipes: its slave is the jail's stdin, stdout and stderr, its
// master is read as the call's stdout and fed from the client's stdin.
Status Runner::prepare_pty(const Io& io) {
  auto pty = open_pty(host_uid_, host_gid_, io.pty_rows, io.pty_cols);
  if (!pty) return pty.error();
  if (auto s = plan_pty_mount(mounts_, *pty); !s) return s;
  for (UniqueFd* end : {&stdin_, &out_w_, &err_w_}) {
    end->reset(fcntl(pty->slave.get(), F_DUPFD_CLOEXEC, 3));
    if (!*end) return setup_error("pty slave");
  }
  out_r_ = std::move(pty->master);
  err_r_.reset();
  if (io.stdin_fd >= 0) stdin_src_.reset(fcntl(io.stdin_fd, F_DUPFD_CLOEXEC, 3));
  pty_path_ = pty->path;
  return ok_status();
}

// Without a terminal of its own the jail's stdin is its own /dev/null or a pipe the monitor fills
// from the client's stdin (stdin_relay.cc), never the client's descriptor.
Status Runner::plan_stdin(const Io& io, UniqueFd& jail_end) {
  if (io.stdin_fd < 0 || is_dev_null(io.stdin_fd)) {
    jail_end.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
    return jail_end ? ok_status() : Status(setup_error("/dev/null"));
  }
  stdin_src_.reset(fcntl(io.stdin_fd, F_DUPFD_CLOEXEC, 3));
  if (!stdin_src_) return setup_error("stdin");
  // `cat /dev/stdin` reopens the pipe through /proc/self/fd/0: allowed only to its owner, so
  // the jail's uid owns it from its creation, as the output pipes.
  CreatingAs jail(host_uid_, host_gid_);
  if (!jail.ok()) return setup_error("stdin pipe as the jail's uid");
  return make_pipe(jail_end, stdin_feed_);
}

// ---- the monitor thread ----

void Runner::monitor() {
  // A client that went away must not kill the supervisor: writes fail with EPIPE instead.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  started_ = Clock::now();
  int pidfd = -1;
  born_in_cgroup_ = cgroup_.enter_thread();
  // As root, the init borrows the supervisor's memory instead of copying it (the copy, its
  // copy-on-write faults and its teardown were the largest cost of a call). Its memory is then
  // non-dumpable, out of reach of the jail's uid. As an ordinary user the jail runs under the
  // supervisor's own uid, and /proc/<pid>/uid_map of a process whose memory is non-dumpable
  // belongs to root: the next jail could not be mapped. So there the init gets a copy.
  pid_t pid = root_mode_ ? clone_sharing_memory(jail_namespace_flags(), init_stack_, jail_init_entry, &child_, &pidfd)
                         : clone_copying_memory(jail_namespace_flags(), jail_init_entry, &child_, &pidfd);
  const int clone_errno = errno;
  Status back = born_in_cgroup_ ? cgroup_.leave_thread() : ok_status();
  if (pid < 0) {
    errno = clone_errno;
    ready_.set_value(back ? setup_error("clone") : back);
    signal_done();
    return;
  }
  pid_ = pid;
  pidfd_.store(pidfd);
  if (killed_.load()) send_sigkill(pidfd);  // kill() came before there was a pidfd to signal
  for (UniqueFd* fd : {&sync_r_, &report_w_, &out_w_, &err_w_, &sock_w_, &stdin_}) fd->reset();
  keep_alive_.clear();  // the idmapped tree now lives in the child's copy of the table
  if (egress_) egress_->close_child_end();
  if (Status s = back ? release_child() : back; !s) {
    setup_error_ = s.error();
    send_sigkill(pidfd);
  }
  loop();
  finish();
  done_writing_.store(true, std::memory_order_release);
  signal_done();
}

void Runner::signal_done() {
  uint64_t one = 1;
  (void)!write(done_.get(), &one, sizeof one);
}

Status Runner::release_child() {
  if (auto s = write_id_maps(pid_, root_mode_, host_uid_, host_gid_); !s) return s;
  if (!born_in_cgroup_)
    if (auto s = cgroup_.add(pid_); !s) return s;
  if (write(sync_w_.get(), "G", 1) != 1) return setup_error("releasing the jail");
  sync_w_.reset();
  return ok_status();
}

void Runner::kill() {
  killed_.store(true);
  int fd = pidfd_.load();
  if (fd >= 0) send_sigkill(fd);
}

namespace {

struct Loop {
  Stream out, err;
  int64_t cap_left = 0;
  bool truncated = false;
  UniqueFd notif;
};

void relay(Stream& s, Loop& l, Clock::time_point deadline, const std::function<void()>& on_client_gone) {
  char buf[65536];
  ssize_t n = read(s.in, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    s.in = -1;
    return;
  }
  auto keep = static_cast<size_t>(std::min<int64_t>(n, l.cap_left));
  if (keep < static_cast<size_t>(n)) l.truncated = true;
  if (keep == 0) return;
  crypto_hash_sha256_update(&s.hash, reinterpret_cast<unsigned char*>(buf), keep);
  s.bytes += static_cast<int64_t>(keep);
  l.cap_left -= static_cast<int64_t>(keep);
  if (s.out < 0 || s.out_failed) return;
  Written w = write_all(s.out, buf, keep, deadline);
  if (w == Written::all) return;
  s.out_failed = true;
  if (w == Written::reader_gone) on_client_gone();  // a missed deadline ends the call by itself
}

Msg read_msg(int fd, bool& eof) {
  Msg m;
  ssize_t n = read(fd, &m, sizeof m);
  if (n < 0 && errno == EINTR) return Msg{MsgKind{0}};
  eof = n != static_cast<ssize_t>(sizeof m);
  return m;
}


}  // namespace

void Runner::loop() {
  Loop l;
  l.cap_left = spec_.limits.output_bytes;
  l.out.in = out_r_.get();
  l.out.out = io_out_.get();
  l.err.in = err_r_.get();
  l.err.out = io_err_.get();
  const auto timeout_ms = std::chrono::milliseconds(spec_.limits.timeout_ms);
  auto deadline = ahead_ ? Clock::time_point::max() : started_ + timeout_ms;
  int report = report_r_.get();
  int sock = sock_r_.get();
  int wake = wake_.get();
  Clock::time_point grace_end{};
  auto client_gone = [this] { kill(); };
  auto relay_stdin = [this] {
    return pty_path_.empty() ? StdinRelay::to_pipe(stdin_src_.get(), std::move(stdin_feed_))
                             : StdinRelay::to_terminal(stdin_src_.get(), out_r_.get());
  };
  // Built ahead, the jail has no client until it is released (hand_over() fills stdin_src_ and
  // stdin_feed_ meanwhile, from another thread).
  StdinRelay input = ahead_ ? StdinRelay() : relay_stdin();
  // The tree is over once the init reported it gone (the init is exiting) or was reaped.
  auto over = [&](Clock::time_point now) {
    if (ended_ == Clock::time_point{}) {
      ended_ = now;
      grace_end = ended_ + kExitGrace;
    }
  };
  while (!((reaped_ || tree_gone_) && l.out.in < 0 && l.err.in < 0 && (report < 0 || tree_gone_))) {
    auto now = Clock::now();
    const bool ended = reaped_ || tree_gone_;
    if (!ended && now >= deadline && !timed_out_) {
      timed_out_ = true;
      send_sigkill(pidfd_.load());
    }
    if (ended && now >= grace_end) break;
    auto until = ended ? grace_end : (timed_out_ ? now + kExitGrace : deadline);
    int timeout = static_cast<int>(std::clamp<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1, 0, INT_MAX));
    pollfd fds[8] = {{report, POLLIN, 0}, {l.out.in, POLLIN, 0}, {l.err.in, POLLIN, 0},
                     {sock, POLLIN, 0},   {l.notif.get(), POLLIN, 0}, {reaped_ ? -1 : pidfd_.load(), POLLIN, 0},
                     input.want(),        {wake, POLLIN, 0}};
    if (poll(fds, 8, timeout) < 0 && errno != EINTR) break;
    if (fds[7].revents && released_.load(std::memory_order_acquire)) {
      // Released: the call's clock starts now, and its output has somewhere to go.
      wake = -1;
      started_ = released_at_;
      deadline = started_ + call_timeout_;
      l.out.out = io_out_.get();
      l.err.out = io_err_.get();
      input = relay_stdin();
    }
    if (fds[6].revents) input.ready(fds[6].revents);
    if (fds[0].revents) {
      bool eof = false;
      Msg m = read_msg(report, eof);
      if (eof) report = -1;
      else if (m.kind == MsgKind::ready && !ready_sent_) {
        ready_sent_ = true;
        ready_.set_value(ok_status());
      } else if (m.kind == MsgKind::failed) {
        Error e = fail(Reason::JAIL_SETUP_FAILED, std::string(step_name(m.step)) + ": " + strerror(m.err));
        (ready_sent_ ? late_error_ : setup_error_) = e;
      } else if (m.kind == MsgKind::worker_status) {
        worker_status_ = m.value;
      } else if (m.kind == MsgKind::tree_gone) {
        tree_gone_ = true;
        over(Clock::now());
      } else if ((m.kind == MsgKind::fs_entry && fs_msgs_.size() <= kMaxListEntries) || m.kind == MsgKind::fs_done) {
        fs_msgs_.push_back(m);  // bounded whatever the worker sends: one past the cap says "more"
      }
    }
    const auto write_deadline = ended ? grace_end : deadline;
    if (fds[1].revents) relay(l.out, l, write_deadline, client_gone);
    if (fds[2].revents) relay(l.err, l, write_deadline, client_gone);
    if (fds[3].revents) {
      l.notif = receive_fd(sock);
      sock = -1;
    }
    if (fds[4].revents & (POLLHUP | POLLERR)) {
      l.notif.reset();
    } else if (fds[4].revents & POLLIN) {
      seccomp_notif req;
      memset(&req, 0, sizeof req);
      if (ioctl(l.notif.get(), SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
        seccomp_notif_resp resp;
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.error = -EPERM;
        ioctl(l.notif.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp);  // ENOENT: the caller died meanwhile
        ++violations_[req.data.nr];
      }
    }
    if (fds[5].revents) {
      siginfo_t info{};
      if (waitid(P_PIDFD, static_cast<id_t>(pidfd_.load()), &info, WEXITED | __WALL) == 0 || errno == ECHILD) {
        reaped_ = true;
        over(Clock::now());
      }
    }
  }
  outcome_.stdout_bytes = l.out.bytes;
  outcome_.stderr_bytes = l.err.bytes;
  outcome_.stdout_hash_b64u = l.out.digest();
  outcome_.stderr_hash_b64u = l.err.digest();
  outcome_.output_truncated = l.truncated;
}

// The init runs in the supervisor's memory, on this Runner's plan and stacks: it must be gone
// before they are. The loop normally reaped it; after a failed poll, or once it reported the
// tree gone, it is killed (if still there) and reaped here.
void Runner::reap_init() {
  if (reaped_ || pidfd_.load() < 0) return;
  send_sigkill(pidfd_.load());
  siginfo_t info{};
  while (waitid(P_PIDFD, static_cast<id_t>(pidfd_.load()), &info, WEXITED | __WALL) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

void Runner::finish() {
  if (!tree_gone_) reap_init();  // else it is exiting: the Runner reaps it, after the answer
  if (ended_ == Clock::time_point{}) ended_ = Clock::now();
  Outcome& o = outcome_;
  o.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ended_ - started_).count();
  for (const auto& [nr, count] : violations_) o.violations.push_back({syscall_name(nr), count});
  std::sort(o.violations.begin(), o.violations.end(),
            [](const Violation& a, const Violation& b) { return a.syscall < b.syscall; });
  const bool signaled = worker_status_ && WIFSIGNALED(*worker_status_);
  const int sig = signaled ? WTERMSIG(*worker_status_) : 0;
  if (worker_status_ && WIFEXITED(*worker_status_)) o.exit_code = WEXITSTATUS(*worker_status_);
  o.signal = sig;
  if (!ready_sent_ && timed_out_ && !setup_error_) {
    // The deadline counts from the clone: a set-up slowed down by a busy host can use it up.
    // The call ran out of time; that is a timeout, not a broken jail.
    o.status = "timeout";
    o.signal = SIGKILL;
    ready_sent_ = true;
    ready_.set_value(ok_status());
  } else if (!ready_sent_) {
    o.status = "error";
    o.error = setup_error_.value_or(fail(Reason::JAIL_SETUP_FAILED, "the jail's init ended before it was ready"));
    ready_.set_value(*o.error);
  } else if (killed_.load()) {
    o.status = "killed";
    o.signal = SIGKILL;
  } else if (cgroup_.limit_hit() || sig == SIGXCPU || sig == SIGXFSZ) {
    o.status = "limit";
    // The tree was killed, not ended by the command: by the deadline after the limit was hit
    // (a fork bomb held at pids.max runs until then), or by the OOM killer before the command
    // could report. It exits as a killed command (128+9), never as a supervisor failure.
    if (timed_out_ || !worker_status_) o.signal = SIGKILL;
  } else if (timed_out_) {
    o.status = "timeout";
    o.signal = SIGKILL;
  } else if (late_error_) {
    o.status = "error";
    o.error = late_error_;
  } else if (worker_status_ && WIFEXITED(*worker_status_)) {
    o.status = o.exit_code == 0 ? "success" : "error";
  } else if (signaled) {
    o.status = "error";
  } else {
    o.status = "killed";  // init died without reporting: killed from outside (e.g. OOM of init)
  }
  if (egress_) o.egress = egress_->stop();  // the tree is gone: end its connections too
  // The empty cgroup is removed with the Runner, after the supervisor has answered the call.
}

const Outcome& Runner::wait() {
  // Once the monitor has written the outcome, the call need not also wait for its thread to
  // exit: that join is left to the destructor, after the answer.
  if (done_writing_.load(std::memory_order_acquire)) return outcome_;
  if (!joined_ && thread_.joinable()) thread_.join();
  joined_ = true;
  return outcome_;
}

Runner::~Runner() {
  if (thread_.joinable()) {
    if (!done_writing_.load()) kill();
    thread_.join();
  }
  reap_init();
  if (int fd = pidfd_.exchange(-1); fd >= 0) close(fd);
}

}  // namespace clawjail::sandbox::detail
