// What this host lets the supervisor build (sandbox::host_support) and where its evidence goes.
#include "sandbox/jail.h"
#include "supervisor/audit/checks.h"

namespace clawjail::audit {

namespace {

// On a pure cgroup v2 host the limits are in force only in the subtree systemd delegates to the
// service, which the supervisor claims at start-up (docs/operations.md, "Limits"); the audit,
// run from a shell, looks at the running service's cgroup, and says what a supervisor started
// from here (a shell: not delegated) would do.
void check_cgroups(const HostPaths& host, const sandbox::HostSupport& hs, Report& report) {
  if (hs.cgroup_v2_delegated) return;
  if (hs.cgroup_unified_only) {
    std::error_code ec;
    const bool running = std::filesystem::is_directory(host.service_cgroup, ec);
    const sandbox::SubtreeControllers enabled = sandbox::subtree_controllers(host.service_cgroup.string());
    if (running && enabled.memory_pids) {
      report.add("host.cgroup_v2_service", enabled.cpu ? Severity::info : Severity::warn,
                 "clawjail.service holds its jails' limits in its delegated cgroup v2 subtree" +
                     std::string(enabled.cpu ? "" : ", but cpu is not delegated: no cpu.max"),
                 host.service_cgroup.string() + "/cgroup.subtree_control: " + enabled.text,
                 "a supervisor run by hand (not from the unit) would have rlimits alone");
      return;
    }
    report.add("host.cgroup_v2_delegation", Severity::warn,
               running ? "clawjail.service runs without its delegated cgroup v2 subtree: jails' memory, pids and "
                         "cpu are held by rlimits alone"
                       : "no delegated cgroup v2 subtree here: a supervisor run by hand holds jails' memory, pids "
                         "and cpu by rlimits alone",
               running ? host.service_cgroup.string() + "/cgroup.subtree_control: \"" + enabled.text + "\""
                       : hs.cgroup_v2_problem,
               "run the supervisor from clawjail.service (Delegate=yes): it claims that subtree at start-up");
    return;
  }
  report.add("host.cgroup_v2_delegation", Severity::warn,
             "no delegated cgroup v2 subtree: per-call memory, pids and cpu limits fall back to " +
                 std::string(hs.cgroup_v1_memory_pids ? "cgroup v1 and rlimits" : "rlimits alone"),
             hs.cgroup_v2_problem.empty() ? "no writable cgroup v2 subtree found" : hs.cgroup_v2_problem,
             hs.cgroup_v1_memory_pids ? "a host with the unified hierarchy (cgroup v2), supervisor run from "
                                        "clawjail.service (Delegate=yes)"
                                      : "run the supervisor as root from clawjail.service (Delegate=yes)");
}

}  // namespace

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
  check_cgroups(host, hs, report);
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
