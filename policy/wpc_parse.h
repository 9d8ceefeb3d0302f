// Private to policy/: the pieces of a WPC payload parse, one file per shape.
#pragma once
#include "policy/json.h"
#include "policy/wpc.h"

namespace clawjail::policy {

// policy_id (1 to 128 characters) and issuer_did (a DID), common to every shape (wpc.cc).
Status parse_identity(const Json& payload, Policy& out);
Status parse_wpc_v1(const Json& payload, Policy& out);      // wpc_v1.cc
Status parse_wpc_v2(const Json& payload, Policy& out);      // wpc_v2.cc
Status parse_claw_wpc_v1(const Json& payload, Policy& out); // wpc_claw_v1.cc
// The `sandbox` object of v1, also `metadata.clawjail` of v2 (wpc_sandbox.cc).
Status parse_sandbox(const Json& sandbox, std::string_view where, SandboxSettings& out);
// The `models` block (models.cc).
Status parse_models(const Json& models, std::optional<ModelPolicy>& out);
// A tool scope entry as written in allow/deny lists: "exec", "write:workspace", "http:*", "*".
Status check_scope_entry(const std::string& entry, std::string_view where);

}  // namespace clawjail::policy

namespace clawjail::policy {
bool is_known_tool(std::string_view tool);  // scopes.cc
}  // namespace clawjail::policy
