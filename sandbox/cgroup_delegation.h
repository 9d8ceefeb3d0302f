// Where a cgroup v2 subtree delegated to the supervisor is.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

struct CgroupV2 {
  std::string subtree;        // where jails' cgroups go; empty: none
  bool cpu = false;           // cpu enabled there as well as memory and pids
  bool unified_only = false;  // /sys/fs/cgroup is cgroup2: no v1 controller to fall back on
  std::string problem;        // why there is no subtree
};
// Finds the supervisor's delegated subtree and claims it: moves the process into a leaf and
// enables memory, pids and cpu for the jails' cgroups. Called once, by host_support().
CgroupV2 find_cgroup_v2_subtree();

}  // namespace clawjail::sandbox::detail
