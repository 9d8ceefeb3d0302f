// A write into a pipe whose reader went away raises SIGPIPE, and its default action ends the
// whole process: a jail or client that closes its end early must not take the supervisor (or any
// program using this library) with it. The threads that write into pipes of a jail or a client
// hold this guard while they do, so that such a write fails with EPIPE instead.
#pragma once
#include <signal.h>

namespace clawjail::sandbox::detail {

class SigpipeBlocked {
 public:
  SigpipeBlocked();
  // Takes away a SIGPIPE raised meanwhile (unless it was blocked before), then restores the
  // thread's mask: the signal would otherwise be delivered the moment it is unblocked.
  ~SigpipeBlocked();
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t old_{};
};

}  // namespace clawjail::sandbox::detail
