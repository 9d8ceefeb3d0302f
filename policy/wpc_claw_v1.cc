// Claw's WPC v1 (`"policy_version":"1"`, docs/claw-bundles.md "Claw's WPC v1"): a policy for a
// job's model calls. allowed_providers and allowed_models become the model-call check,
// egress_allowlist the jail's approved hosts; what only the gateway can apply to a model request
// clawjail never sees (redaction, receipt privacy, model identity tiers, audit packs) is refused
// rather than accepted and ignored. It names no tool: every tool call under it is refused.
#include "policy/fields.h"
#include "policy/wpc_parse.h"

namespace clawjail::policy {
namespace {
using namespace fields;

// What the gateway enforces on the model request itself; clawjail can neither apply nor check it.
constexpr const char* kGatewayOnly[] = {"redaction_rules", "receipt_privacy_mode", "minimum_model_identity_tier",
                                        "required_audit_packs"};

Status parse_header(const Json& p, Policy& out) {
  if (auto s = only_keys(p, {"policy_version", "policy_id", "issuer_did", "allowed_providers", "allowed_models",
                             "minimum_model_identity_tier", "required_audit_packs", "redaction_rules",
                             "receipt_privacy_mode", "egress_allowlist", "metadata", "policy_hash"}, "");
      !s)
    return s;
  if (auto s = require_keys(p, {"policy_version", "policy_id", "issuer_did"}, ""); !s) return s;
  if (p["policy_version"] != "1") return fail(Reason::BAD_FIELD, "policy_version: must be \"1\"");
  if (auto s = parse_identity(p, out); !s) return s;
  for (const char* key : kGatewayOnly)
    if (p.contains(key))
      return fail(Reason::WPC_INVALID, std::string(key) + ": applied by the gateway to model requests clawjail never "
                                       "sees, so clawjail cannot enforce it; remove it from the WPC clawjail runs the "
                                       "job under, or let clawproxy enforce a WPC of its own");
  return ok_status();
}

// Claw's schema: at most 16 providers from its list, at most 256 model patterns.
Status parse_models(const Json& p, Policy& out) {
  ModelPolicy m;
  m.require_gateway_receipts = true;  // a Claw WPC's model calls are proven by clawproxy's receipts
  m.route_via = {"clawproxy"};
  if (auto s = read_strings(p, "allowed_providers", m.providers, ""); !s) return s;
  if (m.providers.size() > 16) return fail(Reason::BAD_FIELD, "allowed_providers: at most 16");
  for (const auto& provider : m.providers)
    if (provider != "openai" && provider != "anthropic" && provider != "google")
      return fail(Reason::BAD_FIELD, "allowed_providers: " + provider + " is not openai, anthropic or google");
  if (auto s = read_strings(p, "allowed_models", m.models, ""); !s) return s;
  if (m.models.size() > 256) return fail(Reason::BAD_FIELD, "allowed_models: at most 256");
  for (const auto& model : m.models)
    if (model.empty() || model.size() > 256) return fail(Reason::BAD_FIELD, "allowed_models: a pattern is 1 to 256 characters");
  out.models = std::move(m);
  return ok_status();
}

// egress_allowlist becomes the approved hosts, checked as sandbox.network.approved_hosts is; the
// rest of clawjail's sandbox settings may come from metadata.clawjail, as for a v2 WPC.
Status parse_sandbox_settings(const Json& p, Policy& out) {
  if (p.contains("metadata")) {
    const Json& md = p["metadata"];
    if (auto s = require_object(md, "metadata"); !s) return s;
    if (md.contains("clawjail")) {
      if (md["clawjail"].is_object() && md["clawjail"].contains("network") && p.contains("egress_allowlist"))
        return fail(Reason::BAD_FIELD, "metadata.clawjail.network: approved hosts come from egress_allowlist in a "
                                       "Claw WPC v1; name them once");
      if (auto s = parse_sandbox(md["clawjail"], "metadata.clawjail", out.sandbox); !s) return s;
    }
  }
  if (!p.contains("egress_allowlist")) return ok_status();
  if (p["egress_allowlist"].is_array() && p["egress_allowlist"].size() > 256)
    return fail(Reason::BAD_FIELD, "egress_allowlist: at most 256");
  SandboxSettings egress;  // only its hosts are taken: the rest stays metadata.clawjail's
  if (auto s = parse_sandbox(Json{{"network", {{"approved_hosts", p["egress_allowlist"]}}}}, "egress_allowlist", egress); !s)
    return s;
  out.sandbox.approved_hosts = std::move(egress.approved_hosts);
  return ok_status();
}

}  // namespace

Status parse_claw_wpc_v1(const Json& p, Policy& out) {
  out.shape = "claw_v1";
  if (auto s = parse_header(p, out); !s) return s;
  if (auto s = parse_models(p, out); !s) return s;
  return parse_sandbox_settings(p, out);
}

}  // namespace clawjail::policy
