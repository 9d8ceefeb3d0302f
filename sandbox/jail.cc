// The public face of a running jail: a Runner (runner.cc) behind a handle that kills the whole
// tree when dropped.
#include <poll.h>

#include "sandbox/runner.h"

namespace clawjail::sandbox {

struct Jail::State {
  std::unique_ptr<detail::Runner> runner;
};

Jail::Jail() : s_(std::make_unique<State>()) {}
Jail::Jail(std::unique_ptr<detail::Runner> runner) : Jail() { s_->runner = std::move(runner); }
Jail::Jail(Jail&&) noexcept = default;
Jail& Jail::operator=(Jail&&) noexcept = default;
Jail::~Jail() = default;  // ~Runner kills the tree and joins its monitor

Result<Jail> Jail::begin(const JailSpec& spec, const Command& command, const Io& io) {
  auto fill = [&](detail::WorkerPlan& w) { return detail::fill_command(w, spec, command); };
  auto runner = detail::Runner::launch(spec, fill, io);
  if (!runner) return runner.error();
  return Jail(std::move(runner.value()));
}

Result<Jail> Jail::ahead(const JailSpec& spec) {
  auto runner = detail::Runner::launch_ahead(spec);
  if (!runner) return runner.error();
  return Jail(std::move(runner.value()));
}

detail::Runner& Jail::runner() { return *s_->runner; }

Status Jail::hand_over(const JailSpec& spec, const Command& command, const Io& io) {
  if (!s_ || !s_->runner) return fail(Reason::INTERNAL_ERROR, "hand_over() on a moved-from jail");
  auto fill = [&](detail::WorkerPlan& w) { return detail::fill_command(w, spec, command); };
  return s_->runner->hand_over(spec, fill, io);
}

bool Jail::ended() const {
  if (!s_ || !s_->runner) return true;
  pollfd p{s_->runner->done_fd(), POLLIN, 0};
  return poll(&p, 1, 0) != 0;
}

Status Jail::release() {
  if (!s_ || !s_->runner) return fail(Reason::INTERNAL_ERROR, "release() on a moved-from jail");
  return s_->runner->release();
}

Result<Jail> Jail::start(const JailSpec& spec, const Command& command, const Io& io) {
  auto jail = begin(spec, command, io);
  if (!jail) return jail.error();
  if (auto s = jail->release(); !s) return s.error();
  return jail;
}

pid_t Jail::pid() const { return s_ && s_->runner ? s_->runner->pid() : -1; }

int Jail::done_fd() const { return s_ && s_->runner ? s_->runner->done_fd() : -1; }

void Jail::kill() {
  if (s_ && s_->runner) s_->runner->kill();
}

Outcome Jail::wait() {
  if (!s_ || !s_->runner) {
    Outcome o;
    o.error = fail(Reason::INTERNAL_ERROR, "wait() on a moved-from jail");
    return o;
  }
  return s_->runner->wait();
}

}  // namespace clawjail::sandbox
