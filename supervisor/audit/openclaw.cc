// An OpenClaw gateway's config against clawjail: which of its agents' calls would skip the jail
// (routing), which OpenClaw-side sandbox settings contradict the WPC, and the file's own mode.
// Key names and defaults are OpenClaw 2026.9.6's (docs/operations.md "The OpenClaw side").
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "supervisor/audit/openclaw.h"

namespace clawjail::audit {
namespace openclaw {

const Json* at(const Json& j, Path path) {
  const Json* cur = &j;
  for (auto key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(std::string(key));
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string text(const Json* j) { return j && j->is_string() ? j->get<std::string>() : ""; }

std::vector<std::string> strings(const Json* j) {
  std::vector<std::string> out;
  if (j && j->is_array())
    for (const auto& v : *j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::vector<Agent> agents_of(const Json& oc) {
  std::vector<Agent> agents;
  if (const Json* entries = at(oc, {"agents", "entries"}); entries && entries->is_object())
    for (const auto& [id, entry] : entries->items()) agents.push_back({lower(id), entry, "agents.entries." + id});
  if (const Json* list = at(oc, {"agents", "list"}); list && list->is_array())
    for (size_t i = 0; i < list->size(); ++i)
      agents.push_back({lower(text(at((*list)[i], {"id"}))), (*list)[i], "agents.list[" + std::to_string(i) + "]"});
  if (agents.empty()) agents.push_back({"main", Json::object(), "agents.defaults"});
  return agents;
}

const Json* agent_setting(const Json& oc, const Agent& agent, Path path) {
  if (const Json* own = at(agent.entry, path)) return own;
  const Json* defaults = at(oc, {"agents", "defaults"});
  return defaults ? at(*defaults, path) : nullptr;
}

const Json* tool_setting(const Json& oc, const Agent& agent, Path path) {
  if (const Json* tools = at(agent.entry, {"tools"}))
    if (const Json* own = at(*tools, path)) return own;
  const Json* tools = at(oc, {"tools"});
  return tools ? at(*tools, path) : nullptr;
}

std::string who(const Agent& agent) { return "agent " + agent.id + " (" + agent.where + ")"; }

const Json* plugin_config(const Json& oc) { return at(oc, {"plugins", "entries", kPluginId, "config"}); }

std::optional<Binding> binding_for(const Json& oc, const Agent& agent) {
  const Json* cfg = plugin_config(oc);
  if (!cfg) return std::nullopt;
  const std::string base = "plugins.entries.clawjail.config";
  if (const Json* own = at(*cfg, {"agents", agent.id}))
    return Binding{text(at(*own, {"job"})), text(at(*own, {"cstFile"})), text(at(*own, {"wpc"})), base + ".agents." + agent.id};
  if (!at(*cfg, {"job"}) && !at(*cfg, {"cstFile"})) return std::nullopt;
  return Binding{text(at(*cfg, {"job"})), text(at(*cfg, {"cstFile"})), text(at(*cfg, {"wpc"})), base};
}

}  // namespace openclaw

namespace {

using namespace openclaw;
namespace fs = std::filesystem;

// The plugin must load, or no agent has the clawjail backend.
void check_plugin(const Json& oc, Report& report) {
  const bool plugins_off = at(oc, {"plugins", "enabled"}) && *at(oc, {"plugins", "enabled"}) == false;
  const Json* enabled = at(oc, {"plugins", "entries", kPluginId, "enabled"});
  const auto deny = strings(at(oc, {"plugins", "deny"}));
  const bool denied = std::find(deny.begin(), deny.end(), kPluginId) != deny.end();
  if (plugins_off || !enabled || *enabled != true || denied)
    report.add("openclaw.plugin.disabled", Severity::critical,
               "the clawjail plugin is not enabled: no agent's calls reach the supervisor",
               plugins_off ? "plugins.enabled is false"
               : denied    ? "plugins.deny lists clawjail"
                           : "plugins.entries.clawjail.enabled is " + (enabled ? enabled->dump() : std::string("unset")),
               "set plugins.entries.clawjail.enabled to true (and remove clawjail from plugins.deny)");
  const auto allow = strings(at(oc, {"plugins", "allow"}));
  if (std::find(allow.begin(), allow.end(), kPluginId) == allow.end())
    report.add("openclaw.plugin.not_allowed", Severity::critical,
               "plugins.allow does not name clawjail: the plugin set OpenClaw loads is not pinned to it",
               at(oc, {"plugins", "allow"}) ? "plugins.allow: [" + joined(allow) + "]" : "plugins.allow is unset",
               "add \"clawjail\" to plugins.allow");
}

void check_sandbox_routing(const Json& oc, const Agent& agent, Report& report) {
  const std::string backend = text(agent_setting(oc, agent, {"sandbox", "backend"}));
  if (backend != kBackendId)
    report.add("openclaw.routing.backend", Severity::critical,
               "an agent's sandbox backend is not clawjail: its calls skip the WPC and leave no receipt",
               who(agent) + ": sandbox.backend is " + (backend.empty() ? "unset (OpenClaw's default: docker)" : backend),
               "set sandbox.backend to \"clawjail\" in agents.defaults (and remove the agent's own)");
  const std::string mode = text(agent_setting(oc, agent, {"sandbox", "mode"}));
  if (mode != "all")
    report.add("openclaw.routing.sandbox_mode", Severity::critical,
               "an agent runs some sessions outside the sandbox: their calls skip the WPC and leave no receipt",
               who(agent) + ": sandbox.mode is " + (mode.empty() ? "unset (OpenClaw's default: off)" : mode),
               "set sandbox.mode to \"all\"");
}

void check_exec_routing(const Json& oc, const Agent& agent, Report& report) {
  const std::string host = text(tool_setting(oc, agent, {"exec", "host"}));
  if (host != "sandbox")
    report.add("openclaw.routing.exec_host", Severity::critical,
               "an agent's exec may run on the gateway host or a node, outside the jail",
               who(agent) + ": tools.exec.host is " + (host.empty() ? "unset (auto: the gateway when no sandbox is active)" : host),
               "set tools.exec.host to \"sandbox\" (and remove the agent's own)");
}

// OpenClaw's elevated exec runs on the gateway host: it is on unless `enabled: false` (globally or
// for the agent), and reachable by the senders tools.elevated.allowFrom names. Reported when
// switched on explicitly, when senders are named, or when elevatedDefault asks for it.
void check_elevated(const Json& oc, const Agent& agent, const policy::Policy* wpc, Report& report) {
  const Json* global = at(oc, {"tools", "elevated", "enabled"});
  const Json* own = at(agent.entry, {"tools", "elevated", "enabled"});
  if ((global && *global == false) || (own && *own == false)) return;
  const Json* allow_from = at(oc, {"tools", "elevated", "allowFrom"});
  const bool senders = allow_from && allow_from->is_object() && !allow_from->empty();
  const std::string level = text(agent_setting(oc, agent, {"elevatedDefault"}));
  const bool by_default = !level.empty() && level != "off";
  const bool switched_on = (global && *global == true) || (own && *own == true);
  if (!senders && !by_default && !switched_on) return;
  const bool wpc_denies = !wpc || !wpc->elevated_enabled;
  report.add("openclaw.routing.elevated", wpc_denies ? Severity::critical : Severity::warn,
             "an agent may use OpenClaw's elevated exec, which runs on the gateway host without the jail" +
                 std::string(wpc_denies ? " although its WPC denies elevated calls" : ""),
             who(agent) + ": tools.elevated is enabled" + (senders ? ", allowFrom: " + allow_from->dump() : "") +
                 (by_default ? ", elevatedDefault: " + level : ""),
             "set tools.elevated.enabled to false");
}

std::string wpc_binds(const policy::Policy* wpc) {
  if (!wpc) return "unknown (the WPC could not be resolved)";
  std::vector<std::string> binds;
  for (const auto& b : wpc->sandbox.binds) binds.push_back(b.src + " -> " + b.dst + (b.writable ? " (rw)" : " (ro)"));
  return binds.empty() ? "none" : joined(binds);
}

std::string_view access_name(policy::WorkspaceAccess a) {
  switch (a) {
    case policy::WorkspaceAccess::rw: return "rw";
    case policy::WorkspaceAccess::ro: return "ro";
    case policy::WorkspaceAccess::none: return "none";
  }
  return "none";
}

void check_sandbox_settings(const Json& oc, const Agent& agent, const policy::Policy* wpc, Report& report) {
  auto binds = strings(at(oc, {"agents", "defaults", "sandbox", "docker", "binds"}));
  for (auto& b : strings(at(agent.entry, {"sandbox", "docker", "binds"}))) binds.push_back(b);
  if (!binds.empty())
    report.add("openclaw.sandbox.binds", Severity::critical,
               "OpenClaw-side bind mounts are set: host paths for a jail come from the WPC alone",
               who(agent) + ": sandbox.docker.binds [" + joined(binds) + "]; the WPC's binds: " + wpc_binds(wpc),
               "remove sandbox.docker.binds; put a bind the job needs into the WPC's sandbox.binds and re-sign it");
  if (!wpc) return;
  std::string access = text(agent_setting(oc, agent, {"sandbox", "workspaceAccess"}));
  if (access.empty()) access = "none";  // OpenClaw's default
  if (access != access_name(wpc->sandbox.workspace_access))
    report.add("openclaw.sandbox.workspace_access", Severity::warn,
               "OpenClaw's workspaceAccess differs from the WPC's workspace_access",
               who(agent) + ": sandbox.workspaceAccess " + access + ", WPC " + wpc->hash_b64u + " workspace_access " +
                   std::string(access_name(wpc->sandbox.workspace_access)),
               "set sandbox.workspaceAccess to \"" + std::string(access_name(wpc->sandbox.workspace_access)) +
                   "\", or change the WPC");
}

void check_agent(const Json& oc, const Agent& agent, const Config* config, Report& report) {
  auto wpc = check_job(oc, agent, config, report);
  const policy::Policy* p = wpc ? &*wpc : nullptr;
  check_sandbox_routing(oc, agent, report);
  check_exec_routing(oc, agent, report);
  check_elevated(oc, agent, p, report);
  check_tool_surface(oc, agent, p, report);
  check_sandbox_settings(oc, agent, p, report);
}

// Whoever can write the file decides where the gateway's calls run.
void check_file(const fs::path& path, Report& report) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    report.add("openclaw.config.perms_writable", Severity::critical,
               "OpenClaw's config is writable by group or others: they decide whether calls reach the jail",
               path.string() + ": mode " + octal(st.st_mode), "chmod 0600 " + path.string());
  HostPaths owner;
  owner.expected_owner = st.st_uid;
  check_ancestors(path, "openclaw.config", "OpenClaw's config", owner, report);
}

}  // namespace

void check_openclaw(const Json& oc, const OpenClawAudit& what, const Config* config, Report& report) {
  check_file(what.config, report);
  check_plugin(oc, report);
  check_env_pass(oc, report);
  for (const auto& agent : agents_of(oc)) check_agent(oc, agent, config, report);
}

}  // namespace clawjail::audit
