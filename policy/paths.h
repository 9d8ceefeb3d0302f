// A v2 WPC's workspace path rules (docs/formats.md §2 "Path rules"): the path a file tool really
// acts on, and whether the rules let it.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "base/reason.h"
#include "policy/wpc.h"

namespace clawjail::policy {

// A file tool's path as the jail acts on it: relative to the workspace, `.` and empty components
// dropped, `..` taken lexically (the jail follows no symlink, so this is the path the kernel
// resolves), "." for the workspace itself. PATH_OUTSIDE_WORKSPACE when absolute or `..` climbs out.
Result<std::string> normalize_workspace_path(std::string_view path);
// v2 path globs (fnmatch without flags: `*` crosses `/`), on a normalised path: allowed when no
// Deny glob matches and the Allow globs of the direction are empty or one matches.
bool path_allowed(const Policy& wpc, std::string_view relative_path, bool write);
// Why path_allowed refuses, naming the path and the rule; nullopt when it allows.
std::optional<std::string> path_refusal(const Policy& wpc, std::string_view relative_path, bool write);
// The same for every path strictly beneath `dir` ("." for the whole workspace), erring towards
// refusal: a rename or a tree removal moves whatever the directory holds when the kernel acts.
std::optional<std::string> path_refusal_beneath(const Policy& wpc, std::string_view dir, bool write);
// What the rules of one direction guard in the workspace (nullopt: every path is allowed), i.e.
// what a command, which can touch any path of a mounted workspace, would escape.
std::optional<std::string> path_rules_restriction(const Policy& wpc, bool write);

}  // namespace clawjail::policy
