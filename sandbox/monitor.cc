// The watcher: the monitor thread clones the jail's init, then watches it until its tree is gone:
// relays its output under the cap, answers seccomp notifications, enforces the deadline, reaps
// the init, and hands what it saw to classify_outcome() (outcome.cc).
#include "base/reason.h"
#include "base/unique_fd.h"
#include "sandbox/fd_passing.h"
#include "sandbox/output_relay.h"
#include "sandbox/runner.h"
#include "sandbox/seccomp.h"
#include "sandbox/sigpipe.h"
#include "sandbox/steps.h"

#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>

namespace clawjail::sandbox::detail {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kExitGrace = std::chrono::seconds(2);

// glibc 2.36's <sys/pidfd.h> lacks C linkage for C++; the syscall is one line anyway.
void send_sigkill(int pidfd) { syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0); }

// What the loop polls, by name.
enum Slot : size_t { kReport, kStdout, kStderr, kListenerSock, kNotif, kInit, kStdin, kWake, kSlots };

int poll_timeout(Clock::time_point until, Clock::time_point now) {
  return static_cast<int>(std::clamp<int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1, 0, INT_MAX));
}

}  // namespace

struct Runner::Watch {
  Stream out, err;
  Cap cap;
  UniqueFd notif;  // the seccomp listener, once the init sent it over `sock`
  int report = -1, sock = -1, wake = -1;
  Clock::time_point deadline;
  StdinRelay input;
};

// ---- from the clone to the outcome ----

void Runner::monitor() {
  const SigpipeBlocked pipes;  // a client that went away must not kill the supervisor
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
    facts_.setup_error = s.error();
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

// The lifecycle's one transition function. `ready` answers release() once, also when the
// message is read after the tree's end; the end is final and starts the grace for the output.
void Runner::enter(Phase next) {
  if (next == Phase::ready) {
    if (facts_.ready) return;
    facts_.ready = true;
    ready_.set_value(ok_status());
  }
  if (next > phase_) phase_ = next;
  if (ending() && ended_ == Clock::time_point{}) ended_ = Clock::now();
}

Clock::time_point Runner::grace_end() const { return ended_ + kExitGrace; }

// ---- the loop ----

StdinRelay Runner::relay_stdin() {
  return pty_path_.empty() ? StdinRelay::to_pipe(stdin_src_.get(), std::move(stdin_feed_))
                           : StdinRelay::to_terminal(stdin_src_.get(), out_r_.get());
}

Runner::Watch Runner::start_watch() {
  Watch w;
  w.cap.left = spec_.limits.output_bytes;
  w.out.in = out_r_.get();
  w.out.out = io_out_.get();
  w.err.in = err_r_.get();
  w.err.out = io_err_.get();
  w.report = report_r_.get();
  w.sock = sock_r_.get();
  w.wake = wake_.get();
  w.deadline = ahead_ ? Clock::time_point::max() : started_ + std::chrono::milliseconds(spec_.limits.timeout_ms);
  // Built ahead, the jail has no client until it is released (hand_over() fills stdin_src_ and
  // stdin_feed_ meanwhile, from another thread).
  if (!ahead_) w.input = relay_stdin();
  return w;
}

// Runs until the tree is over (the init reported it gone or was reaped) and its output and
// report pipes are drained, or the grace after the end ran out.
void Runner::loop() {
  Watch w = start_watch();
  while (!(ending() && w.out.in < 0 && w.err.in < 0 && w.report < 0)) {
    auto now = Clock::now();
    const bool ended = ending();
    if (!ended && now >= w.deadline && !facts_.timed_out) {
      facts_.timed_out = true;
      send_sigkill(pidfd_.load());
    }
    if (ended && now >= grace_end()) break;
    auto until = ended ? grace_end() : (facts_.timed_out ? now + kExitGrace : w.deadline);
    std::array<pollfd, kSlots> fds{};
    fds[kReport] = {w.report, POLLIN, 0};
    fds[kStdout] = {w.out.in, POLLIN, 0};
    fds[kStderr] = {w.err.in, POLLIN, 0};
    fds[kListenerSock] = {w.sock, POLLIN, 0};
    fds[kNotif] = {w.notif.get(), POLLIN, 0};
    fds[kInit] = {phase_ == Phase::reaped ? -1 : pidfd_.load(), POLLIN, 0};
    fds[kStdin] = w.input.want();
    fds[kWake] = {w.wake, POLLIN, 0};
    if (poll(fds.data(), fds.size(), poll_timeout(until, now)) < 0 && errno != EINTR) break;
    if (fds[kWake].revents && released_.load(std::memory_order_acquire)) on_released(w);
    if (fds[kStdin].revents) w.input.ready(fds[kStdin].revents);
    if (fds[kReport].revents) on_report(w);
    const auto write_deadline = ended ? grace_end() : w.deadline;
    auto client_gone = [this] { kill(); };
    if (fds[kStdout].revents) relay(w.out, w.cap, write_deadline, client_gone);
    if (fds[kStderr].revents) relay(w.err, w.cap, write_deadline, client_gone);
    if (fds[kListenerSock].revents) on_listener(w);
    if (fds[kNotif].revents) on_notification(w, fds[kNotif].revents);
    if (fds[kInit].revents) on_init_exit();
  }
  record_output(w);
}

// Released: the call's clock starts now, and its output has somewhere to go.
void Runner::on_released(Watch& w) {
  w.wake = -1;
  started_ = released_at_;
  w.deadline = started_ + call_timeout_;
  w.out.out = io_out_.get();
  w.err.out = io_err_.get();
  w.input = relay_stdin();
}

// One message of the init (init.cc). `tree_gone` is its last: the report pipe is done with.
void Runner::on_report(Watch& w) {
  bool eof = false;
  Msg m = read_msg(w.report, eof);
  if (eof) {
    w.report = -1;
  } else if (m.kind == MsgKind::ready) {
    enter(Phase::ready);
  } else if (m.kind == MsgKind::failed) {
    Error e = fail(Reason::JAIL_SETUP_FAILED, std::string(step_name(m.step)) + ": " + strerror(m.err));
    (facts_.ready ? facts_.late_error : facts_.setup_error) = e;
  } else if (m.kind == MsgKind::worker_status) {
    facts_.worker_status = m.value;
  } else if (m.kind == MsgKind::tree_gone) {
    w.report = -1;
    enter(Phase::tree_gone);
  } else if ((m.kind == MsgKind::fs_entry && fs_msgs_.size() <= kMaxListEntries) || m.kind == MsgKind::fs_done) {
    fs_msgs_.push_back(m);  // bounded whatever the worker sends: one past the cap says "more"
  }
}

void Runner::on_listener(Watch& w) {
  w.notif = receive_fd(w.sock);
  w.sock = -1;
}

// Every notification is a syscall the filter refuses and counts (seccomp.cc): refused here.
void Runner::on_notification(Watch& w, short revents) {
  if (revents & (POLLHUP | POLLERR)) {
    w.notif.reset();
    return;
  }
  if (!(revents & POLLIN)) return;
  seccomp_notif req;
  memset(&req, 0, sizeof req);
  if (ioctl(w.notif.get(), SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return;
  seccomp_notif_resp resp;
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.error = -EPERM;
  ioctl(w.notif.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp);  // ENOENT: the caller died meanwhile
  ++violations_[req.data.nr];
}

void Runner::on_init_exit() {
  siginfo_t info{};
  if (waitid(P_PIDFD, static_cast<id_t>(pidfd_.load()), &info, WEXITED | __WALL) == 0 || errno == ECHILD)
    enter(Phase::reaped);
}

void Runner::record_output(Watch& w) {
  outcome_.stdout_bytes = w.out.bytes;
  outcome_.stderr_bytes = w.err.bytes;
  outcome_.stdout_hash_b64u = w.out.digest();
  outcome_.stderr_hash_b64u = w.err.digest();
  outcome_.output_truncated = w.cap.truncated;
}

// ---- the end ----

// The init runs in the supervisor's memory, on this Runner's plan and stacks: it must be gone
// before they are. The loop normally reaped it; after a failed poll, or once it reported the
// tree gone, it is killed (if still there) and reaped here.
void Runner::reap_init() {
  if (phase_ == Phase::reaped || pidfd_.load() < 0) return;
  send_sigkill(pidfd_.load());
  siginfo_t info{};
  while (waitid(P_PIDFD, static_cast<id_t>(pidfd_.load()), &info, WEXITED | __WALL) < 0 && errno == EINTR) {
  }
  enter(Phase::reaped);
}

void Runner::finish() {
  if (phase_ != Phase::tree_gone) reap_init();  // else it is exiting: the Runner reaps it, after the answer
  if (ended_ == Clock::time_point{}) ended_ = Clock::now();
  facts_.killed = killed_.load();
  facts_.limit_hit = cgroup_.limit_hit();
  Outcome ending = classify_outcome(facts_);
  if (!facts_.ready) ready_.set_value(ending.error ? Status(*ending.error) : ok_status());
  Outcome& o = outcome_;
  o.status = ending.status;
  o.exit_code = ending.exit_code;
  o.signal = ending.signal;
  o.error = ending.error;
  o.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ended_ - started_).count();
  for (const auto& [nr, count] : violations_) o.violations.push_back({syscall_name(nr), count});
  std::sort(o.violations.begin(), o.violations.end(),
            [](const Violation& a, const Violation& b) { return a.syscall < b.syscall; });
  if (egress_) o.egress = egress_->stop();  // the tree is gone: end its connections too
  // The empty cgroup is removed with the Runner, after the supervisor has answered the call.
}

const Outcome& Runner::wait() {
  // Once the monitor has written the outcome, the call need not also wait for its thread to
  // exit: that join is left to the destructor, after the answer.
  if (done_writing_.load(std::memory_order_acquire)) return outcome_;
  if (thread_.joinable()) thread_.join();
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
