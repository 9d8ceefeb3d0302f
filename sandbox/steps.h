// Private to sandbox/: the steps of the child side and how it reports a failed one.
//
// The parent (supervisor) prepares everything that allocates — strings, argv/envp arrays, the
// seccomp BPF, the empty capability set — in a Plan before the clone. The child side only reads
// the Plan and makes raw system calls: after a clone in a multi-threaded process, malloc, stdio,
// locks and (under ASan) the allocator may be held by a thread that does not exist in the child,
// and a child that shares the supervisor's memory (clone_sharing_memory) must not touch its heap.
#pragma once
#include <linux/filter.h>
#include <poll.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "sandbox/jail.h"

namespace clawjail::sandbox::detail {

inline constexpr uid_t kJailUid = 1000;  // the unprivileged id every jail runs as, inside
inline constexpr gid_t kJailGid = 1000;
inline constexpr const char* kNewRoot = "/tmp";  // where the new root is assembled (bwrap idiom)
inline constexpr size_t kMaxBinds = 64;           // the child clones every bind source up front

// Where the child side failed. Sent through the report pipe with the errno.
#define CLAWJAIL_STEPS(X)                                                                       \
  X(none) X(wait_parent) X(set_ids) X(make_private) X(open_source) X(source_changed)           \
  X(mount_root) X(make_dir) X(bind) X(symlink) X(write_file) X(mount_proc) X(mount_tmp)        \
  X(pivot_root) X(detach_old_root) X(remount_root) X(hostname) X(loopback) X(rlimit)           \
  X(egress_port)                                                                               \
  X(securebits) X(bounding_set) X(ambient) X(capabilities) X(no_new_privs) X(close_fds)        \
  X(seccomp) X(send_listener) X(fork_worker) X(setsid) X(stdio) X(chdir) X(exec_not_found)     \
  X(exec) X(fs_op) X(pdeathsig) X(proc_readonly) X(proc_mask) X(landlock) X(terminal) X(signal_mask)

enum class Step : int32_t {
#define CLAWJAIL_STEP_ENUM(name) name,
  CLAWJAIL_STEPS(CLAWJAIL_STEP_ENUM)
#undef CLAWJAIL_STEP_ENUM
};
const char* step_name(Step step);

struct StepResult {
  Step step = Step::none;
  int err = 0;
  bool ok() const { return step == Step::none; }
};
// Captures errno for a failed step; used only on the child side (no allocation).
StepResult failed(Step step);

// One fixed-size record on the report pipe (< PIPE_BUF, so every write is atomic).
enum class MsgKind : int32_t { failed = 1, ready, worker_status, fs_entry, fs_done, tree_gone };
struct Msg {
  MsgKind kind = MsgKind::failed;
  Step step = Step::none;
  int32_t err = 0;
  int32_t value = 0;      // worker wait status; fs entry type
  int64_t size = 0;       // fs entry
  int64_t mtime_ms = 0;   // fs entry
  int32_t present = 0;    // fs stat: 0 when the path does not exist
  char name[256] = {};    // fs entry (NUL-terminated, names longer than 255 do not exist on Linux)
};
static_assert(sizeof(Msg) < 512);
void send_msg(int fd, const Msg& msg);  // async-signal-safe
[[noreturn]] void fail_and_exit(int report_fd, StepResult r);

}  // namespace clawjail::sandbox::detail
