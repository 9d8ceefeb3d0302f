// Landlock, the second layer under the mounts: even a writable mount the jail should not have
// had (a bug in mounts.cc, a kernel quirk, procfs files writable by their own process) stays
// unwritable unless a rule below grants it, and nothing is executed outside the rootfs binds
// (and, when the WPC allows exec, the workspace, /tmp and the WPC's binds).
//
// The parent derives the rules from the mount plan (the same list the child mounts); the child
// opens each path after pivot_root, after no_new_privs, and restricts itself and everything it
// will start. Raw syscalls on the plan's memory only. A kernel without Landlock skips the layer;
// `clawjail audit` (host.landlock) and `clawjail explain` say so.
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/landlock.h"
#include "sandbox/mounts.h"

namespace clawjail::sandbox::detail {
namespace {

// Rights newer than Debian 12's <linux/landlock.h> (ABI 3: truncate, ABI 5: ioctl on devices).
constexpr uint64_t kExecute = LANDLOCK_ACCESS_FS_EXECUTE;
constexpr uint64_t kWriteFile = LANDLOCK_ACCESS_FS_WRITE_FILE;
constexpr uint64_t kReadFile = LANDLOCK_ACCESS_FS_READ_FILE;
constexpr uint64_t kReadDir = LANDLOCK_ACCESS_FS_READ_DIR;
constexpr uint64_t kRefer = 1ULL << 13;
constexpr uint64_t kTruncate = 1ULL << 14;
constexpr uint64_t kIoctlDev = 1ULL << 15;

constexpr uint64_t kAbi1 = (1ULL << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr uint64_t kRead = kReadFile | kReadDir;
constexpr uint64_t kFileOnly = kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;
// Everything a writable directory needs except creating device nodes (nodev mounts anyway).
constexpr uint64_t kWrite = kRead | kWriteFile | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                            LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                            LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
                            LANDLOCK_ACCESS_FS_MAKE_SYM | kRefer | kTruncate;
constexpr uint64_t kDevice = kReadFile | kWriteFile | kTruncate | kIoctlDev;

uint64_t handled_for(int abi) {
  uint64_t h = kAbi1;
  if (abi >= 2) h |= kRefer;
  if (abi >= 3) h |= kTruncate;
  if (abi >= 5) h |= kIoctlDev;
  return h;
}

uint64_t bind_access(const BindPlan& b) {
  if (b.device) return kDevice;
  uint64_t a = b.writable ? kWrite : kRead;
  if (b.exec) a |= kExecute;
  return b.directory ? a : a & kFileOnly;
}

}  // namespace

LandlockPlan plan_landlock(const MountPlan& mounts, int abi) {
  LandlockPlan plan;
  if (abi <= 0) return plan;
  plan.abi = abi;
  plan.handled = handled_for(abi);
  auto add = [&](const std::string& path, uint64_t access) { plan.rules.push_back({path, access & plan.handled}); };
  add("/", kReadDir);
  add("/etc", kRead);
  add("/dev", kRead);
  add("/proc", kRead);  // procfs files a process may write about itself stay unwritable
  add("/tmp", kWrite | (mounts.tmp_noexec ? 0 : kExecute));
  for (const auto& b : mounts.binds) add(b.target, bind_access(b));
  return plan;
}

StepResult apply_landlock(const LandlockPlan& plan) {
  if (plan.abi <= 0) return {};
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = plan.handled;
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
  if (ruleset < 0) return failed(Step::landlock);
  for (const auto& rule : plan.rules) {
    landlock_path_beneath_attr beneath{};
    beneath.allowed_access = rule.access;
    beneath.parent_fd = open(rule.path.c_str(), O_PATH | O_CLOEXEC);
    if (beneath.parent_fd < 0 ||
        syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0) {
      StepResult r = failed(Step::landlock);
      if (beneath.parent_fd >= 0) close(beneath.parent_fd);
      close(ruleset);
      return r;
    }
    close(beneath.parent_fd);
  }
  StepResult r = syscall(SYS_landlock_restrict_self, ruleset, 0) == 0 ? StepResult{} : failed(Step::landlock);
  close(ruleset);
  return r;
}

namespace {

Json paths_for(const JailSpec& spec, bool writable) {
  Json out = Json::array();
  if (!writable) {
    for (const char* p : {"/", "/etc", "/dev", "/proc"}) out.push_back(p);
    for (const auto& p : spec.rootfs_binds) out.push_back(p);
  } else {
    out.push_back("/tmp");
  }
  if (spec.workspace_access != policy::WorkspaceAccess::none &&
      (spec.workspace_access == policy::WorkspaceAccess::rw) == writable)
    out.push_back("/workspace");
  for (const auto& b : spec.binds)
    if (b.writable == writable) out.push_back(b.dst);
  return out;
}

}  // namespace

Json landlock_summary(const JailSpec& spec) {
  Json exec = spec.rootfs_binds;
  if (spec.allow_exec) {
    exec.push_back("/tmp");
    if (spec.workspace_access != policy::WorkspaceAccess::none) exec.push_back("/workspace");
    for (const auto& b : spec.binds) exec.push_back(b.dst);
  }
  return Json{{"applied", "when the kernel offers Landlock (ABI >= 1); otherwise the mounts alone hold"},
              {"read", paths_for(spec, false)},
              {"read_write", paths_for(spec, true)},
              {"execute", exec},
              {"devices", Json::array({"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                                       "/dev/tty", "/dev/pts/<n> with a pty"})}};
}

}  // namespace clawjail::sandbox::detail
