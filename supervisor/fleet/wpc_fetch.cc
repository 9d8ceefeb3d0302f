#include "supervisor/fleet/wpc_fetch.h"

#include "policy/encoding.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "policy/wpc_store.h"
#include "supervisor/fleet/http.h"

namespace clawjail::fleet {
namespace {

constexpr size_t kMaxWpcAnswer = 1 << 20;  // the store's own limit for an envelope

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Result<policy::Json> registry_envelope(const std::string& url, const HttpAnswer& answer) {
  if (answer.status == 404) return fail(Reason::WPC_FETCH_FAILED, url + ": the registry has no such WPC (404)");
  if (answer.status != 200)
    return fail(Reason::WPC_FETCH_FAILED, url + ": the registry answered HTTP " + std::to_string(answer.status));
  auto json = policy::parse_strict_json(answer.body, {.max_bytes = kMaxWpcAnswer, .max_depth = 64, .allow_floats = false});
  if (!json) return fail(Reason::WPC_FETCH_FAILED, url + ": " + json.error().detail);
  if (!json->is_object() || !json->contains("envelope") || !(*json)["envelope"].is_object())
    return fail(Reason::WPC_FETCH_FAILED, url + ": not a registry answer ({ok, policy_hash_b64u, envelope})");
  return (*json)["envelope"];
}

}  // namespace

Result<std::string> fetch_wpc(const Config& config, std::string_view hash_b64u) {
  auto hash = policy::normalize_hash_b64u(hash_b64u);
  if (!hash) return fail(Reason::WPC_NOT_FOUND, "not a WPC hash: " + hash.error().detail);
  if (config.wpc_registry.empty())
    return fail(Reason::WPC_NOT_FOUND, "no installed WPC " + *hash + " and no wpc_registry to fetch it from");
  const std::string url = without_trailing_slash(config.wpc_registry) + "/v1/wpc/" + *hash;
  auto answer = http_get({.url = url, .bearer = "", .timeout = std::chrono::milliseconds(config.control_plane_timeout_ms),
                          .max_bytes = kMaxWpcAnswer},
                         Reason::WPC_FETCH_FAILED);
  if (!answer) return answer.error();
  auto envelope = registry_envelope(url, *answer);
  if (!envelope) return envelope.error();
  // Checked before anything is written: the store keeps only what was asked for.
  auto actual = policy::wpc_hash(*envelope);
  if (!actual) return fail(actual.reason(), url + ": " + actual.error().detail);
  if (*actual != *hash) return fail(Reason::WPC_HASH_MISMATCH, url + ": the registry's WPC hashes to " + *actual);
  auto installed = policy::PolicyStore(config.state_dir, config.wpc_signers).install(*envelope);
  if (!installed) return fail(installed.reason(), url + ": " + installed.error().detail);
  return installed;
}

}  // namespace clawjail::fleet
