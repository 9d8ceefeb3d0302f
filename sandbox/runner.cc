// The builder: plans a jail from its spec (mounts, limits, seccomp, pipes, stacks) and launches
// it on the monitor thread; hands a jail built ahead its call, and releases the command.
#include "sandbox/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/reason.h"
#include "base/unique_fd.h"
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
// The jail's init and worker run on stacks of their own in the supervisor's memory (namespaces.cc).
constexpr size_t kInitStack = 1 << 20;
constexpr size_t kWorkerStack = 256 << 10;

Status make_pipe(UniqueFd& r, UniqueFd& w) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return setup_error("pipe2");
  r.reset(p[0]);
  w.reset(p[1]);
  return ok_status();
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

Error setup_error(const char* what) {
  return fail(Reason::JAIL_SETUP_FAILED, std::string(what) + ": " + strerror(errno));
}

}  // namespace clawjail::sandbox::detail

namespace clawjail::sandbox {

Status check_command(const Command& c) {
  const auto has_nul = [](const std::string& s) { return s.find('\0') != std::string::npos; };
  if (c.argv.empty() || c.argv.front().empty()) return fail(Reason::BAD_FIELD, "empty command");
  if (std::any_of(c.argv.begin(), c.argv.end(), has_nul)) return fail(Reason::BAD_FIELD, "NUL in an argument");
  if (has_nul(c.workdir)) return fail(Reason::BAD_FIELD, "NUL in the working directory");
  for (const auto& [k, v] : c.env)
    if (k.empty() || k.find('=') != std::string::npos || has_nul(k) || has_nul(v))
      return fail(Reason::BAD_FIELD, "bad environment variable " + k + " (an empty name, '=' in it, or a NUL byte)");
  return ok_status();
}

}  // namespace clawjail::sandbox

namespace clawjail::sandbox::detail {

Status fill_command(WorkerPlan& w, const JailSpec& spec, const Command& c) {
  if (auto s = check_command(c); !s) return s;
  w.candidates = path_candidates(c);
  w.argv_storage = c.argv;
  std::map<std::string, std::string> env = c.env;
  const bool ws = spec.workspace_access != policy::WorkspaceAccess::none;
  env.emplace("PATH", "/usr/local/bin:/usr/bin:/bin");
  env.emplace("HOME", ws ? "/workspace" : "/tmp");
  env.emplace("USER", "clawjail");
  env.emplace("LOGNAME", "clawjail");
  if (spec.network) add_proxy_env(env);
  for (const auto& [k, v] : env) w.env_storage.push_back(k + "=" + v);
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
  if (spec_.network && !worker_.fs && !worker_.fs_serve) {
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
  if (worker_.fs_serve) {  // a file worker's stdin is its channel from the supervisor (FsWorker)
    jail_end.reset(fcntl(io.stdin_fd, F_DUPFD_CLOEXEC, 3));
    return jail_end ? ok_status() : Status(setup_error("the file worker's channel"));
  }
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

}  // namespace clawjail::sandbox::detail
