// Opening paths without leaving a directory (openat2 RESOLVE_BENEATH, or a walk without it).
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

// Child: opens `path` inside `dirfd` without following any symlink and without leaving it (`..`
// above the start and absolute paths: EXDEV; a symlink: ELOOP), with openat2 where the kernel
// and the seccomp filters allow it, else by walking the components (flags get O_CLOEXEC).
int open_beneath(int dirfd, const char* path, int flags, mode_t mode = 0);

}  // namespace clawjail::sandbox::detail
