// decide(): the only place that says whether a call may run. Order matters and is the policy:
// unknown tool, elevated, deny entries (deny wins), allow entries (default deny), then the CST,
// which can only take away.
#include <algorithm>

#include "policy/cst_claims.h"
#include "policy/wpc_parse.h"

namespace clawjail::policy {
namespace {

// The specific reason for refusing a scope, so that receipts say "exec" or "docker.sock" plainly.
Reason reason_for(const std::string& scope, const Call& call, Reason generic) {
  if (scope == "exec" || scope == "process") return Reason::EXEC_DENIED;
  if (scope == "docker_socket") return Reason::DOCKER_SOCKET_DENIED;
  if (scope == "http:approved_hosts") return Reason::NETWORK_DENIED;
  if (scope == "write" && call.outside_workspace) return Reason::PATH_OUTSIDE_WORKSPACE;
  return generic;
}

// What the reader of a refusal needs to know about a scope the call did not obviously ask for.
std::string why_needed(const std::string& scope, const Call& call) {
  if (scope == "process" && call.tool == "exec" && call.background) return " (a background exec needs it)";
  return "";
}

const std::string* first_match(const std::vector<std::string>& entries, const std::string& scope) {
  auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return scope_matches(e, scope); });
  return it == entries.end() ? nullptr : &*it;
}

Decision refuse(Reason reason, std::string detail, std::vector<std::string> scopes) {
  return Decision{false, reason, std::move(detail), std::move(scopes)};
}

}  // namespace

Decision decide(const Policy& wpc, const Cst* cst, const Call& call) {
  auto scopes = needed_scopes(call);
  if (!is_known_tool(call.tool)) return refuse(Reason::TOOL_NOT_ALLOWED, "unknown tool " + call.tool, scopes);
  if (call.elevated && !wpc.elevated_enabled)
    return refuse(Reason::ELEVATED_DENIED, "elevated mode: tools.elevated.enabled is not true", scopes);
  for (const auto& scope : scopes)
    if (auto entry = first_match(wpc.deny, scope))
      return refuse(reason_for(scope, call, Reason::TOOL_DENIED),
                    scope + ": denied by WPC entry " + *entry + why_needed(scope, call), scopes);
  for (const auto& scope : scopes)
    if (!first_match(wpc.allow, scope))
      return refuse(reason_for(scope, call, Reason::TOOL_NOT_ALLOWED),
                    scope + ": not allowed by the WPC" + why_needed(scope, call), scopes);
  if (!cst && wpc.require_cst) return refuse(Reason::CST_MISSING, "the WPC requires a CST", scopes);
  if (cst)
    if (auto granted = cst_grants(*cst, scopes); !granted)
      return refuse(granted.reason(), granted.error().detail, scopes);
  return Decision{true, Reason::OK, "allowed", scopes};
}

}  // namespace clawjail::policy
