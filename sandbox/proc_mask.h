// The jail's /proc: read-only /proc/sys and the masked files.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

// Child, before pivot_root: /proc/sys and friends read-only, kernel-revealing entries masked.
StepResult harden_proc(const char* proc_path, const char* dev_null_path);
Json proc_mask_summary();

}  // namespace clawjail::sandbox::detail
