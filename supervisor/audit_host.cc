// What this host lets the supervisor build (sandbox::host_support) and where its evidence goes.
#include "sandbox/jail.h"
#include "supervisor/audit_checks.h"

namespace clawjail::audit {

void check_host(const HostPaths& host, Report& report) {
  const sandbox::HostSupport& hs = sandbox::host_support();
  if (hs.problem)
    report.add("host.jail_unavailable", Severity::critical, "no jail can be built on this host", *hs.problem,
               "fix what the detail says; the supervisor refuses every call until then");
  if (!hs.user_namespaces)
    report.add("host.user_namespaces", Severity::critical, "user namespaces are not available",
               "creating a user namespace failed",
               "sysctl kernel.unprivileged_userns_clone=1 (and kernel.apparmor_restrict_unprivileged_userns=0 where set)");
  if (!hs.seccomp)
    report.add("host.seccomp", Severity::critical, "seccomp filters are not available", "the kernel refused a seccomp filter",
               "use a kernel built with CONFIG_SECCOMP_FILTER");
  else if (!hs.seccomp_user_notif)
    report.add("host.seccomp_user_notif", Severity::warn,
               "seccomp user notification is unavailable: refused syscalls are not counted in receipts",
               "SECCOMP_FILTER_FLAG_NEW_LISTENER was refused", "use a kernel >= 5.0");
  if (hs.landlock_abi == 0)
    report.add("host.landlock", Severity::info, "Landlock is unavailable: jails rely on mounts alone",
               "landlock ABI 0", "boot with lsm=...,landlock");
  if (!hs.cgroup_v2_delegated)
    report.add("host.cgroup_v2_delegation", Severity::warn,
               "no delegated cgroup v2 subtree: per-call memory, pids and cpu limits fall back to " +
                   std::string(hs.cgroup_v1_memory_pids ? "cgroup v1 and rlimits" : "rlimits alone"),
               hs.cgroup_v2_path.empty() ? "no writable cgroup v2 subtree found" : "cgroup v2 path " + hs.cgroup_v2_path,
               "run the supervisor from clawjail.service (Delegate=yes) on a host with the unified hierarchy");
  std::error_code ec;
  if (!std::filesystem::is_socket(host.journal_socket, ec))
    report.add("host.journald", Severity::warn,
               "journald is not running: receipts go only to the per-job logs and the supervisor logs to stderr",
               host.journal_socket.string() + " is not a socket", "systemctl start systemd-journald");
  if (!hs.running_as_root)
    report.add("host.not_root", Severity::info,
               "the audit runs without root: jails map only this user, and root-owned files may be unreadable",
               "euid is not 0", "run clawjail audit as the user that runs clawjail serve");
}

}  // namespace clawjail::audit
