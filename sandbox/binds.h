// Opening bind sources without following symlinks.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

// open(2) of `path` with no symlink followed in any component (openat2 RESOLVE_NO_SYMLINKS);
// O_CLOEXEC is added. Async-signal-safe: the child side uses it too.
int open_no_symlinks(const char* path, int flags);

}  // namespace clawjail::sandbox::detail
