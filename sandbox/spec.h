// What makes two JailSpecs the same jail.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

std::string spec_key(const JailSpec& spec);  // equal keys: equal specs (the pool's and the hash's memo)
Json seccomp_summary(const JailSpec& spec);

}  // namespace clawjail::sandbox::detail
