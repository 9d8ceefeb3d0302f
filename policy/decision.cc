// decide(): the only place that says whether a call may run. Order matters and is the policy:
// unknown tool, elevated, deny entries (deny wins), allow entries (default deny), the workspace
// path rules, then the CST, which can only take away.
#include <algorithm>

#include "policy/cst.h"
#include "policy/cst_claims.h"
#include "policy/decision.h"
#include "policy/paths.h"
#include "base/reason.h"
#include "policy/wpc.h"
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

// One check of a file tool: the path itself, or every path beneath it, read or written.
struct PathCheck {
  std::string path;
  bool write = false;
  bool beneath = false;
};

// What each file tool touches (docs/formats.md §2 "Path rules"). `ls` of a directory reads the
// directory (the workspace itself always lists); the entries it returns are filtered by the
// supervisor with path_allowed. A rename or a tree removal acts on whatever is beneath its paths.
std::vector<PathCheck> path_checks(const std::string& tool, const std::vector<std::string>& paths, bool recursive) {
  std::vector<PathCheck> out;
  const std::string& p = paths.at(0);
  if (tool == "read" || tool == "stat" || (tool == "ls" && p != ".")) out.push_back({p, false});
  if (tool == "write" || tool == "edit" || tool == "apply_patch" || tool == "remove") out.push_back({p, true});
  if (tool == "remove" && recursive) out.push_back({p, true, true});
  if (tool == "mkdir")  // with -p, every directory it may create
    for (size_t slash = recursive ? p.find('/') : std::string::npos; slash != std::string::npos; slash = p.find('/', slash + 1))
      out.push_back({p.substr(0, slash), true});
  if (tool == "mkdir") out.push_back({p, true});
  if (tool == "rename" && paths.size() == 2) {
    const std::string& to = paths[1];
    out.insert(out.end(), {{p, false}, {p, true}, {p, false, true}, {p, true, true}, {to, true}, {to, true, true}});
  }
  return out;
}

// A file tool is refused when one path it acts on is refused by the path rules; a command when
// the workspace it would see holds paths the rules guard: nothing in the jail could hold it to them.
Decision check_paths(const Policy& wpc, const Call& call, const std::vector<std::string>& scopes) {
  if (call.tool == "exec") {
    auto access = wpc.sandbox.workspace_access;
    auto why = access == WorkspaceAccess::none ? std::nullopt : path_rules_restriction(wpc, false);
    if (!why && access == WorkspaceAccess::rw) why = path_rules_restriction(wpc, true);
    if (why)
      return refuse(Reason::PATH_RULES_UNENFORCEABLE,
                    "exec: " + *why + ", and a command can touch any path of the mounted workspace: the jail cannot "
                    "hold it to the WPC's path rules (use the file tools, or a WPC without filesystem globs)",
                    scopes);
    return Decision{true, Reason::OK, "allowed", scopes};
  }
  bool rules = !wpc.fs_read_globs.empty() || !wpc.fs_write_globs.empty() || !wpc.fs_read_deny_globs.empty() ||
               !wpc.fs_write_deny_globs.empty();
  if (!rules || call.paths.empty()) return Decision{true, Reason::OK, "allowed", scopes};
  std::vector<std::string> normal;
  for (const auto& raw : call.paths) {
    auto n = normalize_workspace_path(raw);
    if (!n) return refuse(n.reason(), call.tool + " " + n.error().detail, scopes);
    normal.push_back(std::move(*n));
  }
  for (const auto& c : path_checks(call.tool, normal, call.recursive)) {
    auto why = c.beneath ? path_refusal_beneath(wpc, c.path, c.write) : path_refusal(wpc, c.path, c.write);
    if (why) return refuse(Reason::PATH_DENIED, call.tool + " " + *why, scopes);
  }
  return Decision{true, Reason::OK, "allowed", scopes};
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
  if (auto paths = check_paths(wpc, call, scopes); !paths.allowed) return paths;
  if (!cst && wpc.require_cst) return refuse(Reason::CST_MISSING, "the WPC requires a CST", scopes);
  if (cst)
    if (auto granted = cst_grants(*cst, scopes); !granted)
      return refuse(granted.reason(), granted.error().detail, scopes);
  return Decision{true, Reason::OK, "allowed", scopes};
}

}  // namespace clawjail::policy
