// Landlock: the second filesystem layer, from the same mount plan.
#pragma once
#include "sandbox/mounts.h"
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

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

}  // namespace clawjail::sandbox::detail
