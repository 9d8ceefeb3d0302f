// sandbox/: builds and runs a jail from a plain description. Never reads a token or a receipt.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/fs_op_kind.h"
#include "base/named_enum.h"
#include "base/run_status.h"
#include "base/unique_fd.h"
#include "policy/json.h"
#include "policy/wpc.h"

namespace clawjail::sandbox {

using policy::Json;

namespace detail {
class Runner;
struct FsRequest;
}  // namespace detail

// What this host can do, probed once at start-up (probe.cc). `problem` is the one clear sentence,
// with the fix, when no jail can be made at all.
struct HostSupport {
  bool user_namespaces = false;
  bool running_as_root = false;
  bool seccomp = false;
  bool seccomp_user_notif = false;
  int landlock_abi = 0;
  bool cgroup_v2_delegated = false;
  std::string cgroup_v2_path;          // our delegated subtree, when any
  bool cgroup_v2_cpu = false;          // cpu.max is enforced there too
  bool cgroup_unified_only = false;    // pure cgroup v2 host
  std::string cgroup_v2_problem;       // why no subtree, when none
  bool cgroup_v1_memory_pids = false;  // hybrid hosts
  std::optional<std::string> problem;
};
const HostSupport& host_support();  // probed on first use, cached
// How the jails' limits are enforced here, one line for the start-up log; `warning` when
// memory, pids and cpu are held by rlimits alone (docs/operations.md, "Limits").
struct LimitsEnforcement {
  std::string text;
  bool warning = false;
};
LimitsEnforcement limits_enforcement(const HostSupport& host);
// What a cgroup v2 directory enables for its children (cgroup.subtree_control).
struct SubtreeControllers {
  std::string text;  // the file's first line
  bool memory_pids = false, cpu = false;
};
SubtreeControllers subtree_controllers(const std::string& dir);

// Removes the empty per-jail cgroups a supervisor that died without cleaning up (kill -9, a
// crash) left behind: those named after a process that no longer exists. A cgroup that still
// holds a task is never removed. Returns how many were removed; `serve` calls it at start-up.
int remove_stale_jail_cgroups();
// An ended jail's cgroup is kept as a spare for the next jail with the same limits: making and
// removing a v1 memory+pids pair costs several times the CPU of reusing one (docs/performance.md
// "Building a jail"). Removes the spares now and returns how many; they are removed at exit
// anyway (after a crash, by remove_stale_jail_cgroups at the next start).
int remove_spare_jail_cgroups();

// The default lies above every range useradd hands out as subordinate ids (SUB_UID_MIN 100000 ..
// SUB_UID_MAX 600100000) and systemd-nspawn's container ranges (up to 0x6fffffff), below 2^31.
struct UidRange {
  uid_t first = 0x70000000;
  uint32_t count = 65536;
};
// Where running jails lease their host uids, for every supervisor on the host (idmap.cc).
inline constexpr const char* kJailUidLeaseFile = "/run/clawjail/jail-uids.lock";

struct BindCheck;

// The installed supervisor's state, socket directory and configuration (packaging/).
std::vector<std::filesystem::path> default_protected_paths();

// Everything that shapes a jail. Derived from a WPC by the supervisor (spec_from_policy).
struct JailSpec {
  std::filesystem::path workspace;  // host directory; empty when access is none
  policy::WorkspaceAccess workspace_access = policy::WorkspaceAccess::none;
  std::vector<std::string> rootfs_binds{"/usr", "/bin", "/lib", "/lib64", "/etc/ssl"};
  std::vector<policy::BindSpec> binds;  // from the WPC only
  bool allow_exec = true;           // false: execve/execveat refused outright
  bool allow_docker_socket = false;
  bool network = false;             // jail gets the approved-hosts egress proxy (and AF_INET/AF_INET6)
  std::vector<std::string> approved_hosts;
  bool elevated = false;
  policy::Limits limits;
  UidRange uid_range;
  // Never bindable, never inside a workspace: the supervisor's own files. Starts with the installed
  // supervisor's places, so a caller that forgets its configured ones still protects those
  // (docs/jail.md "Filesystem"); the supervisor appends its configured paths.
  std::vector<std::filesystem::path> protected_paths = default_protected_paths();
  // The workspace and every bind source, opened once by check_binds. Set: the jail is built from
  // these descriptors and the paths are not looked up again; unset: the jail opens them itself.
  std::shared_ptr<const BindCheck> opened;
};
JailSpec spec_from_policy(const policy::Policy& wpc, const std::filesystem::path& workspace,
                          const std::vector<std::string>& rootfs_binds);

// The effective jail as JSON: namespaces, every mount with its mode, seccomp summary, limits,
// network. `clawjail explain` prints it; jail_hash_b64u = canonical_hash_b64u(describe(spec)).
Json describe(const JailSpec& spec);
std::string jail_hash_b64u(const JailSpec& spec);

// A host path opened once (O_PATH): its checks, the workspace owner and its mount all read this
// descriptor, so a path swapped after the open changes nothing (docs/operations.md "What a jail
// may see").
struct HostSource {
  UniqueFd fd;
  std::string path;  // canonical, as the kernel names the descriptor
  dev_t dev = 0;
  ino_t ino = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool directory = false;
  bool socket = false;
};

// Opens the workspace without following any symlink in any component (a client could plant
// one): a path containing a symlink is refused (WORKSPACE_INVALID) with that reason.
Result<HostSource> open_workspace(const std::filesystem::path& path);

// Opens the workspace and every bind once and refuses sockets and sensitive paths
// (BIND_REFUSED_SOCKET, BIND_REFUSED_SENSITIVE, BIND_SOURCE_MISSING, WORKSPACE_INVALID).
// `binds_socket` reports whether a socket bind was allowed through docker_socket.
struct BindCheck {
  bool binds_socket = false;
  std::optional<HostSource> workspace;  // when the spec has one
  std::vector<HostSource> binds;        // in the order of spec.binds
};
Result<BindCheck> check_binds(const JailSpec& spec);
// check_binds, its descriptors kept in spec.opened; a spec already opened is left as it is.
Status open_sources(JailSpec& spec);

// Which host paths no jail may see, one list for the jail and the audit (docs/operations.md
// "What a jail may see"). `use` says how the path would be seen: a system tree (/usr, /opt, ...)
// is refused as a workspace or a writable bind; below /etc only the configuration's read-only
// rootfs binds (/etc/ssl) may go. `path` is canonical; `dirfd`, when >= 0, the directory itself, looked into
// for .ssh, .aws, .gnupg, .kube, .docker. Returns why it is refused, or "".
enum class PathUse : unsigned { rootfs_bind = 1, bind = 2, writable_bind = 4, workspace = 8 };
std::string sensitive_path_reason(const std::string& path, PathUse use, int dirfd,
                                  const std::vector<std::filesystem::path>& protected_paths);
// The list itself, for its tests.
struct SensitiveEntry {
  const char* path;      // an absolute path, or a name (".ssh") matched as any component
  bool tree;             // at or below; false: exactly this directory
  unsigned refused_for;  // PathUse bits
};
const std::vector<SensitiveEntry>& sensitive_entries();

// The process side. Descriptors are borrowed; the jail dups what it needs.
struct Io {
  // None of these is ever the jail's: the supervisor relays each through a pipe or terminal of its
  // own (the client's may be its terminal).
  int stdin_fd = -1;   // -1 (or /dev/null): the jail's own /dev/null; else copied into its stdin
  int stdout_fd = -1;  // the jail's output is relayed here as produced (hashed, counted, capped)
  int stderr_fd = -1;
  bool pty = false;    // a terminal of the call's own: stdin/stdout/stderr and controlling tty of
                       // the command; stdin_fd is copied into it, its output relayed as stdout
  unsigned short pty_rows = 24, pty_cols = 80;  // its size
};
struct Command {
  std::vector<std::string> argv;  // argv[0] is looked up in the jail's PATH
  std::string workdir = "/workspace";
  std::map<std::string, std::string> env;
};
// Whether a jail can take the command as it stands: a non-empty argv, environment names that are
// not empty and hold no '=', and no NUL byte anywhere (the kernel would cut the string at it and
// run another command, or in another directory). Every jail checks it; the supervisor checks it
// before a call starts, to refuse one that could never run.
Status check_command(const Command& command);
struct Violation {
  std::string syscall;
  int64_t count = 0;
};
// Whether approved hosts let the egress proxy reach this host's own loopback: only an entry
// named "localhost" does; for any other name the proxy skips host-local addresses (egress.h).
bool approves_host_loopback(const std::vector<std::string>& approved_hosts);
// What the approved-hosts egress proxy did during one call (docs/jail.md "Network").
struct EgressStats {
  int64_t allowed = 0;       // connections to an approved host:port (CONNECT tunnels and plain HTTP)
  int64_t refused = 0;       // 403: the host or port is not approved (IP literals included), or the
                             // name resolves only to addresses of this host or its link
  int64_t failed = 0;        // approved, but not resolved or not connected (502/504)
  int64_t bad_requests = 0;  // malformed, oversize or too slow request heads (400/431/408)
  int64_t busy = 0;          // over the per-jail limit of concurrent connections (503)
  std::vector<std::string> refused_targets;  // distinct "host:port", the first few
};
struct Outcome {
  RunStatus status = RunStatus::error;
  int exit_code = -1;
  int signal = 0;
  int64_t duration_ms = 0;
  std::string stdout_hash_b64u, stderr_hash_b64u;
  int64_t stdout_bytes = 0, stderr_bytes = 0;
  bool output_truncated = false;
  std::vector<Violation> violations;
  std::optional<Error> error;  // set when the jail could not be built
  std::optional<EgressStats> egress;  // set when the jail had the egress proxy
  Json to_json() const;        // the receipt's `result`
};

class JailPool;

// A running jail. Dropping it kills the whole tree and removes what is left of it (its cgroup).
class Jail {
 public:
  // begin() + release(): returns once the command runs (or the jail could not be built).
  static Result<Jail> start(const JailSpec& spec, const Command& command, const Io& io);
  // Builds the jail in the background and returns at once; the command does not run until
  // release(). Dropping the jail before that kills it, and the command never runs.
  static Result<Jail> begin(const JailSpec& spec, const Command& command, const Io& io);
  // Waits until the jail is built, then lets the command run. An error: it could not be built.
  Status release();
  Jail(Jail&&) noexcept;
  Jail& operator=(Jail&&) noexcept;
  ~Jail();
  pid_t pid() const;
  // Thread-safe: kills every process in the jail; wait() then reports `killed`.
  void kill();
  // Blocks until the tree is gone (exit, timeout, kill) and output is relayed.
  Outcome wait();
  // Becomes readable when wait() no longer blocks: poll it next to other descriptors.
  int done_fd() const;
 private:
  friend class JailPool;
  friend class FsCall;
  friend class FsWorker;
  Jail();
  explicit Jail(std::unique_ptr<detail::Runner> runner);
  detail::Runner& runner();
  static Result<Jail> ahead(const JailSpec& spec);
  Status hand_over(const JailSpec& spec, const Command& command, const Io& io);
  bool ended() const;
  struct State;
  std::unique_ptr<State> s_;
};

// Jails built ahead of their calls (pool.cc). Whenever a call begins a jail, the pool's builder
// thread builds the next jail of the same spec; the next call with exactly that spec takes it, so
// only its command, descriptors and deadline are handed over while the client waits. A jail built
// ahead runs nothing until it is taken and released, and a taken jail is never given to a
// second call. Only where the jail's init shares the supervisor's memory (as root; not in
// sanitizer builds), and never for a pty or the egress proxy. Thread-safe.
class JailPool {
 public:
  // At most `capacity` jails wait, each at most about `idle` long, at most `per_spec` of one spec.
  // Two per spec: a call that comes right after the last one takes a jail that was built while
  // the last one ran, not the one still being built for it.
  explicit JailPool(size_t capacity = 4, std::chrono::milliseconds idle = std::chrono::seconds(60), size_t per_spec = 2);
  ~JailPool();
  // Jail::begin(), from a jail built ahead for this spec when one is there; then has the next one
  // built.
  Result<Jail> begin(const JailSpec& spec, const Command& command, const Io& io);
  // Has a jail for `spec` built in the background unless one waits already or it cannot be built
  // ahead. Returns at once.
  void build_ahead(const JailSpec& spec);
  static bool available();  // whether this process builds jails ahead at all
  void clear();         // drops every waiting jail (a reload, a drain)
  size_t size() const;  // jails waiting
  size_t taken() const; // calls that got a jail built ahead, since the start

 private:
  struct Entry;
  std::vector<Entry> take_expired_locked();
  std::vector<Entry>::iterator find_waiting_locked(const std::string& key);
  size_t waiting_count_locked(const std::string& key) const;
  void builder();
  size_t capacity_;
  size_t per_spec_;
  std::chrono::milliseconds idle_;
  mutable std::mutex m_;
  std::condition_variable wanted_;
  std::vector<Entry> waiting_;
  std::map<std::string, JailSpec> queued_;  // to be built, by key
  size_t taken_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // the builder: started on first use
};

// File tools, run inside a jail by clawjail's own code with execve refused (fs_ops.cc).
// Paths are relative to /workspace and can never leave it.
using FsOpKind = clawjail::FsOpKind;  // base/fs_op_kind.h
struct FsOp {
  FsOpKind op = FsOpKind::stat;
  std::vector<std::string> paths;
  bool create = true, truncate = true, exclusive = false;  // write
  bool recursive = false;                                  // remove, mkdir (-p)
  // read: from `offset`, at most `length` bytes (to the end without one); the result then says
  // whether the end of the file was reached. write: the data goes at `offset`.
  int64_t offset = 0;
  std::optional<int64_t> length;
};
// A listing is cut at whichever comes first, so that it fits one answer (docs/protocol.md) and a
// directory of any size costs the supervisor a bounded amount of memory per call.
inline constexpr size_t kMaxListEntries = 10000;
inline constexpr size_t kMaxListBytes = 640 * 1024;  // of the entries as JSON
struct FsResult {
  // ls: [{name[,name_b64],type,size,mtime_ms}], stat: {type,size,mtime_ms}|null, a read with a
  // length: {eof}, others: {}
  Json value;
  bool truncated = false;  // ls: the directory has more entries than `value`
  Outcome outcome;
};
// A file tool running in its jail. While it runs it is cancelled like a command: jail().kill(),
// and jail().done_fd() to wait next to other descriptors. `write` reads its data from io's stdin,
// `read` streams to its stdout.
class FsCall {
 public:
  static Result<FsCall> start(const JailSpec& spec, const FsOp& op, const Io& io);
  // Built but not running until jail().release(), as Jail::begin: dropped unreleased, it never ran.
  static Result<FsCall> begin(const JailSpec& spec, const FsOp& op, const Io& io);
  FsCall(FsCall&&) noexcept;
  FsCall& operator=(FsCall&&) noexcept;
  ~FsCall();
  Jail& jail() { return jail_; }
  // Waits for the end. Anything but success (the operation failed, or was killed or timed out)
  // is an error; jail().wait() still has the outcome.
  Result<FsResult> result();

 private:
  FsCall();
  FsOp op_;
  std::unique_ptr<detail::FsRequest> plan_;  // read by the jail's worker: outlives jail_
  Jail jail_;
};
// start() + result().
Result<FsResult> run_fs_op(const JailSpec& spec, const FsOp& op, const Io& io);
// Whether a file tool can take its paths as they stand: each non-empty, without a NUL byte and
// shorter than 4096 bytes. Every file tool checks it; the supervisor before a call starts.
Status check_fs_paths(const FsOp& op);

// A file worker (fs_worker.cc): one jail built like FsCall's (the same namespaces, mounts and
// limits, execve refused, the jail's uid, paths resolved beneath /workspace), whose worker then
// runs operations one after another, each sent with its own data pipe, until it is dropped
// (Sandbox2's fork server is the model: the jail is built once, not per operation). Nothing but
// clawjail's own code ever runs in it. One operation at a time; dropping it kills the jail.
class FsWorker {
 public:
  static Result<std::unique_ptr<FsWorker>> start(const JailSpec& spec);
  ~FsWorker();
  // Whether a later call's spec gets this jail: the same spec (but for its timeout) and the same
  // workspace and bind objects still behind their paths.
  bool serves(const JailSpec& spec) const;
  bool alive() const;
  pid_t pid() const;
  size_t operations() const { return operations_; }
  // Thread-safe: kills the jail; a running operation ends as `killed`.
  void kill();
  // One operation of a call whose spec this worker serves(): `write` reads io's stdin, `read`
  // streams to io's stdout (hashed, counted, capped as a command's output). While it runs, `watch`
  // (the client's connection) becoming readable or hung up calls on_watch once (which cancels the
  // call: kill()). The operation's deadline is the call's own timeout, not that of the call the
  // worker was built for; a jail that ends or misses it is not used again.
  Result<FsResult> run(const JailSpec& spec, const FsOp& op, const Io& io, int watch,
                       const std::function<void()>& on_watch);

 private:
  FsWorker() = default;
  std::string key_;
  UniqueFd channel_;
  std::optional<Jail> jail_;
  size_t operations_ = 0;
};

}  // namespace clawjail::sandbox
