// The jail's fresh /proc is its own pid namespace's, but /proc/sys and a few files still speak
// of the host's kernel. As container runtimes do (runc's readonlyPaths/maskedPaths, bwrap's
// --ro-bind /proc/sys): the sysctl trees are bound onto themselves read-only, and entries that
// reveal kernel memory, keys or timers are covered by /dev/null (files) or an empty read-only
// tmpfs (directories). Entries this kernel does not have are skipped.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "sandbox/mounts.h"
#include "sandbox/proc_mask.h"

namespace clawjail::sandbox::detail {
namespace {

// Paths below /proc. /1/cmdline: the jail's pid 1 is the supervisor's own init, a clone of the
// supervisor that never executes anything, so its command line is the supervisor's (host paths
// of the binary and its configuration); unlike its maps, environ and exe, it is world-readable.
constexpr const char* kReadOnly[] = {"/sys", "/sysrq-trigger", "/bus", "/fs", "/irq"};
constexpr const char* kMaskedFiles[] = {"/kcore",      "/keys",       "/key-users",  "/timer_list",
                                        "/sched_debug", "/latency_stats", "/kallsyms", "/kpagecount",
                                        "/kpageflags", "/kpagecgroup", "/config.gz", "/vmallocinfo", "/1/cmdline"};
constexpr const char* kMaskedDirs[] = {"/acpi", "/scsi", "/asound", "/driver"};

// Bound onto itself, then made read-only recursively (nosuid, nodev, noexec as /proc itself).
StepResult bind_read_only(const char* path) {
  if (mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0)
    return errno == ENOENT ? StepResult{} : failed(Step::proc_readonly);
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr) != 0) return failed(Step::proc_readonly);
  return {};
}

StepResult mask_file(const char* path, const char* dev_null) {
  if (mount(dev_null, path, nullptr, MS_BIND, nullptr) != 0)
    return errno == ENOENT ? StepResult{} : failed(Step::proc_mask);
  return {};
}

StepResult mask_dir(const char* path) {
  constexpr unsigned long kFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (mount("tmpfs", path, "tmpfs", kFlags, "size=4k,mode=0555") != 0)
    return errno == ENOENT ? StepResult{} : failed(Step::proc_mask);
  return {};
}

}  // namespace

StepResult harden_proc(const char* proc, const char* dev_null) {
  char path[PATH_MAX];
  for (const char* name : kReadOnly) {
    if (!join_path(path, proc, name)) return failed(Step::proc_readonly);
    if (StepResult r = bind_read_only(path); !r.ok()) return r;
  }
  for (const char* name : kMaskedFiles) {
    if (!join_path(path, proc, name)) return failed(Step::proc_mask);
    if (StepResult r = mask_file(path, dev_null); !r.ok()) return r;
  }
  for (const char* name : kMaskedDirs) {
    if (!join_path(path, proc, name)) return failed(Step::proc_mask);
    if (StepResult r = mask_dir(path); !r.ok()) return r;
  }
  return {};
}

Json proc_mask_summary() {
  Json ro = Json::array(), files = Json::array(), dirs = Json::array();
  for (const char* name : kReadOnly) ro.push_back(std::string("/proc") + name);
  for (const char* name : kMaskedFiles) files.push_back(std::string("/proc") + name);
  for (const char* name : kMaskedDirs) dirs.push_back(std::string("/proc") + name);
  return Json{{"read_only", ro}, {"masked_by_dev_null", files}, {"masked_by_empty_tmpfs", dirs},
              {"note", "entries this kernel lacks are skipped"}};
}

}  // namespace clawjail::sandbox::detail
