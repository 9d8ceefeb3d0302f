// How a jail's ending becomes its Outcome: a pure function of what the monitor observed
// (docs/formats.md §4 for the statuses), so that its precedence is tested without a jail.
#pragma once
#include <optional>

#include "sandbox/jail.h"

namespace clawjail::sandbox::detail {

// What the monitor saw of one jail, from its launch to the end of its tree.
struct EndFacts {
  bool ready = false;                // the init reported the jail built (before the command ran)
  bool timed_out = false;            // the deadline passed and the monitor killed the tree
  bool killed = false;               // kill(): the call was cancelled or its client went away
  bool limit_hit = false;            // the jail's cgroup counted an OOM kill or a refused fork
  std::optional<int> worker_status;  // the command's wait status, as the init reported it
  std::optional<Error> setup_error;  // a step of the build failed
  std::optional<Error> late_error;   // the exec or the file operation failed after the build
};

// Sets status, exit_code, signal and error; the rest of the Outcome is left as constructed.
Outcome classify_outcome(const EndFacts& facts);

}  // namespace clawjail::sandbox::detail
