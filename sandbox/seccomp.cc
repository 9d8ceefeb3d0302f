// The syscall filter (libseccomp), built in the parent and installed by the child as raw BPF.
//
// How refusals are counted: every refused syscall returns SECCOMP_RET_USER_NOTIF. The child
// installs the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER and hands the listener fd to the
// supervisor, whose monitor thread answers each notification with -EPERM and counts it by
// syscall number. The decision never depends on the jail's memory (no CONTINUE is ever sent),
// so the user-notification TOCTOU does not apply, and the count is kept outside the untrusted
// process (SECCOMP_RET_TRAP would count inside it, where it cannot be trusted). If the
// supervisor is gone, the kernel fails notified calls with ENOSYS: still refused.
//
// Three things are not notified: a foreign architecture (i386 `int 0x80`, x32 numbers) kills the
// process (SCMP_FLTATR_ACT_BADARCH); clone3 returns ENOSYS (its flags live in memory that
// seccomp cannot inspect; glibc falls back to clone(2), whose flags are checked); and where the
// jail may run programs, openat2 returns ENOSYS too (its mode lives in memory: callers fall back
// to openat, whose mode is checked). The file tools, which run clawjail's own code with exec
// refused, keep openat2 for RESOLVE_BENEATH.
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "sandbox/seccomp.h"
#include "sandbox/spec.h"

namespace clawjail::sandbox::detail {
namespace {

// docs/jail.md "Syscalls": refused with EPERM and counted.
constexpr const char* kRefused[] = {
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
    "open_tree", "move_mount", "mount_setattr", "unshare", "setns", "ptrace", "process_vm_readv",
    "process_vm_writev", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "open_by_handle_at",
    "name_to_handle_at", "swapon", "swapoff", "reboot", "acct", "quotactl", "quotactl_fd",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "lookup_dcookie", "iopl",
    "ioperm", "syslog",
    // Beyond the list, same class: fd theft from other processes, old kernel attack surface.
    "pidfd_getfd", "uselib", "vhangup", "modify_ldt"};
constexpr const char* kExec[] = {"execve", "execveat"};
constexpr uint64_t kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                                        CLONE_NEWUSER, CLONE_NEWPID,   CLONE_NEWNET};

struct CtxDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

Error seccomp_error(const char* what, int rc) {
  return fail(Reason::JAIL_SETUP_FAILED, std::string("seccomp: ") + what + ": " + strerror(-rc));
}

int nr_of(const char* name) { return seccomp_syscall_resolve_name(name); }

Status refuse(scmp_filter_ctx ctx, const char* name) {
  int nr = nr_of(name);
  if (nr == __NR_SCMP_ERROR) return ok_status();  // not a syscall on this architecture
  int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
  if (rc != 0) return seccomp_error(name, rc);
  return ok_status();
}

Status refuse_if(scmp_filter_ctx ctx, const char* name, scmp_arg_cmp cmp) {
  int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr_of(name), 1, cmp);
  if (rc != 0) return seccomp_error(name, rc);
  return ok_status();
}

// A set-id file made in a writable workspace stays set-id on the host, owned by the workspace
// owner, where nothing says nosuid (docs/operations.md "What a jail may see"). So every way to
// give a file S_ISUID or S_ISGID is refused: changing a mode (the chmod family) and creating a
// file with that mode (open, openat, creat, mknod, mknodat; mkdir ignores both bits). Each call
// with the index of its mode argument. A directory still inherits S_ISGID from a set-gid parent
// (the owner's doing; a directory's S_ISGID gives no program any privilege).
constexpr std::pair<const char*, unsigned> kModeSetters[] = {
    {"chmod", 1}, {"fchmod", 1}, {"fchmodat", 2}, {"fchmodat2", 2}, {"creat", 1},
    {"open", 2},  {"openat", 3}, {"mknod", 1},    {"mknodat", 2}};

Status refuse_setid_modes(scmp_filter_ctx ctx, bool allow_exec) {
  for (auto [name, arg] : kModeSetters) {
    int nr = nr_of(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not a syscall on this architecture
    // One rule per bit: a masked compare matches only when every bit of its mask is as given.
    for (uint64_t bit : {uint64_t{S_ISUID}, uint64_t{S_ISGID}}) {
      const scmp_arg_cmp cmp{arg, SCMP_CMP_MASKED_EQ, bit, bit};
      if (int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 1, cmp); rc != 0) return seccomp_error(name, rc);
    }
  }
  if (!allow_exec) return ok_status();
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr_of("openat2"), 0);
  return rc == 0 ? ok_status() : Status(seccomp_error("openat2", rc));
}

Status refuse_namespace_clones(scmp_filter_ctx ctx) {
  for (uint64_t flag : kNamespaceFlags)
    if (auto s = refuse_if(ctx, "clone", SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)); !s) return s;
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr_of("clone3"), 0);
  return rc == 0 ? ok_status() : Status(seccomp_error("clone3", rc));
}

// The kernel reads ioctl's command as 32 bits: compare only those, or 1<<32|TIOCSTI slips by.
Status refuse_tty_injection(scmp_filter_ctx ctx) {
  for (uint64_t cmd : {uint64_t{TIOCSTI}, uint64_t{TIOCLINUX}})
    if (auto s = refuse_if(ctx, "ioctl", SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, cmd)); !s)
      return s;
  return ok_status();
}

// Allowed: AF_UNIX, and AF_INET/AF_INET6 only with network. Everything else (netlink, packet,
// vsock, alg, …) and any value with high bits set is refused.
Status refuse_socket_families(scmp_filter_ctx ctx, bool network) {
  for (const char* call : {"socket", "socketpair"}) {
    for (uint64_t family = 0; family <= AF_INET6; ++family) {
      bool allowed = family == AF_UNIX || (network && (family == AF_INET || family == AF_INET6));
      if (allowed) continue;
      if (auto s = refuse_if(ctx, call, SCMP_A0(SCMP_CMP_EQ, family)); !s) return s;
    }
    if (auto s = refuse_if(ctx, call, SCMP_A0(SCMP_CMP_GT, AF_INET6)); !s) return s;
  }
  return ok_status();
}

// personality(0) (the default) is allowed, anything else (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC,
// PER_LINUX32, …) is refused. libseccomp 2.5 cannot compare one argument twice, so the query
// form personality(0xffffffff) is refused too; nothing in a Debian userland relies on it.
Status refuse_personality(scmp_filter_ctx ctx) {
  return refuse_if(ctx, "personality", SCMP_A0(SCMP_CMP_NE, 0));
}

Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
  UniqueFd mem(memfd_create("clawjail-seccomp", MFD_CLOEXEC));
  if (!mem) return fail(Reason::JAIL_SETUP_FAILED, std::string("memfd_create: ") + strerror(errno));
  if (int rc = seccomp_export_bpf(ctx, mem.get()); rc != 0) return seccomp_error("export", rc);
  off_t size = lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0)
    return fail(Reason::JAIL_SETUP_FAILED, "seccomp: exported filter has a bad size");
  std::vector<sock_filter> filter(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(mem.get(), filter.data(), static_cast<size_t>(size), 0) != size)
    return fail(Reason::JAIL_SETUP_FAILED, "seccomp: cannot read the exported filter");
  return filter;
}

}  // namespace

sock_fprog SeccompProgram::fprog() const {
  return sock_fprog{static_cast<unsigned short>(filter.size()), const_cast<sock_filter*>(filter.data())};
}

namespace {

Result<SeccompProgram> compile_seccomp(const JailSpec& spec) {
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return fail(Reason::JAIL_SETUP_FAILED, "seccomp: seccomp_init failed");
  // Only the native architecture is in the filter; any other (i386, x32) kills the process.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc != 0)
    return seccomp_error("badarch", rc);
  for (const char* name : kRefused)
    if (auto s = refuse(ctx.get(), name); !s) return s.error();
  if (!spec.allow_exec)
    for (const char* name : kExec)
      if (auto s = refuse(ctx.get(), name); !s) return s.error();
  for (auto step : {refuse_namespace_clones(ctx.get()), refuse_tty_injection(ctx.get()),
                    refuse_setid_modes(ctx.get(), spec.allow_exec),
                    refuse_socket_families(ctx.get(), spec.network), refuse_personality(ctx.get())})
    if (!step) return step.error();
  auto bpf = export_bpf(ctx.get());
  if (!bpf) return bpf.error();
  return SeccompProgram{std::move(bpf.value())};
}

// Every field of the spec that compile_seccomp reads, and nothing else: the cache below hands
// out one compiled program per distinct key. A new input to the filter must be added here.
struct SeccompKey {
  bool allow_exec;
  bool network;
  auto operator<=>(const SeccompKey&) const = default;
};

}  // namespace

// libseccomp's compilation costs more than the rest of the jail's plan; the program depends on
// two booleans, so it is compiled once per combination and copied out (a few hundred
// instructions).
Result<SeccompProgram> build_seccomp(const JailSpec& spec) {
  static std::mutex mutex;
  static std::map<SeccompKey, SeccompProgram> cache;
  const SeccompKey key{spec.allow_exec, spec.network};
  std::lock_guard lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto program = compile_seccomp(spec);
  if (!program) return program.error();
  cache.emplace(key, *program);
  return program;
}

StepResult install_seccomp(const sock_fprog& prog, int* listener_fd) {
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0) return failed(Step::seccomp);
  *listener_fd = static_cast<int>(fd);
  return {};
}

std::string syscall_name(int nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  std::string out = name ? name : "syscall_" + std::to_string(nr);
  free(name);
  return out;
}

namespace {
Json setid_modes() {
  Json calls = Json::array();
  for (const auto& setter : kModeSetters) calls.push_back(setter.first);
  return Json{{"calls", calls}, {"bits", Json::array({"S_ISUID", "S_ISGID"})}};
}
}  // namespace

Json seccomp_summary(const JailSpec& spec) {
  Json refused = Json::array();
  for (const char* name : kRefused) refused.push_back(name);
  if (!spec.allow_exec)
    for (const char* name : kExec) refused.push_back(name);
  Json families = Json::array({"AF_UNIX"});
  if (spec.network) families.insert(families.end(), {"AF_INET", "AF_INET6"});
  return Json{{"default", "allow"},
              {"architectures", Json::array({"x86_64"})},
              {"other_architectures", "kill_process"},
              {"refused_eperm_counted", refused},
              {"clone_namespace_flags", "refused_eperm_counted"},
              {"clone3", "ENOSYS"},
              {"ioctl_refused", Json::array({"TIOCSTI", "TIOCLINUX"})},
              {"ioctl_compare_bits", 32},
              {"personality", "only 0"},
              {"setid_modes_refused_eperm_counted", setid_modes()},
              {"openat2", spec.allow_exec ? "ENOSYS" : "allowed (the file tools' own code only)"},
              {"socket_families", families},
              {"exec", spec.allow_exec ? "allowed" : "refused"}};
}

}  // namespace clawjail::sandbox::detail
