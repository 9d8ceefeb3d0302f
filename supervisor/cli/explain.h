// What a WPC gives every call (the facts `clawjail explain` prints): the jail, its hash, whether a
// CST is required and what the WPC decides for each tool. `bundle report` shows the same facts.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "policy/json.h"
#include "policy/wpc.h"
#include "supervisor/common/config.h"

namespace clawjail::cli {

const std::vector<std::string>& explain_tools();  // every tool the WPC decides for
// `workspace` as `clawjail run --workspace`; without a configuration, the default rootfs binds.
policy::Json explain_policy(const policy::Policy& wpc, const std::string& workspace,
                            const std::optional<Config>& config, const std::vector<std::string>& tools);

}  // namespace clawjail::cli
