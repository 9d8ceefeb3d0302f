// The audit as a whole: which checks run, in what order, and how findings read as JSON.
#include <unistd.h>

#include <algorithm>

#include "supervisor/audit/checks.h"

namespace clawjail::audit {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::critical: return "critical";
    case Severity::warn: return "warn";
    case Severity::info: return "info";
  }
  return "info";
}

void Report::add(std::string check_id, Severity severity, std::string title, std::string detail, std::string fix) {
  findings.push_back({std::move(check_id), severity, std::move(title), std::move(detail), std::move(fix)});
}

bool Report::has_critical() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::critical; });
}

policy::Json Report::to_json() const {
  policy::Json list = policy::Json::array();
  policy::Json summary = {{"critical", 0}, {"warn", 0}, {"info", 0}};
  for (const auto& f : findings) {
    list.push_back({{"checkId", f.check_id},
                    {"severity", severity_name(f.severity)},
                    {"title", f.title},
                    {"detail", f.detail},
                    {"fix", f.fix}});
    summary[std::string(severity_name(f.severity))] = summary[std::string(severity_name(f.severity))].get<int>() + 1;
  }
  policy::Json out = {{"config", config_path.string()}, {"summary", summary}, {"findings", list}};
  if (!openclaw_config.empty()) out["openclawConfig"] = openclaw_config.string();
  return out;
}

namespace {

void sort_by_severity(Report& report) {
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
}

}  // namespace

Report audit_installation(const std::filesystem::path& config_path, const HostPaths& host) {
  Report report;
  report.config_path = config_path;
  check_config_file(config_path, host, report);
  auto config = load_config(config_path);
  if (!config) {
    report.add("config.unreadable", Severity::critical, "the configuration cannot be loaded: the supervisor will not start",
               std::string(reason_name(config.reason())) + ": " + config.error().detail,
               "fix the file (cli.md \"Configuration\"), or pass --config FILE");
  } else {
    check_trust(*config, report);
    check_rootfs_binds(*config, report);
    check_uid_range(*config, host, report);
    check_signing_key(*config, host, report);
    check_state_dir(*config, host, report);
    check_socket(*config, host, report);
    check_policy_store(*config, report);
  }
  check_host(host, report);
  sort_by_severity(report);
  return report;
}

Report audit_with_openclaw(const std::filesystem::path& config_path, const HostPaths& host,
                           const policy::Json& openclaw_config, const OpenClawAudit& what) {
  Report report = audit_installation(config_path, host);
  report.openclaw_config = what.config;
  auto config = load_config(config_path);
  check_openclaw(openclaw_config, what, config ? &config.value() : nullptr, report);
  if (!what.openclaw.empty() && what.own_audit) include_openclaw_audit(what, report);
  sort_by_severity(report);
  return report;
}

}  // namespace clawjail::audit
