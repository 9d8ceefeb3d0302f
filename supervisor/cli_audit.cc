// `clawjail audit [--config FILE] [--json]` (cli.md): findings with severity, check id and fix;
// exit 1 when any is critical.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "supervisor/audit_checks.h"
#include "supervisor/commands.h"

namespace clawjail::cli {
namespace {

struct AuditArgs {
  std::string config;
  bool json = false;
};

void print_text(const audit::Report& report) {
  int counts[3] = {0, 0, 0};
  for (const auto& f : report.findings) {
    ++counts[static_cast<int>(f.severity)];
    std::cout << audit::severity_name(f.severity) << " " << f.check_id << ": " << f.title << "\n"
              << "  " << f.detail << "\n"
              << "  fix: " << f.fix << "\n";
  }
  std::cout << "clawjail audit of " << report.config_path.string() << ": " << counts[2] << " critical, "
            << counts[1] << " warn, " << counts[0] << " info\n";
}

void run_audit(const AuditArgs& args) {
  audit::HostPaths host;
  host.expected_owner = ::geteuid();
  const std::filesystem::path config = args.config.empty() ? default_config_path() : std::filesystem::path(args.config);
  audit::Report report = audit::audit_installation(config, host);
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
      "and issuers; risky grants of every stored WPC; host support for jails; journald. Each finding has a "
      "severity (critical, warn, info), a check id and the fix. Exit 1 when any finding is critical");
  cmd->add_option("--config", args->config, "configuration file (default: $CLAWJAIL_CONFIG, else /etc/clawjail/config.json)");
  cmd->add_flag("--json", args->json, "print {config, summary, findings: [{checkId, severity, title, detail, fix}]}");
  cmd->callback([args] { run_audit(*args); });
});

}  // namespace
}  // namespace clawjail::cli
