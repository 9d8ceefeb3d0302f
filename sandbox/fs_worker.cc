// The file worker (jail.h, FsWorker): a file-tool jail built once and then handed operations one
// by one over a socket pair, instead of a jail per operation. The jail side is
// serve_fs_requests (fs_ops.cc); this side sends each request with its data pipe, relays the
// data, and reads the answer, all under the operation's deadline.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "base/reason.h"
#include "sandbox/fs_ops.h"
#include "sandbox/output_relay.h"
#include "sandbox/runner.h"
#include "sandbox/sigpipe.h"
#include "sandbox/spec.h"
#include "sandbox/stdin_relay.h"

namespace clawjail::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// The jail lives until it is dropped (idle, job stop, shutdown), not for one call's timeout:
// each operation has the call's own deadline.
constexpr int64_t kWorkerLifetimeMs = 24LL * 3600 * 1000;

std::string key_of(const JailSpec& spec) {
  JailSpec key = spec;
  key.limits.timeout_ms = 0;
  key.allow_exec = false;
  return detail::spec_key(key);
}

bool send_request(int channel, const detail::FsRequest& req, int data_fd) {
  iovec iov{const_cast<detail::FsRequest*>(&req), sizeof req};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (data_fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &data_fd, sizeof data_fd);
  }
  ssize_t n;
  while ((n = sendmsg(channel, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  return n == static_cast<ssize_t>(sizeof req);
}

Result<std::pair<UniqueFd, UniqueFd>> data_pipe() {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return detail::setup_error("pipe");
  return std::pair{UniqueFd(p[0]), UniqueFd(p[1])};
}

int poll_ms(Clock::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count() + 1;
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1000));
}

// What one operation saw, for its Outcome.
struct OpState {
  std::vector<detail::Msg> msgs;
  std::optional<detail::Msg> end;  // fs_done or failed
  bool timed_out = false, watch_fired = false, jail_ended = false, truncated = false;
};

}  // namespace

Result<std::unique_ptr<FsWorker>> FsWorker::start(const JailSpec& spec_in) {
  std::unique_ptr<FsWorker> w(new FsWorker());
  w->key_ = key_of(spec_in);
  JailSpec jail_spec = spec_in;
  jail_spec.allow_exec = false;  // the file tools never start a program
  jail_spec.limits.timeout_ms = kWorkerLifetimeMs;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return detail::setup_error("socketpair");
  w->channel_.reset(sv[0]);
  UniqueFd jail_end(sv[1]);
  auto fill = [](detail::WorkerPlan& plan) {
    plan.fs_serve = true;
    plan.workdir = "/workspace";
    return ok_status();
  };
  auto runner = detail::Runner::launch(jail_spec, fill, Io{jail_end.get(), -1, -1, false});
  if (!runner) return runner.error();
  w->jail_.emplace(Jail(std::move(runner.value())));
  if (auto s = w->jail_->release(); !s) return s.error();
  return w;
}

FsWorker::~FsWorker() {
  channel_.reset();  // the worker exits at its end of the channel; the jail's drop kills the rest
}

bool FsWorker::serves(const JailSpec& spec) const {
  return alive() && key_of(spec) == key_ && const_cast<Jail&>(*jail_).runner().sources_unchanged(spec).ok();
}

bool FsWorker::alive() const {
  if (!jail_) return false;
  pollfd p{jail_->done_fd(), POLLIN, 0};
  return poll(&p, 1, 0) == 0;
}

pid_t FsWorker::pid() const { return jail_ ? jail_->pid() : -1; }

void FsWorker::kill() {
  if (jail_) jail_->kill();
}

Result<FsResult> FsWorker::run(const JailSpec& spec, const FsOp& op, const Io& io, int watch,
                               const std::function<void()>& on_watch) {
  if (key_of(spec) != key_) return fail(Reason::INTERNAL_ERROR, "the file worker was built for another jail");
  if (auto s = detail::validate_fs_op(op, spec); !s) return s.error();
  // A worker that refuses an operation closes its end of the data pipe before the write's bytes
  // are in: that is an answer, not a reason to end the caller.
  const detail::SigpipeBlocked pipes;
  ++operations_;
  auto req = std::make_unique<detail::FsRequest>();
  detail::fs_request_of(op, *req);
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::milliseconds(spec.limits.timeout_ms);
  UniqueFd ours, theirs;
  if (op.op == FsOpKind::read || op.op == FsOpKind::write) {
    auto p = data_pipe();
    if (!p) return p.error();
    ours = std::move(op.op == FsOpKind::read ? p->first : p->second);
    theirs = std::move(op.op == FsOpKind::read ? p->second : p->first);
  }
  if (!send_request(channel_.get(), *req, theirs.get())) {
    kill();
    return fail(Reason::JAIL_SETUP_FAILED, "the file worker is gone: " + std::string(strerror(errno)));
  }
  theirs.reset();
  // write: the client's stdin into the pipe; read: the pipe to the client's stdout.
  detail::StdinRelay feed;
  if (op.op == FsOpKind::write) {
    if (io.stdin_fd >= 0 && !detail::is_dev_null(io.stdin_fd)) feed = detail::StdinRelay::to_pipe(io.stdin_fd, std::move(ours));
    else ours.reset();
  }
  detail::Stream out;
  detail::Cap cap{detail::read_cap(op, spec.limits.output_bytes), false};
  if (op.op == FsOpKind::read) {
    out.in = ours.get();
    out.out = io.stdout_fd;
  }
  OpState st;
  auto fire = [&] {
    if (!st.watch_fired && on_watch) on_watch();
    st.watch_fired = true;
  };
  while (!st.jail_ended && (!st.end || out.in >= 0)) {
    if (Clock::now() >= deadline) {
      st.timed_out = true;
      kill();
      break;
    }
    pollfd fds[5] = {{channel_.get(), POLLIN, 0},
                     {out.in, POLLIN, 0},
                     feed.want(),
                     {jail_->done_fd(), POLLIN, 0},
                     {st.watch_fired ? -1 : watch, POLLIN | POLLRDHUP, 0}};
    if (poll(fds, 5, poll_ms(deadline)) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      bool eof = false;
      detail::Msg m = detail::read_msg(channel_.get(), eof);
      if (eof) st.jail_ended = true;
      else if (m.kind == detail::MsgKind::fs_done || m.kind == detail::MsgKind::failed) st.end = m;
      else if (m.kind == detail::MsgKind::fs_entry && st.msgs.size() <= kMaxListEntries) st.msgs.push_back(m);
    } else if (fds[0].revents) {
      st.jail_ended = true;
    }
    if (fds[1].revents) detail::relay(out, cap, deadline, fire);
    if (fds[2].revents) feed.ready(fds[2].revents);
    if (fds[3].revents && !st.end) st.jail_ended = true;
    if (fds[4].revents) fire();
  }
  FsResult result;
  Outcome& o = result.outcome;
  o.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  o.stdout_hash_b64u = out.digest();
  o.stdout_bytes = out.bytes;
  o.output_truncated = cap.truncated;
  o.stderr_hash_b64u = detail::Stream().digest();
  if (st.end && st.end->kind == detail::MsgKind::fs_done && !st.timed_out) {
    o.status = RunStatus::success;
    o.exit_code = 0;
    FsResult value = detail::fs_result_of(op, st.msgs);
    result.value = std::move(value.value);
    result.truncated = value.truncated;
    return result;
  }
  if (st.end && !st.timed_out) {
    errno = st.end->err;
    return detail::fs_op_error(op, fail(Reason::JAIL_SETUP_FAILED, std::string(detail::step_name(st.end->step)) + ": " + strerror(st.end->err)));
  }
  // The jail ended (killed: the call was cancelled) or missed the deadline: not used again.
  kill();
  Outcome ended = jail_->wait();
  o.status = st.timed_out ? RunStatus::timeout : RunStatus::killed;
  o.signal = st.timed_out ? 0 : SIGKILL;
  o.violations = ended.violations;
  return result;
}

}  // namespace clawjail::sandbox
