// Reading an OpenClaw gateway's config, and running OpenClaw's own audit.
//
// OpenClaw's config is JSON5. Plain JSON with comments (what `openclaw config set` and most
// hand-written files hold) is read here directly. Anything else (unquoted keys, trailing commas,
// single quotes) is handed to the json5 module OpenClaw itself loads, resolved from OpenClaw's own
// package and run by Node with an argv (never a shell), which prints it back as JSON: the file
// means to the audit exactly what it means to OpenClaw, and no second JSON5 parser is written here.
// Without OpenClaw at hand such a file is refused, naming the line (docs/operations.md).
#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "policy/json.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "supervisor/audit/openclaw.h"
#include "supervisor/common/subprocess.h"

namespace clawjail::audit {
namespace {

namespace fs = std::filesystem;
using policy::Json;

constexpr size_t kMaxConfigBytes = 4 << 20;
constexpr size_t kMaxOutputBytes = 16 << 20;
constexpr auto kJson5Timeout = std::chrono::seconds(30);
// OpenClaw's audit loads its whole CLI, slow on a busy host (docs/performance.md "The OpenClaw audit").
constexpr auto kOwnAuditTimeout = std::chrono::seconds(180);

// Reads JSON5 from argv[2] with the json5 package as OpenClaw's entry (argv[1]) resolves it, and
// prints it as JSON; on a syntax error prints json5's message ("... at LINE:COLUMN") and exits 1.
constexpr const char* kJson5Script = R"JS(
const { createRequire } = require("node:module");
const fs = require("node:fs");
try {
  const JSON5 = createRequire(process.argv[1])("json5");
  process.stdout.write(JSON.stringify(JSON5.parse(fs.readFileSync(process.argv[2], "utf8"))));
} catch (e) {
  process.stderr.write(String(e && e.message ? e.message : e));
  process.exit(1);
}
)JS";

Error config_error(const fs::path& file, const std::string& why) {
  return fail(Reason::CONFIG_INVALID, "--openclaw-config " + file.string() + ": " + why);
}

// A FIFO or a device named here would hang the audit or feed it without end.
Result<std::string> read_text(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return config_error(file, std::strerror(ENOENT));
  if (!fs::is_regular_file(file, ec)) return config_error(file, "not a regular file");
  auto text = policy::read_file_limited(file, kMaxConfigBytes);
  if (!text) return fail(Reason::CONFIG_INVALID, "--openclaw-config " + text.error().detail);
  return text;
}

size_t line_of(const std::string& text, size_t byte) {
  const auto end = text.begin() + static_cast<std::ptrdiff_t>(std::min(byte, text.size()));
  return 1 + static_cast<size_t>(std::count(text.begin(), end, '\n'));
}

// The first executable `name` on $PATH, as env(1) would find it.
fs::path on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((fs::path(dir) / name).c_str(), X_OK) == 0) return fs::path(dir) / name;
  return {};
}

fs::path node_of(const OpenClawAudit& what) { return what.node.empty() ? on_path("node") : what.node; }

// OpenClaw's entry script itself: the `openclaw` command npm installs is a link to it.
fs::path entry_of(const OpenClawAudit& what) {
  std::error_code ec;
  fs::path real = fs::canonical(what.openclaw, ec);
  return ec ? what.openclaw : real;
}

Result<Json> parse_json5(const fs::path& file, const OpenClawAudit& what) {
  const fs::path node = node_of(what);
  if (node.empty()) return config_error(file, "JSON5 needs Node to read it and none was found: pass --node PATH");
  RunOptions opts{.timeout = kJson5Timeout, .extra_env = {}, .max_output = kMaxOutputBytes, .own_group = true};
  auto run = run_captured({node.string(), "-e", kJson5Script, entry_of(what).string(), fs::absolute(file).string()}, {}, opts);
  if (!run) return config_error(file, "cannot run " + node.string() + ": " + run.error().detail);
  if (run->exit_code != 0)
    return config_error(file, "not JSON5 as OpenClaw reads it: " +
                                  (run->err.empty() ? "exit " + std::to_string(run->exit_code) : run->err));
  Json json = Json::parse(run->out, nullptr, false);
  if (json.is_discarded()) return config_error(file, "Node's JSON5 reader printed no JSON");
  if (!json.is_object()) return config_error(file, "the top level is not an object");
  return json;
}

Severity severity_of(const std::string& name) {
  if (name == "critical") return Severity::critical;
  if (name == "warn") return Severity::warn;
  return Severity::info;
}

void own_audit_failed(const std::string& why, Report& report) {
  report.add("openclaw.audit.failed", Severity::warn, "OpenClaw's own security audit did not run to the end",
             why, "run `openclaw security audit --json` as the gateway's user and read its error");
}

}  // namespace

Result<Json> read_openclaw_config(const OpenClawAudit& what) {
  auto text = read_text(what.config);
  if (!text) return text.error();
  try {
    Json json = Json::parse(*text, nullptr, true, /*ignore_comments=*/true);
    if (!json.is_object()) return config_error(what.config, "the top level is not an object");
    return json;
  } catch (const Json::parse_error& e) {
    if (!what.openclaw.empty()) return parse_json5(what.config, what);
    return config_error(what.config, "line " + std::to_string(line_of(*text, e.byte)) + ": not JSON (" + e.what() +
                                         "); for JSON5 (unquoted keys, trailing commas, single quotes) pass "
                                         "--openclaw PATH so that OpenClaw's own parser reads it");
  }
}

void include_openclaw_audit(const OpenClawAudit& what, Report& report) {
  const fs::path node = node_of(what);
  if (node.empty()) return own_audit_failed("no Node binary: pass --node PATH", report);
  RunOptions opts{.timeout = kOwnAuditTimeout,
                  .extra_env = {"OPENCLAW_CONFIG_PATH=" + fs::absolute(what.config).string(), "NO_COLOR=1"},
                  .max_output = kMaxOutputBytes,
                  .own_group = true};
  auto run = run_captured({node.string(), entry_of(what).string(), "security", "audit", "--json"}, {}, opts);
  if (!run) return own_audit_failed(run.error().detail, report);
  Json out = Json::parse(run->out, nullptr, false);
  const Json* findings = openclaw::at(out, {"findings"});
  if (!findings || !findings->is_array())
    return own_audit_failed("exit " + std::to_string(run->exit_code) + ": " + run->err.substr(0, 2000), report);
  for (const Json& f : *findings) {
    auto field = [&f](std::string_view key) { return openclaw::text(openclaw::at(f, {key})); };
    if (f.is_object())
      report.add("openclaw.audit." + field("checkId"), severity_of(field("severity")), "OpenClaw: " + field("title"),
                 field("detail"), field("remediation"));
  }
}

}  // namespace clawjail::audit
