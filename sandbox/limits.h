// Resource limits (rlimits) from the WPC's limits.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

struct RlimitPlan {
  int resource;
  rlimit value;
};
std::vector<RlimitPlan> plan_rlimits(const policy::Limits& limits, bool cgroup_memory, bool cgroup_pids);
StepResult apply_rlimits(const std::vector<RlimitPlan>& plan);

}  // namespace clawjail::sandbox::detail
