#include "sandbox/sigpipe.h"

#include <pthread.h>

#include <ctime>

namespace clawjail::sandbox::detail {
namespace {

sigset_t pipe_set() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGPIPE);
  return s;
}

}  // namespace

SigpipeBlocked::SigpipeBlocked() {
  sigset_t s = pipe_set();
  pthread_sigmask(SIG_BLOCK, &s, &old_);
}

SigpipeBlocked::~SigpipeBlocked() {
  if (!sigismember(&old_, SIGPIPE)) {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) {
      sigset_t s = pipe_set();
      timespec now{0, 0};
      sigtimedwait(&s, nullptr, &now);
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

}  // namespace clawjail::sandbox::detail
