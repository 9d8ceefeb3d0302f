// The tool WPC (`"wpc_version":"v1"`, docs/formats.md §2 (a)): tool allow/deny lists, token rules, job
// binding and clawjail's sandbox extension. Every key is known or the policy is refused.
#include "policy/encoding.h"
#include "policy/fields.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "policy/wpc_parse.h"

namespace clawjail::policy {
namespace {
using namespace fields;

Status parse_job(const Json& job, Policy& out) {
  if (auto s = require_object(job, "job"); !s) return s;
  if (auto s = only_keys(job, {"id", "anti_replay"}, "job"); !s) return s;
  if (auto s = read_optional_string(job, "id", out.job_id, "job"); !s) return s;
  if (!job.contains("anti_replay")) return ok_status();
  const auto& ar = job["anti_replay"];
  if (auto s = require_object(ar, "job.anti_replay"); !s) return s;
  if (auto s = only_keys(ar, {"bind_job_scoped_cst"}, "job.anti_replay"); !s) return s;
  return read_bool(ar, "bind_job_scoped_cst", out.bind_job_scoped_cst, "job.anti_replay");
}

Status parse_scope_list(const Json& tools, std::string_view key, std::vector<std::string>& out) {
  if (auto s = read_strings(tools, key, out, "tools"); !s) return s;
  for (const auto& entry : out)
    if (auto s = check_scope_entry(entry, join("tools", key)); !s) return s;
  return ok_status();
}

Status parse_tools(const Json& tools, Policy& out) {
  if (auto s = require_object(tools, "tools"); !s) return s;
  if (auto s = only_keys(tools, {"allow", "deny", "elevated"}, "tools"); !s) return s;
  if (auto s = parse_scope_list(tools, "allow", out.allow); !s) return s;
  if (auto s = parse_scope_list(tools, "deny", out.deny); !s) return s;
  if (!tools.contains("elevated")) return ok_status();
  const auto& el = tools["elevated"];
  if (auto s = require_object(el, "tools.elevated"); !s) return s;
  if (auto s = only_keys(el, {"enabled"}, "tools.elevated"); !s) return s;
  return read_bool(el, "enabled", out.elevated_enabled, "tools.elevated");
}

Status parse_tokens(const Json& tokens, Policy& out) {
  if (auto s = require_object(tokens, "tokens"); !s) return s;
  if (auto s = only_keys(tokens, {"require_cst", "cst_scope_hash", "pin_wpc_hash"}, "tokens"); !s) return s;
  if (auto s = read_bool(tokens, "require_cst", out.require_cst, "tokens"); !s) return s;
  if (auto s = read_bool(tokens, "pin_wpc_hash", out.pin_wpc_hash, "tokens"); !s) return s;
  std::optional<std::string> hash;
  if (auto s = read_optional_string(tokens, "cst_scope_hash", hash, "tokens"); !s) return s;
  if (!hash) return ok_status();
  auto normalized = normalize_hash_b64u(*hash);
  if (!normalized) return fail(Reason::BAD_FIELD, "tokens.cst_scope_hash: " + normalized.error().detail);
  out.cst_scope_hash_b64u = normalized.value();
  return ok_status();
}

Status parse_header(const Json& p, Policy& out) {
  if (auto s = only_keys(p, {"wpc_version", "policy_id", "issuer_did", "job", "tools", "models",
                             "tokens", "sandbox", "metadata", "policy_hash"}, "");
      !s)
    return s;
  if (auto s = require_keys(p, {"wpc_version", "policy_id", "issuer_did"}, ""); !s) return s;
  if (p["wpc_version"] != "v1") return fail(Reason::BAD_FIELD, "wpc_version: must be \"v1\"");
  if (auto s = parse_identity(p, out); !s) return s;
  if (p.contains("metadata")) return require_object(p["metadata"], "metadata");
  return ok_status();
}

}  // namespace

Status parse_wpc_v1(const Json& p, Policy& out) {
  out.shape = "wpc_v1";
  if (auto s = parse_header(p, out); !s) return s;
  if (p.contains("job"))
    if (auto s = parse_job(p["job"], out); !s) return s;
  if (p.contains("tools"))
    if (auto s = parse_tools(p["tools"], out); !s) return s;
  if (p.contains("models"))
    if (auto s = parse_models(p["models"], out.models); !s) return s;
  if (p.contains("tokens"))
    if (auto s = parse_tokens(p["tokens"], out); !s) return s;
  if (p.contains("sandbox")) return parse_sandbox(p["sandbox"], "sandbox", out.sandbox);
  return ok_status();
}

}  // namespace clawjail::policy
