// The table of docs/formats.md §2: which tool scopes a call needs, and which list entries match them.
#include <algorithm>

#include "policy/decision.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "policy/wpc_parse.h"

namespace clawjail::policy {
namespace {

bool is_file_reader(std::string_view tool) { return tool == "read" || tool == "ls" || tool == "stat"; }

bool is_file_writer(std::string_view tool) {
  return tool == "write" || tool == "edit" || tool == "apply_patch" || tool == "mkdir" || tool == "remove" ||
         tool == "rename";
}

bool is_scope_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == ':' || c == '.' || c == '*';
}

}  // namespace

bool is_known_tool(std::string_view tool) {
  return tool == "exec" || tool == "process" || tool == "browser" || is_file_reader(tool) || is_file_writer(tool);
}

Status check_scope_entry(const std::string& entry, std::string_view where) {
  bool ok = !entry.empty() && entry.size() <= 128 && std::all_of(entry.begin(), entry.end(), is_scope_char);
  auto star = entry.find('*');
  ok = ok && (star == std::string::npos || entry == "*" || (star == entry.size() - 1 && entry.ends_with(":*")));
  if (!ok) return fail(Reason::BAD_FIELD, std::string(where) + ": not a tool scope: " + entry);
  return ok_status();
}

bool scope_matches(std::string_view entry, std::string_view scope) {
  if (entry == scope || entry == "*") return true;
  if (entry.ends_with(":*")) {
    auto name = entry.substr(0, entry.size() - 2);
    return scope == name || scope.starts_with(std::string(name) + ":");
  }
  return scope == std::string(entry) + ":workspace";
}

std::vector<std::string> needed_scopes(const Call& call) {
  std::vector<std::string> scopes;
  if (call.tool == "exec") {
    scopes.push_back("exec");
    if (call.background) scopes.push_back("process");
  } else if (call.tool == "process") {
    scopes = {"exec", "process"};
  } else if (is_file_reader(call.tool)) {
    scopes.push_back("read");
  } else if (is_file_writer(call.tool)) {
    scopes.push_back(call.outside_workspace ? "write" : "write:workspace");
  } else if (call.tool == "browser") {
    scopes.push_back("browser");
    if (call.browser_host_control) scopes.push_back("browser:host_control");
  } else {
    scopes.push_back(call.tool);  // unknown tools are refused by decide(); the scope names them
  }
  if (call.wants_network) scopes.push_back("http:approved_hosts");
  if (call.binds_socket) scopes.push_back("docker_socket");
  return scopes;
}

}  // namespace clawjail::policy
