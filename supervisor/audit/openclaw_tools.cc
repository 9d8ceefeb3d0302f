// Which tools OpenClaw offers a sandboxed agent, against what its WPC grants. The layers are
// OpenClaw 2026.9.6's (docs/operations.md "The OpenClaw side"): the tool profile, the global
// and the agent's allow/deny, then the sandbox tool policy with OpenClaw's own defaults. A layer
// with an allow list admits only what it lists; a deny anywhere wins. Per-provider and per-sender
// policies can only narrow this further, so a tool reported here may still be hidden from some
// models: the audit errs towards reporting.
#include <fnmatch.h>

#include <algorithm>
#include <map>

#include "supervisor/audit/openclaw.h"

namespace clawjail::audit::openclaw {
namespace {

using List = std::vector<std::string>;

const std::map<std::string, List, std::less<>>& groups() {
  static const std::map<std::string, List, std::less<>> g = {
      {"group:runtime", {"exec", "process", "code_execution"}},
      {"group:fs", {"read", "write", "edit", "apply_patch"}},
      {"group:web", {"web_search", "x_search", "web_fetch"}},
      {"group:ui", {"browser", "screen", "theme", "dashboard", "terminal", "portal", "canvas", "show_widget"}},
      {"group:automation", {"heartbeat_respond", "automations", "gateway", "plugins", "openclaw"}},
      {"group:messaging", {"message"}},
      {"group:nodes", {"nodes", "computer"}},
      {"group:plugins", {"bundle-mcp"}},
      {"group:memory", {"memory_search", "memory_get"}},
      {"group:media", {"view_image", "image_generate", "music_generate", "video_generate", "tts", "pdf"}},
  };
  return g;
}

// Tool profiles that filter (unset and `full` do not).
const std::map<std::string, List, std::less<>>& profiles() {
  static const std::map<std::string, List, std::less<>> p = {
      {"minimal", {"session_status", "gateway"}},
      {"coding", {"group:fs", "group:runtime", "group:web", "group:memory", "automations", "gateway", "view_image",
                  "bundle-mcp"}},
      {"messaging", {"group:messaging", "session_status", "gateway", "bundle-mcp"}},
  };
  return p;
}

// OpenClaw's sandbox tool policy when tools.sandbox.tools does not set its own.
const List kSandboxDefaultAllow = {"exec", "process", "read", "ls", "write", "edit", "apply_patch", "view_image",
                                   "sessions_list", "sessions_history", "sessions_search", "sessions_send",
                                   "sessions_spawn", "sessions_yield", "subagents", "session_status"};
const List kSandboxDefaultDeny = {"browser", "canvas", "computer", "mobile_ui", "nodes", "automations", "gateway"};

std::string canonical(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name == "bash") return "exec";
  if (name == "cron") return "automations";
  return name;
}

List expand(const List& entries) {
  List out;
  for (const auto& e : entries) {
    auto it = groups().find(canonical(e));
    if (it == groups().end()) out.push_back(canonical(e));
    else out.insert(out.end(), it->second.begin(), it->second.end());
  }
  return out;
}

bool matches(const List& patterns, std::string_view tool) {
  const std::string t(tool);
  for (const auto& p : expand(patterns))
    if (p == "*" || ::fnmatch(p.c_str(), t.c_str(), 0) == 0) return true;
  return false;
}

struct Layer {
  std::optional<List> allow;  // nullopt: this layer admits everything
  List deny;
};

Layer profile_layer(const Json& oc, const Agent& agent) {
  auto it = profiles().find(text(tool_setting(oc, agent, {"profile"})));
  if (it == profiles().end()) return {};
  List allow = it->second;
  for (auto& a : strings(tool_setting(oc, agent, {"alsoAllow"}))) allow.push_back(a);
  return {allow, {}};
}

Layer policy_layer(const Json& tools) {
  Layer l;
  if (auto allow = strings(at(tools, {"allow"})); !allow.empty()) l.allow = allow;
  l.deny = strings(at(tools, {"deny"}));
  return l;
}

// tools.sandbox.tools: each of allow, alsoAllow and deny is the agent's if set, else the global one.
Layer sandbox_layer(const Json& oc, const Agent& agent) {
  auto pick = [&](std::string_view key) -> const Json* {
    if (const Json* own = at(agent.entry, {"tools", "sandbox", "tools", key})) return own;
    return at(oc, {"tools", "sandbox", "tools", key});
  };
  const Json* allow = pick("allow");
  List also = strings(pick("alsoAllow"));
  Layer l;
  l.allow = allow && allow->is_array() ? strings(allow) : kSandboxDefaultAllow;
  if (!(allow && allow->is_array() && allow->empty())) l.allow->insert(l.allow->end(), also.begin(), also.end());
  if (const Json* deny = pick("deny"); deny && deny->is_array()) {
    l.deny = strings(deny);
  } else {
    List explicit_allow = strings(allow);
    explicit_allow.insert(explicit_allow.end(), also.begin(), also.end());
    for (const auto& d : kSandboxDefaultDeny)
      if (!matches(explicit_allow, d)) l.deny.push_back(d);
  }
  return l;
}

std::vector<Layer> layers(const Json& oc, const Agent& agent) {
  std::vector<Layer> out{profile_layer(oc, agent)};
  if (const Json* tools = at(oc, {"tools"})) out.push_back(policy_layer(*tools));
  if (const Json* tools = at(agent.entry, {"tools"})) out.push_back(policy_layer(*tools));
  out.push_back(sandbox_layer(oc, agent));
  return out;
}

// tools.exec.mode "deny", or the older tools.exec.security "deny", switch exec off.
bool exec_mode_denies(const Json& oc, const Agent& agent) {
  if (const Json* mode = tool_setting(oc, agent, {"exec", "mode"})) return text(mode) == "deny";
  return text(tool_setting(oc, agent, {"exec", "security"})) == "deny";
}

List exposed_of(const Json& oc, const Agent& agent, const List& tools) {
  List out;
  for (const auto& t : tools)
    if (exposed(oc, agent, t)) out.push_back(t);
  return out;
}

void check_unmediated(const Json& oc, const Agent& agent, Report& report) {
  List found = exposed_of(oc, agent, {"browser", "web_fetch", "web_search", "x_search", "message", "automations",
                                      "gateway", "nodes", "computer"});
  const Json* servers = at(oc, {"mcp", "servers"});
  if (servers && servers->is_object() && !servers->empty() && exposed(oc, agent, "bundle-mcp")) {
    List names;
    for (const auto& [name, _] : servers->items()) names.push_back(name);
    found.push_back("bundle-mcp (mcp.servers: " + joined(names) + ")");
  }
  if (found.empty()) return;
  report.add("openclaw.tools.unmediated", Severity::warn,
             "an agent has tools that never pass through the sandbox backend: no WPC decides them and no receipt records them",
             who(agent) + ": " + joined(found),
             "deny them in tools.sandbox.tools.deny (or the agent's tools.deny) unless the job needs them unrecorded");
}

}  // namespace

bool exposed(const Json& oc, const Agent& agent, std::string_view tool) {
  if ((tool == "exec" || tool == "process") && exec_mode_denies(oc, agent)) return false;
  for (const auto& l : layers(oc, agent)) {
    if (matches(l.deny, tool)) return false;
    if (l.allow && !matches(*l.allow, tool)) return false;
  }
  return true;
}

void check_tool_surface(const Json& oc, const Agent& agent, const policy::Policy* wpc, Report& report) {
  check_unmediated(oc, agent, report);
  if (!wpc) return;
  const std::string subject = who(agent) + " runs under WPC " + wpc->hash_b64u + " (policy_id \"" + wpc->policy_id + "\")";
  if (List exec = exposed_of(oc, agent, {"exec", "process"}); !exec.empty() && !grants(*wpc, "exec"))
    report.add("openclaw.tools.exec_denied", Severity::warn,
               "OpenClaw offers an agent exec although its WPC denies exec: every call is blocked",
               subject + "; OpenClaw exposes " + joined(exec),
               "add exec and process to the agent's tools.deny (or set its tools.exec.mode to \"deny\")");
  if (List write = exposed_of(oc, agent, {"write", "edit", "apply_patch"}); !write.empty() && !grants(*wpc, "write:workspace"))
    report.add("openclaw.tools.write_denied", Severity::warn,
               "OpenClaw offers an agent file writes although its WPC denies write:workspace: every call is blocked",
               subject + "; OpenClaw exposes " + joined(write),
               "add write, edit and apply_patch to the agent's tools.deny");
}

}  // namespace clawjail::audit::openclaw
