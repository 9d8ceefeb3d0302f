// A terminal for a call that asks for one: opened by the supervisor, mounted into the jail.
#pragma once
#include "sandbox/mounts.h"
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

// The call's terminal, opened by the supervisor on the host's devpts. The jail sees only this
// one slave, bound at the same /dev/pts/N path; there is no ptmx inside.
struct Pty {
  UniqueFd master, slave;
  std::string path;  // /dev/pts/N, on the host and inside the jail
};
Result<Pty> open_pty(uid_t owner, gid_t group, unsigned short rows, unsigned short cols);
Status plan_pty_mount(MountPlan& plan, const Pty& pty);
// Child, in the worker after setsid: the jail's own /dev/pts/N as fds 0-2 and controlling tty.
StepResult take_terminal(const char* path);

}  // namespace clawjail::sandbox::detail
