// Decisions: the scopes a call needs, and whether a WPC (narrowed by a CST) grants them.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "policy/cst.h"
#include "base/reason.h"
#include "policy/wpc.h"

namespace clawjail::policy {

struct Call {
  std::string tool;             // exec, process, read, write, edit, apply_patch, ls, stat, mkdir, remove, rename, browser
  bool background = false;
  bool elevated = false;
  bool outside_workspace = false;  // a file tool whose path leaves the workspace
  bool wants_network = false;
  bool binds_socket = false;       // a bind source resolves to a socket (decided by sandbox/)
  bool browser_host_control = false;
  std::vector<std::string> paths;  // a file tool's paths as the request names them
  bool recursive = false;          // mkdir -p, remove of a whole tree
};
std::vector<std::string> needed_scopes(const Call& call);  // the table of docs/formats.md §2
// Whether `entry` (an allow/deny list entry) matches `scope`: equal, `*`, `name:*` (the name and
// all its sub-scopes), and a bare name covers its `:workspace` form (`write` ⊇ `write:workspace`).
bool scope_matches(std::string_view entry, std::string_view scope);
struct Decision {
  bool allowed = false;
  Reason reason = Reason::TOOL_DENIED;
  std::string detail;
  std::vector<std::string> scopes;
};
// Deny wins, default deny; the CST (if any) narrows and never widens.
Decision decide(const Policy& wpc, const Cst* cst, const Call& call);

}  // namespace clawjail::policy
