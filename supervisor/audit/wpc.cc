// What the WPCs in the policy store let a jail do. Reads them the way the supervisor does
// (PolicyStore), and reports the risky grants of each even when it would be refused.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "policy/decision.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "policy/wpc_store.h"
#include "sandbox/jail.h"
#include "supervisor/audit/checks.h"

namespace clawjail::audit {
namespace {

namespace fs = std::filesystem;

std::string subject(const policy::Policy& wpc, const std::string& where) {
  return "WPC " + wpc.hash_b64u + " (policy_id \"" + wpc.policy_id + "\", " + where + ")";
}

void check_tokens(const policy::Policy& wpc, const std::string& who, Report& report) {
  if (!wpc.require_cst)
    report.add("wpc.require_cst_false", Severity::warn, "a WPC runs calls without any CST",
               who + ": tokens.require_cst is false",
               "set tokens.require_cst to true, re-sign and install the WPC");
  if (!wpc.pin_wpc_hash)
    report.add("wpc.pin_wpc_hash_missing", Severity::warn,
               "a WPC accepts CSTs that do not name it: a token issued for another policy works here",
               who + ": tokens.pin_wpc_hash is not set",
               "set tokens.pin_wpc_hash to true and issue CSTs with --policy <hash>");
}

void check_modes(const policy::Policy& wpc, const std::string& who, Report& report) {
  if (wpc.elevated_enabled)
    report.add("wpc.elevated_enabled", Severity::warn,
               "a WPC allows elevated calls (host network, read-write workspace)", who + ": tools.elevated.enabled is true",
               "set tools.elevated.enabled to false unless the job needs it");
  if (grants(wpc, "docker_socket"))
    report.add("wpc.docker_socket_allowed", Severity::critical,
               "a WPC allows binding the container runtime's socket: that is root on the host",
               who + ": tools.allow grants docker_socket",
               "add \"docker_socket\" to tools.deny");
  if (grants(wpc, "exec") && wpc.sandbox.workspace_access == policy::WorkspaceAccess::rw)
    report.add("wpc.exec_rw_workspace", Severity::warn,
               "a WPC allows exec with a writable workspace: a call can write a program and run it, and it stays for later calls",
               who + ": exec is allowed and sandbox.workspace_access is rw",
               "use workspace_access \"ro\", or deny exec and use the file tools");
  if (grants(wpc, "http:approved_hosts") && !wpc.sandbox.approved_hosts.empty()) {
    std::string hosts;
    bool wildcard = false;
    for (const auto& h : wpc.sandbox.approved_hosts) {
      hosts += (hosts.empty() ? "" : ", ") + h;
      wildcard = wildcard || h.find('*') != std::string::npos;
    }
    // The proxy runs on the host: "localhost" is the host's own loopback, not the jail's.
    if (sandbox::approves_host_loopback(wpc.sandbox.approved_hosts))
      report.add("wpc.network_host_loopback", Severity::warn,
                 "a WPC lets jails reach services on this host's loopback through the egress proxy",
                 who + ": approved hosts " + hosts, "remove localhost from sandbox.network.approved_hosts");
    report.add(wildcard ? "wpc.network_wildcard" : "wpc.network_allowed",
               wildcard ? Severity::warn : Severity::info,
               wildcard ? "a WPC lets jails reach any host matching a wildcard" : "a WPC lets jails reach the network",
               who + ": approved hosts " + hosts, "keep sandbox.network.approved_hosts to the hosts the job needs");
  }
}

// A v2 WPC that allows exec and guards workspace paths: every exec call will be refused
// (PATH_RULES_UNENFORCEABLE), which is safe but most likely not what its author meant.
void check_path_rules(const policy::Policy& wpc, const std::string& who, Report& report) {
  policy::Policy without_token = wpc;
  without_token.require_cst = false;
  policy::Call exec;
  exec.tool = "exec";
  auto d = policy::decide(without_token, nullptr, exec);
  if (d.reason != Reason::PATH_RULES_UNENFORCEABLE) return;
  report.add("wpc.exec_under_path_rules", Severity::warn,
             "a WPC allows exec and has filesystem path rules the jail cannot hold a command to: every exec call is refused",
             who + ": " + d.detail,
             "drop the side_effect:filesystem_* statements, or use workspace_access \"ro\" when only writes are ruled, "
             "or \"none\" and the file tools");
}

// The jail's list, asked about the path as written (so that the audit still speaks when a source
// does not exist on this host yet), then the runtime check itself (sandbox::check_binds).
void check_bind(const policy::Policy& wpc, const policy::BindSpec& bind, const std::string& who,
                const Config& config, Report& report) {
  const std::string what = who + ": bind " + bind.src + " -> " + bind.dst + (bind.writable ? " (rw)" : " (ro)");
  const auto use = bind.writable ? sandbox::PathUse::writable_bind : sandbox::PathUse::bind;
  if (std::string why = sensitive_reason(bind.src, use, config); !why.empty()) {
    report.add("wpc.bind_sensitive", Severity::critical, "a WPC binds a sensitive host path into the jail",
               what + ": " + why, "remove the bind from sandbox.binds");
    return;
  }
  sandbox::JailSpec spec;
  spec.rootfs_binds.clear();
  spec.binds = {bind};
  spec.allow_docker_socket = grants(wpc, "docker_socket");
  for (auto& p : protected_paths(config)) spec.protected_paths.push_back(std::move(p));
  auto checked = sandbox::check_binds(spec);
  if (!checked && checked.reason() == Reason::BIND_REFUSED_SENSITIVE)
    report.add("wpc.bind_sensitive", Severity::critical, "a WPC binds a sensitive host path into the jail",
               what + ": " + checked.error().detail, "remove the bind from sandbox.binds");
  else if ((!checked && checked.reason() == Reason::BIND_REFUSED_SOCKET) || (checked && checked->binds_socket))
    report.add("wpc.bind_socket", Severity::critical, "a WPC binds a socket into the jail",
               what + (checked ? "" : ": " + checked.error().detail), "remove the bind from sandbox.binds");
  else if (!checked && checked.reason() == Reason::BIND_SOURCE_MISSING)
    report.add("wpc.bind_missing", Severity::info, "a WPC binds a path that does not exist here (its calls are blocked)",
               what, "create the source or remove the bind");
  if (bind.writable)
    report.add("wpc.bind_writable", Severity::warn, "a WPC binds a host path writable into the jail", what,
               "make the bind \"ro\" unless the job must change it");
}

policy::Json read_json_file(const fs::path& path, std::string& error) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    error = "cannot read";
    return nullptr;
  }
  auto json = policy::parse_strict_json(text.str());
  if (!json) {
    error = std::string(reason_name(json.reason())) + ": " + json.error().detail;
    return nullptr;
  }
  return json.value();
}

void check_store_entry(const fs::path& file, const policy::PolicyStore& store, const Config& config,
                       Report& report) {
  const std::string name = file.stem().string();
  std::string error;
  policy::Json envelope = read_json_file(file, error);
  if (envelope.is_null()) {
    report.add("wpc.store_corrupt", Severity::critical, "a file in the policy store is not a WPC envelope",
               file.string() + ": " + error, "remove it and reinstall the WPC with clawjail wpc install");
    return;
  }
  auto verified = store.get(name);
  if (!verified) {
    const Reason r = verified.reason();
    if (r == Reason::WPC_SIGNER_NOT_ALLOWED)
      report.add("wpc.untrusted_signer", Severity::warn, "a stored WPC is signed by a key no longer trusted (it is refused)",
                 file.string() + ": " + verified.error().detail, "remove it, or re-sign it with a trusted key");
    else if (r != Reason::WPC_NO_SIGNERS)  // reported once as trust.wpc_signers_missing
      report.add("wpc.store_tampered", Severity::critical, "a stored WPC fails verification: the store was changed",
                 file.string() + ": " + std::string(reason_name(r)) + ": " + verified.error().detail,
                 "find out who wrote it, remove it and reinstall the WPC from its source");
  }
  if (!envelope.is_object() || !envelope.contains("payload")) return;
  auto wpc = policy::parse_wpc_payload(envelope["payload"]);
  if (!wpc) {
    report.add("wpc.invalid", Severity::warn, "a stored WPC does not parse (it is refused)",
               file.string() + ": " + std::string(reason_name(wpc.reason())) + ": " + wpc.error().detail,
               "remove it and install a corrected WPC");
    return;
  }
  check_policy(wpc.value(), file.string(), config, report);
}

}  // namespace

bool grants(const policy::Policy& wpc, std::string_view scope) {
  auto any = [scope](const std::vector<std::string>& entries) {
    return std::any_of(entries.begin(), entries.end(), [scope](const auto& e) { return policy::scope_matches(e, scope); });
  };
  return any(wpc.allow) && !any(wpc.deny);
}

void check_policy(const policy::Policy& wpc, const std::string& where, const Config& config, Report& report) {
  const std::string who = subject(wpc, where);
  check_tokens(wpc, who, report);
  check_modes(wpc, who, report);
  check_path_rules(wpc, who, report);
  for (const auto& bind : wpc.sandbox.binds) check_bind(wpc, bind, who, config, report);
}

void check_policy_store(const Config& config, Report& report) {
  const fs::path dir = config.state_dir / "policies";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  policy::PolicyStore store(config.state_dir, config.wpc_signers);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  if (ec)
    report.add("wpc.store_unreadable", Severity::critical, "the policy store cannot be listed",
               dir.string() + ": " + ec.message(), "run clawjail audit as the supervisor's user (root)");
  std::sort(files.begin(), files.end());
  for (const auto& file : files) check_store_entry(file, store, config, report);
}

}  // namespace clawjail::audit
