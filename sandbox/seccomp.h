// The seccomp filter: built from the spec by the parent, installed last by the child.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

struct SeccompProgram {
  std::vector<sock_filter> filter;
  sock_fprog fprog() const;
};
Result<SeccompProgram> build_seccomp(const JailSpec& spec);
// Child: installs the filter with a user-notification listener and returns the listener fd.
StepResult install_seccomp(const sock_fprog& prog, int* listener_fd);
std::string syscall_name(int nr);

}  // namespace clawjail::sandbox::detail
