// `clawjail audit [--config FILE] [--openclaw-config FILE [--openclaw PATH] [--node PATH]] [--json]`
// (docs/operations.md "Audit the installation"): findings with severity, check id and fix; exit 1
// when any is critical, 2 when the OpenClaw config cannot be read.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "supervisor/audit/checks.h"
#include "supervisor/common/commands.h"

namespace clawjail::cli {
namespace {

struct AuditArgs {
  std::string config;
  bool json = false;
  std::string openclaw_config, openclaw, node;
  bool no_openclaw_audit = false;
};

void print_text(const audit::Report& report) {
  int counts[3] = {0, 0, 0};
  for (const auto& f : report.findings) {
    ++counts[static_cast<int>(f.severity)];
    std::cout << audit::severity_name(f.severity) << " " << f.check_id << ": " << f.title << "\n"
              << "  " << f.detail << "\n"
              << "  fix: " << f.fix << "\n";
  }
  std::cout << "clawjail audit of " << report.config_path.string()
            << (report.openclaw_config.empty() ? "" : " and " + report.openclaw_config.string()) << ": " << counts[2]
            << " critical, "
            << counts[1] << " warn, " << counts[0] << " info\n";
}

void run_audit(const AuditArgs& args) {
  audit::HostPaths host;
  host.expected_owner = ::geteuid();
  const std::filesystem::path config = args.config.empty() ? default_config_path() : std::filesystem::path(args.config);
  audit::Report report;
  if (args.openclaw_config.empty()) {
    report = audit::audit_installation(config, host);
  } else {
    audit::OpenClawAudit what{args.openclaw_config, args.openclaw, args.node, !args.no_openclaw_audit};
    auto oc = audit::read_openclaw_config(what);
    if (!oc) die("audit", oc.error().detail, 2);
    report = audit::audit_with_openclaw(config, host, *oc, what);
  }
  if (args.json)
    std::cout << report.to_json().dump(2) << "\n";
  else
    print_text(report);
  exit_with(report.has_critical() ? 1 : 0);
}

const CommandRegistrar kAudit("audit", [](CLI::App& app) {
  auto args = std::make_shared<AuditArgs>();
  auto* cmd = app.add_subcommand(
      "audit",
      "Security audit of this installation: key, config, state and socket ownership and modes; trusted signers "
      "and issuers; risky grants of every stored WPC; host support for jails; journald; with --openclaw-config, an "
      "OpenClaw gateway's config against the WPC of each agent. Each finding has a severity (critical, warn, info), a "
      "check id and the fix. Exit 1 when any finding is critical");
  cmd->add_option("--config", args->config, "configuration file (default: $CLAWJAIL_CONFIG, else /etc/clawjail/config.json)");
  cmd->add_flag("--json", args->json,
                "print {config, openclawConfig?, summary, findings: [{checkId, severity, title, detail, fix}]}");
  auto* oc = cmd->add_option(
      "--openclaw-config", args->openclaw_config,
      "also audit this OpenClaw gateway config (JSON5) against the WPC each of its agents runs under: routing "
      "around the jail, tools OpenClaw offers that the WPC denies or that no WPC mediates, OpenClaw-side binds and "
      "workspace access, the plugin's job binding and token, the file's mode (checks openclaw.*). Exit 2 when it "
      "cannot be read");
  auto* entry = cmd->add_option(
      "--openclaw", args->openclaw,
      "OpenClaw's CLI (its openclaw.mjs, or the `openclaw` command linking to it): reads a JSON5 config with "
      "OpenClaw's own parser, and adds the findings of `openclaw security audit --json` (openclaw.audit.*)");
  entry->needs(oc);
  cmd->add_option("--node", args->node, "the Node binary that runs --openclaw (default: node on PATH)")->needs(entry);
  cmd->add_flag("--no-openclaw-audit", args->no_openclaw_audit,
                "with --openclaw: only read the config with it, do not run `openclaw security audit`")
      ->needs(entry);
  cmd->callback([args] { run_audit(*args); });
});

}  // namespace
}  // namespace clawjail::cli
