// Model calls against the WPC's `models` block (docs/claw-bundles.md, "Model calls in the same proof").
#pragma once
#include <string_view>

#include "base/reason.h"
#include "policy/wpc.h"

namespace clawjail::policy {

// MODEL_CALLS_NOT_CONFIGURED without the block, MODEL_PROVIDER_NOT_ALLOWED for a provider it does
// not list or a model no pattern of a Claw WPC v1's allowed_models matches.
Status check_model_call(const Policy& wpc, std::string_view provider, std::string_view model);
inline constexpr const char* kModelCallTool = "model_call";  // its tool name and CST tool scope

}  // namespace clawjail::policy
