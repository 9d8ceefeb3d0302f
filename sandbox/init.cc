// The child side of a jail: the process the clone created (pid 1 of the new pid namespace) builds
// the jail, then forks the worker that runs the command, and reaps until the worker exits.
// Everything here is raw system calls on memory prepared by the parent (see sandbox/steps.h).
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sandbox/caps.h"
#include "sandbox/egress.h"
#include "sandbox/fd_passing.h"
#include "sandbox/fs_ops.h"
#include "sandbox/init.h"
#include "sandbox/landlock.h"
#include "sandbox/limits.h"
#include "sandbox/mounts.h"
#include "sandbox/namespaces.h"
#include "sandbox/pty.h"
#include "sandbox/seccomp.h"
#include "sandbox/steps.h"
#include "sandbox/worker.h"

namespace clawjail::sandbox::detail {

const char* step_name(Step step) {
  static constexpr const char* kNames[] = {
#define CLAWJAIL_STEP_NAME(name) #name,
      CLAWJAIL_STEPS(CLAWJAIL_STEP_NAME)
#undef CLAWJAIL_STEP_NAME
  };
  auto i = static_cast<size_t>(step);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "unknown";
}

StepResult failed(Step step) { return StepResult{step, errno}; }

void send_msg(int fd, const Msg& msg) {
  while (write(fd, &msg, sizeof msg) < 0 && errno == EINTR) {
  }
}

void fail_and_exit(int report_fd, StepResult r) {
  Msg m;
  m.kind = MsgKind::failed;
  m.step = r.step;
  m.err = r.err;
  send_msg(report_fd, m);
  _exit(127);
}

namespace {

constexpr int kReportFd = 3;    // report pipe, inside the jail (close-on-exec)
constexpr int kListenerFd = 4;  // socket to hand the seccomp listener to the supervisor

// Raw system calls, not glibc's wrappers: this process was cloned from a multi-threaded
// supervisor, and glibc's set*id broadcast to "all threads" waits for the parent's threads,
// which do not exist here, for ever (a jail that hangs before it starts).
StepResult set_ids(bool root_mode) {
  if (syscall(SYS_setresgid, kJailGid, kJailGid, kJailGid) != 0) return failed(Step::set_ids);
  // As root the inherited supplementary groups are dropped; unprivileged user namespaces deny
  // setgroups (the groups stay, unmapped, as "nogroup").
  if (root_mode && syscall(SYS_setgroups, 0, nullptr) != 0) return failed(Step::set_ids);
  if (syscall(SYS_setresuid, kJailUid, kJailUid, kJailUid) != 0) return failed(Step::set_ids);
  return {};
}

// Moves the descriptors the jail keeps to 0..4 and closes every other one: nothing of the
// supervisor (keys, sockets, logs, other jails' pipes) survives into the jail.
StepResult arrange_fds(const ChildFds& f) {
  int in = fcntl(f.stdin_fd, F_DUPFD_CLOEXEC, 1000);
  int out = fcntl(f.stdout_w, F_DUPFD_CLOEXEC, 1000);
  int err = fcntl(f.stderr_w, F_DUPFD_CLOEXEC, 1000);
  int rep = fcntl(f.report_w, F_DUPFD_CLOEXEC, 1000);
  int lis = fcntl(f.listener_w, F_DUPFD_CLOEXEC, 1000);
  if (in < 0 || out < 0 || err < 0 || rep < 0 || lis < 0) return failed(Step::stdio);
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup3(rep, kReportFd, O_CLOEXEC) < 0 ||
      dup3(lis, kListenerFd, O_CLOEXEC) < 0)
    return failed(Step::stdio);
  if (close_range(kListenerFd + 1, ~0U, 0) != 0) return failed(Step::close_fds);
  return {};
}

StepResult send_listener(int listener) {
  if (!send_fd(kListenerFd, listener)) return failed(Step::send_listener);
  close(listener);
  return {};
}

// The jail is built before the supervisor has made the call's `started` receipt durable; the
// command starts only on its word (a 'G' on the same socket). Anything else ends the jail. A jail
// built ahead of its call gets the call's stdin with the 'G'.
void wait_for_release() {
  int in = receive_go(kListenerFd);
  if (in == kNoGo) _exit(126);
  if (in >= 0) {
    if (dup2(in, 0) < 0) fail_and_exit(kReportFd, failed(Step::stdio));
    close(in);
  }
  close(kListenerFd);
}

[[noreturn]] void exec_command(const WorkerPlan& w) {
  if (chdir(w.workdir.c_str()) != 0) fail_and_exit(kReportFd, failed(Step::chdir));
  int last = ENOENT;
  for (const auto& path : w.candidates) {
    execve(path.c_str(), w.argv.data(), w.envp.data());
    last = errno;
    if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) break;
  }
  errno = last;
  fail_and_exit(kReportFd, failed(last == ENOENT ? Step::exec_not_found : Step::exec));
}

[[noreturn]] void run_worker(const ChildPlan& p) {
  // The command starts with no signal blocked: the mask survives execve, and the supervisor's
  // monitor thread, whose mask the init inherited, blocks SIGPIPE (`yes | head -1` must end by
  // SIGPIPE, as anywhere else).
  sigset_t none;
  sigemptyset(&none);
  if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, _NSIG / 8) != 0) fail_and_exit(kReportFd, failed(Step::signal_mask));
  if (setsid() < 0) fail_and_exit(kReportFd, failed(Step::setsid));
  if (p.terminal)
    if (StepResult r = take_terminal(p.terminal); !r.ok()) fail_and_exit(kReportFd, r);
  if (p.worker->fs) run_fs_worker(*p.worker->fs, kReportFd);
  if (p.worker->fs_serve) serve_fs_requests(0);
  exec_command(*p.worker);
}

int worker_entry(void* plan) { run_worker(*static_cast<const ChildPlan*>(plan)); }

// A command is started the way posix_spawn does it: the worker borrows this process's memory
// (which is the supervisor's) until its execve, and init waits meanwhile (CLONE_VFORK), so no
// address space is copied. A file tool runs clawjail's own code to the end, so it gets a copy.
pid_t start_worker(const ChildPlan& p) {
  auto* plan = const_cast<ChildPlan*>(&p);
  if (p.worker->fs || p.worker->fs_serve || !p.worker_stack) return clone_copying_memory(0, worker_entry, plan, nullptr);
  return clone_sharing_memory(CLONE_VFORK, *p.worker_stack, worker_entry, plan, nullptr);
}

// What the kernel does when pid 1 exits, done by pid 1 first: kill every other process of the
// namespace (all run as the jail's uid, and no fork survives a pending SIGKILL) and reap them.
// The supervisor then learns that the tree is gone without waiting for this process's own
// teardown (its mounts and namespaces), which follows at _exit.
[[noreturn]] void end_the_tree() {
  kill(-1, SIGKILL);
  while (waitpid(-1, nullptr, __WALL) > 0 || errno == EINTR) {
  }
  Msg gone;
  gone.kind = MsgKind::tree_gone;
  send_msg(kReportFd, gone);
  _exit(0);
}

// pid 1 reaps every orphan; when the worker (the first process) ends, it reports the worker's
// wait status and ends the rest of the tree.
[[noreturn]] void reap_until_worker_exits(pid_t worker) {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0 || pid == worker) {
      Msg m;
      m.kind = MsgKind::worker_status;
      m.value = pid < 0 ? -1 : status;
      send_msg(kReportFd, m);
      end_the_tree();
    }
  }
}

StepResult build_namespaces(const ChildPlan& p) {
  if (StepResult r = set_ids(p.root_mode); !r.ok()) return r;
  if (StepResult r = build_root(*p.mounts); !r.ok()) return r;
  if (StepResult r = set_hostname(); !r.ok()) return r;
  return bring_up_loopback();
}

StepResult confine(const ChildPlan& p) {
  if (StepResult r = apply_rlimits(*p.rlimits); !r.ok()) return r;
  return drop_privileges();
}

}  // namespace

int jail_init_entry(void* plan) { jail_init(*static_cast<const ChildPlan*>(plan)); }

void jail_init(const ChildPlan& p) {
  // Dies with the supervisor's monitor thread; the sync read below closes the race where the
  // parent died before prctl (EOF instead of the go byte).
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail_and_exit(p.fds.report_w, failed(Step::pdeathsig));
  char go = 0;
  if (read(p.fds.sync_r, &go, 1) != 1 || go != 'G') _exit(126);
  if (StepResult r = build_namespaces(p); !r.ok()) fail_and_exit(p.fds.report_w, r);
  if (StepResult r = open_egress_port(p.egress_handover); !r.ok()) fail_and_exit(p.fds.report_w, r);
  if (StepResult r = arrange_fds(p.fds); !r.ok()) fail_and_exit(p.fds.report_w, r);
  if (StepResult r = confine(p); !r.ok()) fail_and_exit(kReportFd, r);
  if (StepResult r = apply_landlock(*p.landlock); !r.ok()) fail_and_exit(kReportFd, r);
  // Changing credentials (the id maps, setres[ug]id) cleared the parent-death signal: arm it again,
  // then make sure the supervisor did not die in between (its end of the report pipe is gone).
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) fail_and_exit(kReportFd, failed(Step::pdeathsig));
  if (pollfd pf{kReportFd, 0, 0}; poll(&pf, 1, 0) > 0 && (pf.revents & (POLLERR | POLLHUP))) _exit(126);
  int listener = -1;
  if (StepResult r = install_seccomp(p.seccomp, &listener); !r.ok()) fail_and_exit(kReportFd, r);
  if (StepResult r = send_listener(listener); !r.ok()) fail_and_exit(kReportFd, r);
  Msg ready;
  ready.kind = MsgKind::ready;
  send_msg(kReportFd, ready);
  wait_for_release();
  pid_t worker = start_worker(p);
  if (worker < 0) fail_and_exit(kReportFd, failed(Step::fork_worker));
  // The command's output ends when the tree's last copy of these is closed: not ours.
  for (int fd : {0, 1, 2}) close(fd);
  // Same uid as the jail's processes: without this they could open /proc/1/mem (no ptrace
  // needed) and make init report a forged status. Non-dumpable makes /proc/1/* unreachable.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  reap_until_worker_exits(worker);
}

}  // namespace clawjail::sandbox::detail
