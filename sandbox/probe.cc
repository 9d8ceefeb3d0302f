// What this host can do, probed once: a real namespace round trip (the same clone, id maps and
// tmpfs mount a jail uses), seccomp with user notification, Landlock's ABI and cgroups.
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "sandbox/cgroup_delegation.h"
#include "sandbox/idmap.h"
#include "sandbox/namespaces.h"

namespace clawjail::sandbox::detail {
namespace {

// The child only reads a pipe and mounts: raw syscalls. arg: the pipe's read end.
int probe_child(void* arg) {
  const int sync_fd = *static_cast<const int*>(arg);
  char c;
  if (read(sync_fd, &c, 1) != 1) _exit(10);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(11);
  if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0) _exit(12);
  _exit(0);
}

// Returns an empty string when a jail's namespaces work, else why not.
std::string probe_namespaces(bool root) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return std::string("pipe2: ") + strerror(errno);
  UniqueFd rd(p[0]), wr(p[1]);
  int pidfd = -1;
  pid_t pid = clone_copying_memory(jail_namespace_flags(), probe_child, &p[0], &pidfd);
  if (pid < 0) return std::string("clone into new namespaces: ") + strerror(errno);
  UniqueFd pidfd_owner(pidfd);
  rd.reset();
  Status maps = write_id_maps(pid, root, root ? 65534 : geteuid(), root ? 65534 : getegid());
  if (maps) (void)!write(wr.get(), "x", 1);
  wr.reset();
  int status = 0;
  while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
  }
  if (!maps) return "writing uid/gid maps: " + maps.error().detail;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "mounting inside a new user namespace failed (step " +
           std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
  return "";
}

bool probe_user_notif() {
  uint32_t action = SECCOMP_RET_USER_NOTIF;
  return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

int probe_landlock() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

bool probe_cgroup_v1() {
  return access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0 &&
         access("/sys/fs/cgroup/pids/cgroup.procs", F_OK) == 0 &&
         access("/sys/fs/cgroup/memory", W_OK) == 0 && access("/sys/fs/cgroup/pids", W_OK) == 0;
}

HostSupport probe() {
  HostSupport h;
  h.running_as_root = geteuid() == 0;
  std::string why = probe_namespaces(h.running_as_root);
  h.user_namespaces = why.empty();
  h.seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
  h.seccomp_user_notif = probe_user_notif();
  h.landlock_abi = probe_landlock();
  CgroupV2 v2 = find_cgroup_v2_subtree();
  h.cgroup_v2_path = v2.subtree;
  h.cgroup_v2_delegated = !h.cgroup_v2_path.empty();
  h.cgroup_v2_cpu = v2.cpu;
  h.cgroup_unified_only = v2.unified_only;
  h.cgroup_v2_problem = v2.problem;
  h.cgroup_v1_memory_pids = !h.cgroup_v2_delegated && probe_cgroup_v1();
  if (!h.user_namespaces)
    h.problem = "no jail can be created: " + why + (h.running_as_root ? " (as root)" : " (as an ordinary user)") +
                "; enable user namespaces, e.g. `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`"
                " (Ubuntu), `sysctl -w kernel.unprivileged_userns_clone=1` (older Debian) and"
                " `sysctl -w user.max_user_namespaces=15000`, or run the supervisor as root";
  else if (!h.seccomp_user_notif)
    h.problem = "no jail can be created: seccomp user notification is unavailable (Linux >= 5.0 "
                "with CONFIG_SECCOMP_FILTER is required)";
  return h;
}

}  // namespace
}  // namespace clawjail::sandbox::detail

namespace clawjail::sandbox {
const HostSupport& host_support() {
  static const HostSupport support = detail::probe();
  return support;
}
}  // namespace clawjail::sandbox
