// The job an OpenClaw agent's calls run under: the plugin's binding for it, its CST file and the
// WPC the supervisor would use, each checked the way the supervisor checks a call (the token by
// policy::verify_cst and check_cst_for_call, the WPC by pinned_wpc), so that what the audit calls
// drift is what would block or weaken the agent's calls.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "supervisor/audit/openclaw.h"
#include "supervisor/client/client.h"
#include "supervisor/daemon/admission.h"
#include "supervisor/fleet/fleet.h"

namespace clawjail::audit::openclaw {
namespace {

void job_finding(std::string id, Severity severity, std::string title, const Agent& agent, const Binding& b,
                 const std::string& detail, std::string fix, Report& report) {
  report.add(std::move(id), severity, std::move(title), who(agent) + ", " + b.where + ": " + detail, std::move(fix));
}

// A token file anyone but its owner can read lets them call as the agent.
void check_cst_mode(const Agent& agent, const Binding& b, Report& report) {
  struct stat st {};
  if (::stat(b.cst_file.c_str(), &st) != 0 || !(st.st_mode & (S_IRWXG | S_IRWXO))) return;
  job_finding("openclaw.job.cst_perms", Severity::critical,
              "an agent's CST file is open to group or others: whoever reads it can call as the agent", agent, b,
              "cstFile " + b.cst_file + ": mode " + octal(st.st_mode),
              "chmod 0600 " + b.cst_file + ", then revoke the token (clawjail cst revoke --token-file) and issue a new one",
              report);
}

// The token as the plugin hands it to `clawjail run --cst-file` (client.h's read_cst_file), once
// known to be a regular file: a FIFO or a device named in the config must not hang the audit.
Result<std::string> cst_token(const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    return fail(Reason::CST_MISSING, file.empty() ? "no cstFile" : "not a regular file, or missing");
  return client::read_cst_file(file);
}

std::optional<policy::Cst> read_cst(const Agent& agent, const Binding& b, const Config& config, Report& report) {
  auto token = cst_token(b.cst_file);
  std::string why = token ? "" : token.error().detail;
  if (token) {
    policy::CstVerifyOptions options{.issuers = fleet::known_issuers(config), .audience = config.audience,
                                     .max_lifetime_s = config.cst_max_lifetime_s};
    auto cst = policy::verify_cst(*token, options);
    if (cst) return std::move(cst.value());
    why = std::string(reason_name(cst.reason())) + ": " + cst.error().detail;
  }
  job_finding("openclaw.job.cst_invalid", Severity::warn,
              "an agent's CST is not accepted by the supervisor: every call is blocked", agent, b,
              "cstFile " + b.cst_file + ": " + why,
              "issue the job's token again (clawjail cst issue --out " + b.cst_file + ", or its clawjail-cst@ timer)",
              report);
  return std::nullopt;
}

std::optional<policy::Policy> resolve_wpc(const Agent& agent, const Binding& b, const policy::Cst* cst,
                                          const Config& config, Report& report) {
  std::string hash = !b.wpc.empty() ? b.wpc : cst && cst->policy_hash_b64u ? *cst->policy_hash_b64u : "";
  if (hash.empty()) {
    job_finding("openclaw.job.wpc_unresolved", Severity::warn, "the WPC an agent runs under cannot be told", agent, b,
                cst ? "the plugin sets no wpc and the CST pins none" : "the plugin sets no wpc and the CST cannot be read",
                "set wpc in the plugin's binding, or issue the CST with --policy <hash>", report);
    return std::nullopt;
  }
  policy::PolicyStore store(config.state_dir, config.wpc_signers);
  auto wpc = pinned_wpc(hash, config, store);
  if (wpc) return std::move(wpc.value().policy);
  const bool unpinned = wpc.reason() == Reason::WPC_NOT_PINNED;
  job_finding(unpinned ? "openclaw.job.wpc_not_pinned" : "openclaw.job.wpc_unresolved", Severity::warn,
              unpinned ? "an agent's WPC is not among pinned_wpc_hashes: every call is blocked"
                       : "an agent's WPC is not installed or fails verification: every call is blocked",
              agent, b, std::string(reason_name(wpc.reason())) + ": " + wpc.error().detail,
              unpinned ? "add the hash to \"pinned_wpc_hashes\" in " + config.path.string() + ", or bind the agent to a pinned WPC"
                       : "clawjail wpc install the job's WPC", report);
  return std::nullopt;
}

// The token against the WPC and the job, as admission checks it; a token that names no job is
// drift too: it would be accepted for whichever job used it first.
void check_binding(const Agent& agent, const Binding& b, const policy::Cst& cst, const policy::Policy& wpc,
                   Report& report) {
  if (!cst.mission_id) {
    job_finding("openclaw.job.mismatch", Severity::warn, "the agent's CST names no job: it is not bound to the plugin's job",
                agent, b, "job " + b.job + ", token jti " + cst.jti + " has no mission_id",
                "issue the token with --job " + b.job, report);
    return;
  }
  auto s = policy::check_cst_for_call(cst, wpc, b.job, {});
  if (s) return;
  const Reason r = s.reason();
  const bool job = r == Reason::CST_JOB_MISMATCH || r == Reason::CST_MISSION_REQUIRED;
  const bool pin = r == Reason::CST_POLICY_MISMATCH || r == Reason::CST_POLICY_PIN_REQUIRED;
  job_finding(job ? "openclaw.job.mismatch" : pin ? "openclaw.job.wpc_mismatch" : "openclaw.job.cst_refused",
              Severity::warn,
              job   ? "the plugin's job is not the job the agent's CST was issued for: every call is blocked"
              : pin ? "the plugin's wpc is not the WPC the agent's CST pins: every call is blocked"
                    : "the agent's CST does not admit calls under its WPC: every call is blocked",
              agent, b, "job " + b.job + ", WPC " + wpc.hash_b64u + ": " + std::string(reason_name(r)) + ": " + s.error().detail,
              job ? "set the binding's job to the token's mission_id, or issue a token with --job " + b.job
                  : "issue the token with --policy " + wpc.hash_b64u + ", or set the binding's wpc to the token's pin",
              report);
}

bool secret_looking(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (std::string_view word : {"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "COOKIE",
                                "SESSION", "PRIVATE"})
    if (name.find(word) != std::string::npos) return true;
  return false;
}

}  // namespace

std::optional<policy::Policy> check_job(const Json& oc, const Agent& agent, const Config* config, Report& report) {
  auto b = binding_for(oc, agent);
  if (!b) {
    if (plugin_config(oc))
      report.add("openclaw.job.unmapped", Severity::warn,
                 "the clawjail plugin has no job for an agent: its sandboxed calls fail", who(agent),
                 "add plugins.entries.clawjail.config.agents." + agent.id + " = { job, cstFile }, or a top-level job and cstFile");
    return std::nullopt;
  }
  check_cst_mode(agent, *b, report);
  if (!config) {
    job_finding("openclaw.job.wpc_unresolved", Severity::warn, "the WPC an agent runs under cannot be told", agent, *b,
                "clawjail's own configuration cannot be loaded (see config.unreadable)", "pass --config FILE", report);
    return std::nullopt;
  }
  auto cst = read_cst(agent, *b, *config, report);
  auto wpc = resolve_wpc(agent, *b, cst ? &*cst : nullptr, *config, report);
  if (cst && wpc) check_binding(agent, *b, *cst, *wpc, report);
  return wpc;
}

void check_env_pass(const Json& oc, Report& report) {
  const Json* cfg = plugin_config(oc);
  std::vector<std::string> secret;
  for (const auto& name : strings(cfg ? at(*cfg, {"envPass"}) : nullptr))
    if (secret_looking(name)) secret.push_back(name);
  if (!secret.empty())
    report.add("openclaw.job.env_pass_secret", Severity::warn,
               "the plugin passes gateway variables with secret-looking names into every jail",
               "plugins.entries.clawjail.config.envPass: " + joined(secret),
               "remove them from envPass; a job that needs a credential gets it from a file the WPC binds");
}

}  // namespace clawjail::audit::openclaw
