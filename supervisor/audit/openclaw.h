// How the OpenClaw checks see an OpenClaw config: its agents, each agent's effective settings
// (its own entry over agents.defaults, or over the top-level tools), and the clawjail plugin's
// job binding for it. Private to audit_openclaw*.cc.
#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/audit/checks.h"

namespace clawjail::audit::openclaw {

using policy::Json;
using Path = std::initializer_list<std::string_view>;

inline constexpr std::string_view kPluginId = "clawjail";
inline constexpr std::string_view kBackendId = "clawjail";

const Json* at(const Json& j, Path path);  // nullptr when any step is missing
std::string text(const Json* j);           // a string value, else ""
std::vector<std::string> strings(const Json* j);  // the strings of an array, else {}
std::string joined(const std::vector<std::string>& items);  // "a, b, c"

// One agent: an `agents.entries.<id>` entry, a legacy `agents.list[]` entry, or (neither
// present) OpenClaw's implicit `main` agent, which runs on agents.defaults alone.
struct Agent {
  std::string id;     // lowercased, as OpenClaw keys its agents
  Json entry;         // the agent's own settings ({} for the implicit one)
  std::string where;  // the config path of its entry, for findings
};
std::vector<Agent> agents_of(const Json& oc);

// The agent's own `path`, else agents.defaults' (sandbox settings, elevatedDefault).
const Json* agent_setting(const Json& oc, const Agent& agent, Path path);
// The agent's `tools.<path>`, else the top-level `tools.<path>` (tool policy, exec, elevated).
const Json* tool_setting(const Json& oc, const Agent& agent, Path path);
std::string who(const Agent& agent);  // "agent coder (agents.entries.coder)"

// The clawjail plugin's binding for an agent: its entry in the plugin's `agents` map, else the
// plugin's top-level job/cstFile/wpc (the plugin's own rule: an entry inherits nothing).
struct Binding {
  std::string job, cst_file, wpc;
  std::string where;  // "plugins.entries.clawjail.config[.agents.<id>]"
};
const Json* plugin_config(const Json& oc);
std::optional<Binding> binding_for(const Json& oc, const Agent& agent);

// openclaw_tools.cc: whether OpenClaw's tool policy lets a sandboxed agent call `tool`.
bool exposed(const Json& oc, const Agent& agent, std::string_view tool);
void check_tool_surface(const Json& oc, const Agent& agent, const policy::Policy* wpc, Report& report);

// openclaw_job.cc: the agent's token and WPC; returns the WPC when it can be resolved.
std::optional<policy::Policy> check_job(const Json& oc, const Agent& agent, const Config* config, Report& report);
void check_env_pass(const Json& oc, Report& report);

}  // namespace clawjail::audit::openclaw
