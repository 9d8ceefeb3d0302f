// Private to sandbox/: the plan a jail is built from, and the steps of the child side.
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

#include "policy/unique_fd.h"
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

// ---- mounts.cc ----
struct BindPlan {
  std::string source;  // resolved host path (no symlinks)
  std::string target;  // absolute path inside the jail
  dev_t dev = 0;       // identity checked by the parent; the child refuses a different object
  ino_t ino = 0;
  bool directory = true;
  bool writable = false;
  bool exec = true;     // false: noexec
  bool device = false;  // a /dev node: keeps device access
  int tree_fd = -1;     // a detached tree prepared by the parent (idmapped workspace), or -1
};
struct FilePlan {
  std::string path;  // inside the jail
  std::string content;
};
struct SymlinkPlan {
  std::string path;  // inside the jail
  std::string value;
};
struct MountPlan {
  std::vector<std::string> dirs;  // created in the new root, parents first
  std::vector<BindPlan> binds;
  std::vector<SymlinkPlan> symlinks;
  std::vector<FilePlan> files;
  std::string root_options;  // tmpfs options of the new root
  std::string tmp_options;   // tmpfs options of /tmp
  bool tmp_noexec = true;
};
// Root mode: the parent clones every source's tree from its descriptor (idmapped through
// `idmap_userns_fd` for the workspace, when >= 0) and keeps the trees alive until the clone.
struct ParentClone {
  bool root_mode = false;
  int idmap_userns_fd = -1;
  std::vector<UniqueFd>& keep_alive;
};
// spec.opened must be set (open_sources).
Result<MountPlan> plan_mounts(const JailSpec& spec, const ParentClone& parent);
StepResult build_root(const MountPlan& plan);  // child: private propagation .. pivot_root
// Child: `a` followed by `b` into a stack buffer; false when it would not fit.
bool join_path(char (&out)[PATH_MAX], const char* a, const char* b);

// ---- beneath.cc ----
// Child: opens `path` inside `dirfd` without following any symlink and without leaving it (`..`
// above the start and absolute paths: EXDEV; a symlink: ELOOP), with openat2 where the kernel
// and the seccomp filters allow it, else by walking the components (flags get O_CLOEXEC).
int open_beneath(int dirfd, const char* path, int flags, mode_t mode = 0);

// ---- proc_mask.cc ----
// Child, before pivot_root: /proc/sys and friends read-only, kernel-revealing entries masked.
StepResult harden_proc(const char* proc_path, const char* dev_null_path);
Json proc_mask_summary();

// ---- pty.cc ----
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

// ---- stdin_relay.cc ----
// Parent: the client's stdin copied into the jail, which never holds the client's descriptor
// itself (it may be the caller's terminal). Into the call's own terminal (with a pty: the
// terminal's end-of-file when the input ends, or at once when the call has none), or into a pipe
// whose read end is the jail's stdin (closed when the input ends).
class StdinRelay {
 public:
  StdinRelay() = default;
  static StdinRelay to_terminal(int client_in, int master);
  static StdinRelay to_pipe(int client_in, UniqueFd pipe_w);
  pollfd want() const;  // what to poll for next ({-1} when done)
  void ready(short revents);
 private:
  void end_of_input();
  void stop();
  int in_ = -1, out_ = -1;
  UniqueFd pipe_;  // to_pipe: owns out_
  std::string pending_;
  bool line_open_ = false;
};
// The client's stdin is /dev/null: the jail gets one of its own and nothing needs relaying.
bool is_dev_null(int fd);

// ---- landlock.cc ----
// Landlock rules planned by the parent from the mount plan; the child opens each path after
// pivot_root and restricts itself (the second layer under the mounts).
struct LandlockRule {
  std::string path;  // inside the jail
  uint64_t access = 0;
};
struct LandlockPlan {
  int abi = 0;  // 0: the kernel has no Landlock, the layer is skipped
  uint64_t handled = 0;
  std::vector<LandlockRule> rules;
};
LandlockPlan plan_landlock(const MountPlan& mounts, int abi);
StepResult apply_landlock(const LandlockPlan& plan);  // child, after no_new_privs
Json landlock_summary(const JailSpec& spec);

// ---- binds.cc ----
// open(2) of `path` with no symlink followed in any component (openat2 RESOLVE_NO_SYMLINKS);
// O_CLOEXEC is added. Async-signal-safe: the child side uses it too.
int open_no_symlinks(const char* path, int flags);

// ---- seccomp.cc ----
struct SeccompProgram {
  std::vector<sock_filter> filter;
  sock_fprog fprog() const;
};
Result<SeccompProgram> build_seccomp(const JailSpec& spec);
// Child: installs the filter with a user-notification listener and returns the listener fd.
StepResult install_seccomp(const sock_fprog& prog, int* listener_fd);
std::string syscall_name(int nr);

// ---- spec.cc ----
std::string spec_key(const JailSpec& spec);  // equal keys: equal specs (the pool's and the hash's memo)
Json seccomp_summary(const JailSpec& spec);

// ---- caps.cc ----
StepResult drop_privileges();  // child: securebits, bounding, ambient, caps, nnp

// ---- limits.cc ----
struct RlimitPlan {
  int resource;
  rlimit value;
};
std::vector<RlimitPlan> plan_rlimits(const policy::Limits& limits, bool cgroup_memory, bool cgroup_pids);
StepResult apply_rlimits(const std::vector<RlimitPlan>& plan);

// ---- cgroup_delegation.cc ----
struct CgroupV2 {
  std::string subtree;        // where jails' cgroups go; empty: none
  bool cpu = false;           // cpu enabled there as well as memory and pids
  bool unified_only = false;  // /sys/fs/cgroup is cgroup2: no v1 controller to fall back on
  std::string problem;        // why there is no subtree
};
// Finds the supervisor's delegated subtree and claims it: moves the process into a leaf and
// enables memory, pids and cpu for the jails' cgroups. Called once, by host_support().
CgroupV2 find_cgroup_v2_subtree();

// ---- cgroups.cc ----
bool write_value(const std::string& path, const std::string& value);  // a cgroup control file
inline constexpr const char* kV1MemoryRoot = "/sys/fs/cgroup/memory";
inline constexpr const char* kV1PidsRoot = "/sys/fs/cgroup/pids";
class JailCgroup {
 public:
  // The per-jail cgroup (v2 delegated subtree, else v1 memory+pids) when available: a spare one
  // with the same limits when there is one, else a new one.
  static Result<JailCgroup> create(const policy::Limits& limits);
  JailCgroup() = default;
  JailCgroup(JailCgroup&&) noexcept;
  JailCgroup& operator=(JailCgroup&&) noexcept;
  // Kept as a spare when it is empty, saw no limit hit and holds at most 1/16 of its memory
  // limit charged; else removed.
  ~JailCgroup();
  bool memory() const { return memory_; }
  bool pids() const { return pids_; }
  Status add(pid_t pid) const;
  // v1 (cgroup_thread.cc): moves the calling thread into the jail's cgroups, so that a clone3
  // from it is born there, without add()'s RCU grace period; leave_thread() moves it back.
  // false: not possible here, add() the child after the clone instead.
  bool enter_thread();
  Status leave_thread();
  bool limit_hit() const;  // OOM kill or pids.max reached
  std::string kind() const { return kind_; }
  const std::string& limits_key() const { return limits_key_; }
  void discard();  // removes it now, never a spare
 private:
  Status open_files();
  bool reusable() const;
  void release();
  std::vector<std::string> dirs_;
  std::vector<UniqueFd> tasks_;   // v1: each dir's `tasks`, where enter_thread() writes
  std::vector<UniqueFd> events_;  // read by limit_hit(): OOM kills, then pids.max events
  std::vector<std::string> home_;  // where enter_thread() found the thread (`tasks` files)
  std::string kind_ = "none";
  std::string limits_key_;  // kind and limits: which jails may take it as a spare
  int64_t memory_limit_ = 0;  // bytes
  bool memory_ = false, pids_ = false;
};

// ---- idmap.cc ----
// A host uid from the range, held (system-wide) while the jail runs.
class UidLease {
 public:
  static Result<UidLease> acquire(const UidRange& range);
  uid_t uid() const { return uid_; }
 private:
  UniqueFd lock_;
  uid_t uid_ = 0;
};
Status write_id_maps(pid_t pid, bool root_mode, uid_t host_uid, gid_t host_gid);
// While it lives, what the calling thread creates (pipes, terminals) belongs to uid:gid, since a
// new inode takes its owner from the creating thread's fsuid/fsgid, and the files it opens are
// checked as theirs. Ownership at creation needs CAP_SETUID/CAP_SETGID only, no CAP_CHOWN
// (docs/operations.md, "What the service may do"). Other threads keep their own identity.
class CreatingAs {
 public:
  CreatingAs(uid_t uid, gid_t gid);
  ~CreatingAs();
  CreatingAs(const CreatingAs&) = delete;
  CreatingAs& operator=(const CreatingAs&) = delete;
  bool ok() const { return ok_; }
 private:
  uid_t old_uid_;
  gid_t old_gid_;
  bool ok_;
};
// A user namespace mapping the workspace owner to the jail's host uid (for an idmapped bind).
Result<UniqueFd> make_idmap_userns(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid);
// The same, made once per mapping and shared (null when it cannot be made).
std::shared_ptr<const UniqueFd> shared_idmap_userns(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid);

// ---- namespaces.cc ----
uint64_t jail_namespace_flags();
// clone (+ `flags`, CLONE_PIDFD when `pidfd` is given): the child runs fn(arg) on a copy of the
// caller's memory and exits with what it returns; the caller gets the child's pid.
pid_t clone_copying_memory(uint64_t flags, int (*fn)(void*), void* arg, int* pidfd);
// The stack of a child that shares the supervisor's memory (clone_sharing_memory). Only pages
// the child touches cost anything; a guard page below catches an overflow.
class ChildStack {
 public:
  static Result<ChildStack> create(size_t size);
  ChildStack() = default;
  ChildStack(ChildStack&& o) noexcept;
  ChildStack& operator=(ChildStack&& o) noexcept;
  ~ChildStack();
  void* top() const { return base_ ? static_cast<char*>(base_) + size_ : nullptr; }
 private:
  void unmap();
  void* base_ = nullptr;
  size_t size_ = 0;
};
// clone with CLONE_VM (+ `flags`, CLONE_PIDFD when `pidfd` is given): the child runs fn(arg) on
// `stack` in the caller's address space, so no copy of the supervisor's memory is made, written
// or torn down. fn must not allocate or take locks (internal.h's child-side rule) and must not
// return. The stack must outlive the child.
pid_t clone_sharing_memory(uint64_t flags, const ChildStack& stack, int (*fn)(void*), void* arg, int* pidfd);
bool clone_shares_memory();  // false in sanitizer builds: clone_sharing_memory copies there
StepResult set_hostname();
StepResult bring_up_loopback();

// ---- fs_ops.cc ----
struct FsPlan {
  std::string op;
  std::vector<std::string> paths;
  std::vector<std::string> components;  // mkdir -p, in order
  bool create = true, truncate = true, exclusive = false, recursive = false;
};
[[noreturn]] void run_fs_worker(const FsPlan& plan, int report_fd);

// ---- jail.cc ----
struct WorkerPlan {
  std::vector<std::string> candidates;  // argv[0] resolved against the jail's PATH, in order
  std::vector<std::string> argv_storage, env_storage;
  std::vector<char*> argv, envp;
  std::string workdir;
  const FsPlan* fs = nullptr;  // set: run the file tool instead of exec
};
Result<Jail> start_jail(const JailSpec& spec, const WorkerPlan& worker, const Io& io);

// ---- fd_passing.cc ----
bool send_fd(int sock, int fd);  // async-signal-safe
UniqueFd receive_fd(int sock);   // non-blocking; invalid on EOF or anything but one descriptor
// The go-ahead that starts a jail's command: a 'G', with the command's stdin when the jail was
// built ahead of its call (fd >= 0). receive_go blocks and is async-signal-safe: it returns the
// descriptor, -1 for a plain 'G', or kNoGo for anything else (EOF: the supervisor dropped the jail).
constexpr int kNoGo = -2;
bool send_go(int sock, int fd);
int receive_go(int sock);

}  // namespace clawjail::sandbox::detail
