// The WPC's `models` block and the one check a model call meets against it (docs/claw-bundles.md,
// "Model calls in the same proof"): the provider must be listed. Routing itself is clawproxy's; clawjail binds each
// admitted call to its event so that clawproxy's gateway receipt can prove it went through.
#include <fnmatch.h>

#include <algorithm>

#include "policy/fields.h"
#include "policy/json.h"
#include "policy/models.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "policy/wpc_parse.h"

namespace clawjail::policy {

using namespace fields;

Status parse_models(const Json& models, std::optional<ModelPolicy>& out) {
  if (auto s = require_object(models, "models"); !s) return s;
  if (auto s = only_keys(models, {"require_gateway_receipts", "route_via", "providers"}, "models"); !s) return s;
  ModelPolicy m;
  if (auto s = read_bool(models, "require_gateway_receipts", m.require_gateway_receipts, "models"); !s) return s;
  if (auto s = read_strings(models, "route_via", m.route_via, "models"); !s) return s;
  if (auto s = read_strings(models, "providers", m.providers, "models"); !s) return s;
  // The binding clawjail returns is clawproxy's (X-Run-Id, X-Event-Hash, X-Idempotency-Key): a
  // route it cannot bind receipts for would be a rule nobody enforces.
  for (const auto& via : m.route_via)
    if (via != "clawproxy")
      return fail(Reason::BAD_FIELD, "models.route_via: " + via + " is not enforceable: clawjail binds model calls to "
                                     "clawproxy's gateway receipts only (\"clawproxy\")");
  for (const auto& p : m.providers)
    if (p.empty() || p.size() > 128) return fail(Reason::BAD_FIELD, "models.providers: a provider is 1 to 128 characters");
  out = std::move(m);
  return ok_status();
}

Status check_model_call(const Policy& wpc, std::string_view provider, std::string_view model) {
  if (!wpc.models)
    return fail(Reason::MODEL_CALLS_NOT_CONFIGURED, "the WPC has no models block: it allows no model call");
  const auto& listed = wpc.models->providers;
  if (std::find(listed.begin(), listed.end(), provider) == listed.end())
    return fail(Reason::MODEL_PROVIDER_NOT_ALLOWED,
                "provider " + std::string(provider) + " is not in the WPC's " +
                    (wpc.shape == "claw_v1" ? "allowed_providers" : "models.providers"));
  const auto& globs = wpc.models->models;
  const std::string name(model);
  if (!globs.empty() && std::none_of(globs.begin(), globs.end(), [&](const std::string& g) {
        return ::fnmatch(g.c_str(), name.c_str(), 0) == 0;
      }))
    return fail(Reason::MODEL_PROVIDER_NOT_ALLOWED, "model " + name + " matches none of the WPC's allowed_models");
  return ok_status();
}

}  // namespace clawjail::policy
