// clawjail explain --wpc FILE|HASH [--tool T] [--workspace DIR] [--json]: the jail a WPC gives
// every call (namespaces, mounts with their modes, seccomp, limits, network) and what it
// decides for each tool. The JSON `jail` object is exactly what jail_hash_b64u hashes.
#include <filesystem>
#include <iostream>

#include "policy/decision.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/paths.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "policy/wpc_store.h"
#include "sandbox/jail.h"
#include "supervisor/cli/explain.h"
#include "supervisor/common/commands.h"
#include "supervisor/common/config.h"

namespace clawjail::cli {
namespace {

using policy::Json;

struct ExplainFlags {
  std::string wpc, tool, workspace, config;
  bool json = false;
};

[[noreturn]] void refuse(const Error& e) { die("explain", std::string(reason_name(e.reason)) + ": " + e.detail); }

std::optional<Config> maybe_config(const ExplainFlags& f) {
  auto path = f.config.empty() ? default_config_path() : std::filesystem::path(f.config);
  if (f.config.empty() && !std::filesystem::exists(path)) return std::nullopt;
  auto config = load_config(path);
  if (!config) refuse(config.error());
  return *config;
}

// FILE (payload or envelope) when it exists, else a hash in the configured policy store.
policy::Policy load_policy(const ExplainFlags& f, const std::optional<Config>& config) {
  if (std::filesystem::exists(f.wpc)) {
    auto json = policy::parse_strict_json_file(f.wpc);
    if (!json) refuse(json.error());
    const Json& payload = json->is_object() && json->contains("envelope_type") ? (*json)["payload"] : *json;
    auto p = policy::parse_wpc_payload(payload);
    if (!p) refuse(p.error());
    return *p;
  }
  auto hash = policy::normalize_hash_b64u(f.wpc);
  if (!hash) die("explain", "--wpc " + f.wpc + ": neither a file nor a policy hash", 2);
  if (!config) die("explain", "--wpc " + f.wpc + ": a hash needs the configuration's policy store (--config)", 2);
  policy::PolicyStore store(config->state_dir, config->wpc_signers);
  auto v = store.get(*hash);
  if (!v) refuse(v.error());
  return v->policy;
}

void print_list(const char* label, const Json& paths) {
  std::cout << "    " << label << ":";
  for (const auto& p : paths) std::cout << " " << p.get<std::string>();
  std::cout << "\n";
}

void print_proc_hardening(const Json& h) {
  print_list("read-only", h["read_only"]);
  print_list("masked (/dev/null)", h["masked_by_dev_null"]);
  print_list("masked (empty tmpfs)", h["masked_by_empty_tmpfs"]);
}

void print_network(const Json& net) {
  std::cout << "\nnetwork: " << net["mode"].get<std::string>() << " (loopback only, no route out)\n";
  if (!net.contains("proxy")) return;
  std::string hosts;
  for (const auto& h : net["approved_hosts"]) hosts += (hosts.empty() ? "" : ", ") + h.get<std::string>();
  std::cout << "egress proxy: owned by the supervisor, at " << net["proxy"]["listen"].get<std::string>()
            << " in the jail (HTTP_PROXY/HTTPS_PROXY set); connects only to " << hosts
            << " (a bare host: ports 443 and 80); CONNECT and plain http:// requests\n";
}

void print_path_rules(const Json& rules) {
  std::cout << "workspace path rules:";
  if (rules["effect"].is_null()) {
    std::cout << " none (every workspace path the mounts allow)\n";
    return;
  }
  std::cout << "\n";
  for (const char* dir : {"read", "write"}) {
    print_list((dir + std::string(" Allow globs (none: any path)")).c_str(), rules[dir]["allow"]);
    print_list((dir + std::string(" Deny globs")).c_str(), rules[dir]["deny"]);
  }
  std::cout << "  effect: " << rules["effect"].get<std::string>() << "\n";
}

void print_text(const Json& j) {
  const Json& jail = j["jail"];
  std::cout << "WPC " << j["policy_hash_b64u"].get<std::string>() << "\n"
            << "jail " << j["jail_hash_b64u"].get<std::string>() << "\n"
            << "namespaces: ";
  for (const auto& ns : jail["namespaces"]) std::cout << ns.get<std::string>() << " ";
  std::cout << "\nruns as uid " << jail["user"]["uid"] << " (" << jail["user"]["host_uid"].get<std::string>()
            << "), no capabilities, no_new_privs\nmounts:\n";
  for (const auto& m : jail["mounts"]) {
    std::string flags;
    for (const auto& fl : m["flags"]) flags += (flags.empty() ? "" : ",") + fl.get<std::string>();
    std::cout << "  " << m["path"].get<std::string>() << "  " << m["type"].get<std::string>() << " "
              << m["mode"].get<std::string>() << (flags.empty() ? "" : " (" + flags + ")")
              << (m.contains("source") ? "  <- " + m["source"].get<std::string>() : "") << "\n";
    if (m.contains("hardening")) print_proc_hardening(m["hardening"]);
  }
  const Json& sc = jail["seccomp"];
  std::cout << "seccomp: native x86_64 only (other architectures killed); refused with EPERM and counted: "
            << sc["refused_eperm_counted"].size() << " syscalls, clone with namespace flags, ioctl TIOCSTI/TIOCLINUX;"
            << " clone3 -> ENOSYS; exec " << sc["exec"].get<std::string>() << "\nsocket families: ";
  for (const auto& fam : sc["socket_families"]) std::cout << fam.get<std::string>() << " ";
  const Json& host = j["host"];
  std::cout << "\nlandlock: " << (host["landlock_abi"].get<int>() > 0
                                      ? "on (ABI " + std::to_string(host["landlock_abi"].get<int>()) + ")"
                                      : std::string("off: this kernel has no Landlock, the mounts alone hold"))
            << "; read-write only under:";
  for (const auto& p : jail["landlock"]["read_write"]) std::cout << " " << p.get<std::string>();
  std::cout << "; execute only under:";
  for (const auto& p : jail["landlock"]["execute"]) std::cout << " " << p.get<std::string>();
  print_network(jail["network"]);
  print_path_rules(j["path_rules"]);
  std::cout << "limits:";
  for (const auto& [k, v] : jail["limits"].items()) std::cout << " " << k << "=" << v.dump();
  std::cout << "; a background call (tool process below) lives up to background_ms=" << j["background_ms"].dump()
            << " instead of timeout_ms";
  std::cout << "\ntools (" << (j["cst_required"].get<bool>() ? "each call also needs a CST" : "no CST required")
            << "):\n";
  for (const auto& [tool, d] : j["tools"].items())
    std::cout << "  " << tool << ": " << d["decision"].get<std::string>() << " " << d["reason_code"].get<std::string>()
              << (d["reason"].get<std::string>().empty() ? "" : " (" + d["reason"].get<std::string>() + ")") << "\n";
}

void print_model_calls(const Json& m) {
  std::cout << "model calls (clawjail model-call): ";
  if (m.is_null()) {
    std::cout << "none (the WPC has no models block)\n";
    return;
  }
  auto list = [](const Json& items, const char* none) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : " ") + i.get<std::string>();
    return out.empty() ? std::string(none) : out;
  };
  std::cout << "providers " << list(m["providers"], "(none listed: every model call is refused)") << "; models "
            << list(m["models"], "any") << "; gateway receipts "
            << (m["require_gateway_receipts"].get<bool>() ? "required" : "not required") << "\n";
}

void explain(const ExplainFlags& f) {
  auto config = maybe_config(f);
  policy::Policy wpc = load_policy(f, config);
  Json out = explain_policy(wpc, f.workspace, config, f.tool.empty() ? explain_tools() : std::vector<std::string>{f.tool});
  if (f.json) {
    std::cout << out.dump(2) << "\n";
  } else {
    print_text(out);
    print_model_calls(out["model_calls"]);
  }
  exit_with(0);
}

const CommandRegistrar kExplain("explain", [](CLI::App& app) {
  auto f = std::make_shared<ExplainFlags>();
  auto* cmd = app.add_subcommand("explain", "The effective jail and the tool decisions of a WPC");
  cmd->add_option("--wpc", f->wpc, "WPC payload or envelope file, or a policy hash in the configured store")->required();
  cmd->add_option("--tool", f->tool, "only this tool's decision");
  cmd->add_option("--workspace", f->workspace, "the host workspace the jail would bind (as `clawjail run --workspace`)");
  cmd->add_option("--config", f->config, "configuration file (default: $CLAWJAIL_CONFIG, else /etc/clawjail/config.json)");
  cmd->add_flag("--json", f->json, "machine-readable output; `jail` is what jail_hash_b64u hashes");
  cmd->callback([f] { explain(*f); });
});

}  // namespace

namespace {
// A v2 WPC's filesystem globs and what they do to the tools (docs/formats.md §2 "Path rules").
Json path_rules(const policy::Policy& wpc) {
  Json out = {{"read", {{"allow", wpc.fs_read_globs}, {"deny", wpc.fs_read_deny_globs}}},
              {"write", {{"allow", wpc.fs_write_globs}, {"deny", wpc.fs_write_deny_globs}}},
              {"effect", nullptr}};
  auto read = policy::path_rules_restriction(wpc, false);
  auto write = policy::path_rules_restriction(wpc, true);
  if (!read && !write) return out;
  std::string effect = "file tools act only on the paths these rules allow (PATH_DENIED); ls hides denied entries; ";
  effect += "rename and tree removal also need every path beneath both ends allowed; ";
  policy::Policy without_token = wpc;
  without_token.require_cst = false;
  policy::Call exec;
  exec.tool = "exec";
  auto d = policy::decide(without_token, nullptr, exec);
  if (d.reason == Reason::PATH_RULES_UNENFORCEABLE)
    effect += "exec is refused (PATH_RULES_UNENFORCEABLE): a command could touch any path of the mounted workspace";
  else if (!d.allowed)
    effect += "exec is refused by the WPC anyway (" + std::string(reason_name(d.reason)) + ")";
  else
    effect += std::string("exec is allowed: the rules guard nothing it can reach (workspace ") +
              (wpc.sandbox.workspace_access == policy::WorkspaceAccess::none ? "not mounted)" : "read-only, only writes ruled)");
  out["effect"] = effect;
  return out;
}

// What the WPC itself decides. A CST can only narrow this; whether one is required is printed
// apart (`cst_required`) instead of turning every decision into CST_MISSING.
Json tool_decisions(const policy::Policy& wpc, const std::vector<std::string>& tools) {
  policy::Policy without_token = wpc;
  without_token.require_cst = false;
  Json out = Json::object();
  for (const auto& tool : tools) {
    policy::Call call;
    call.tool = tool;
    auto d = policy::decide(without_token, nullptr, call);
    out[tool] = {{"decision", d.allowed ? "allowed" : "blocked"},
                 {"reason_code", std::string(reason_name(d.reason))},
                 {"reason", d.detail},
                 {"scopes", d.scopes}};
  }
  return out;
}
// The WPC's model-call rule (docs/claw-bundles.md); null when it allows no model call.
Json model_calls(const policy::Policy& wpc) {
  if (!wpc.models) return nullptr;
  const auto& m = *wpc.models;
  return {{"providers", m.providers}, {"models", m.models}, {"route_via", m.route_via},
          {"require_gateway_receipts", m.require_gateway_receipts}};
}
}  // namespace

const std::vector<std::string>& explain_tools() {
  static const std::vector<std::string> tools = {"exec", "process", "read",   "write",  "edit",   "apply_patch",
                                                 "ls",   "stat",    "mkdir",  "remove", "rename", "browser"};
  return tools;
}

Json explain_policy(const policy::Policy& wpc, const std::string& workspace, const std::optional<Config>& config,
                    const std::vector<std::string>& tools) {
  const std::vector<std::string> rootfs = config ? config->rootfs_binds : Config{}.rootfs_binds;
  sandbox::JailSpec spec = sandbox::spec_from_policy(wpc, workspace, rootfs);
  if (config) spec.uid_range = config->uid_range;
  return {{"policy_hash_b64u", wpc.hash_b64u},
          {"jail", sandbox::describe(spec)},
          {"jail_hash_b64u", sandbox::jail_hash_b64u(spec)},
          {"cst_required", wpc.require_cst},
          // A background call's timeout_ms (docs/operations.md, "Background calls").
          {"background_ms", wpc.sandbox.background_ms},
          // This host, outside the hashed jail: the same WPC gives the same jail hash anywhere.
          {"host", {{"landlock_abi", sandbox::host_support().landlock_abi}}},
          {"path_rules", path_rules(wpc)},
          {"tools", tool_decisions(wpc, tools)},
          {"model_calls", model_calls(wpc)}};
}

}  // namespace clawjail::cli
