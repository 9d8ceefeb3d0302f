// Dropping every capability in the child.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

StepResult drop_privileges();  // child: securebits, bounding, ambient, caps, nnp

}  // namespace clawjail::sandbox::detail
