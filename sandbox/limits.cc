// rlimits: always set, whatever cgroups exist. They are the limits that hold on hosts without a
// usable cgroup (non-root, or no delegated subtree). When a cgroup enforces memory or pids, the
// matching rlimit is a looser backstop so that the cgroup trips first and the receipt can say
// `limit` (a failed malloc or fork under an rlimit is invisible to the supervisor).
#include <sys/resource.h>

#include "sandbox/limits.h"

namespace clawjail::sandbox::detail {
namespace {
rlimit both(rlim_t v) { return rlimit{v, v}; }
constexpr rlim_t kMiB = 1024 * 1024;
}  // namespace

std::vector<RlimitPlan> plan_rlimits(const policy::Limits& l, bool cgroup_memory, bool cgroup_pids) {
  const auto mem = static_cast<rlim_t>(l.memory_mb) * kMiB;
  const auto pids = static_cast<rlim_t>(l.pids);
  const auto cpu = static_cast<rlim_t>(l.cpu_seconds);
  return {
      // RLIMIT_NPROC counts per uid and user namespace: every jail has its own of both.
      {RLIMIT_NPROC, both(cgroup_pids ? pids + 2 : pids)},
      // DATA, not AS: runtimes reserve large virtual ranges they never touch.
      {RLIMIT_DATA, both(cgroup_memory ? 2 * mem : mem)},
      // SIGXCPU at the soft limit, SIGKILL one second later.
      {RLIMIT_CPU, rlimit{cpu, cpu + 1}},
      {RLIMIT_FSIZE, both(static_cast<rlim_t>(l.file_size_mb) * kMiB)},
      {RLIMIT_NOFILE, both(static_cast<rlim_t>(l.open_files))},
      {RLIMIT_CORE, both(0)},
      {RLIMIT_MEMLOCK, both(64 * 1024)},
  };
}

StepResult apply_rlimits(const std::vector<RlimitPlan>& plan) {
  for (const auto& r : plan)
    if (setrlimit(static_cast<__rlimit_resource>(r.resource), &r.value) != 0) return failed(Step::rlimit);
  return {};
}

}  // namespace clawjail::sandbox::detail
