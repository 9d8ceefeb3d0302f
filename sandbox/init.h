// Private: the child side of a jail (init.cc), entered right after the clone.
#pragma once
#include "sandbox/landlock.h"
#include "sandbox/limits.h"
#include "sandbox/mounts.h"
#include "sandbox/namespaces.h"
#include "sandbox/worker.h"

namespace clawjail::sandbox::detail {

struct ChildFds {  // the parent's descriptor numbers, valid in the child's copy of the table
  int sync_r = -1, report_w = -1, listener_w = -1;
  int stdin_fd = -1, stdout_w = -1, stderr_w = -1;
};
struct ChildPlan {
  ChildFds fds;
  bool root_mode = false;
  const MountPlan* mounts = nullptr;
  const std::vector<RlimitPlan>* rlimits = nullptr;
  sock_fprog seccomp{};
  const WorkerPlan* worker = nullptr;
  const LandlockPlan* landlock = nullptr;
  const char* terminal = nullptr;  // the pty's /dev/pts/N when the call asked for one
  int egress_handover = -1;  // egress.h: where init sends the proxy's port, or -1 without network
  const ChildStack* worker_stack = nullptr;  // where the worker runs until its execve
};
[[noreturn]] void jail_init(const ChildPlan& plan);
// clone_sharing_memory's entry point for jail_init (arg: the ChildPlan).
int jail_init_entry(void* plan);

}  // namespace clawjail::sandbox::detail
