#include "policy/jwks.h"

#include <array>
#include <cstring>
#include <set>

#include "policy/encoding.h"
#include "policy/keys.h"
#include "policy/strict_json.h"

namespace clawjail::policy {
namespace {

bool is_string(const Json& key, const char* field) { return key.contains(field) && key[field].is_string(); }

bool is_ed25519(const Json& key) {
  return is_string(key, "kty") && key["kty"] == "OKP" && is_string(key, "crv") && key["crv"] == "Ed25519" &&
         (!key.contains("use") || key["use"] == "sig");
}

Result<CstIssuer> issuer_of(const Json& key, size_t index) {
  const std::string where = "jwks keys[" + std::to_string(index) + "]";
  if (!is_string(key, "kid") || key["kid"].get<std::string>().empty())
    return fail(Reason::MISSING_FIELD, where + ".kid: an Ed25519 key needs a kid");
  if (key.contains("alg") && key["alg"] != "EdDSA") return fail(Reason::BAD_FIELD, where + ".alg: want EdDSA");
  if (!is_string(key, "x")) return fail(Reason::MISSING_FIELD, where + ".x: missing");
  auto raw = b64u_decode(key["x"].get<std::string>());
  if (!raw || raw->size() != 32) return fail(Reason::BAD_ENCODING, where + ".x: not 32 bytes of base64url");
  std::array<uint8_t, 32> pk{};
  std::memcpy(pk.data(), raw->data(), pk.size());
  return CstIssuer{key["kid"].get<std::string>(), did_from_public_key(pk)};
}

}  // namespace

Result<std::vector<CstIssuer>> parse_jwks(std::string_view body) {
  auto json = parse_strict_json(body, JsonLimits{.max_bytes = 256 << 10, .max_depth = 8, .allow_floats = false});
  if (!json) return fail(json.error().reason, "jwks: " + json.error().detail);
  if (!json->is_object() || !json->contains("keys") || !(*json)["keys"].is_array())
    return fail(Reason::BAD_FIELD, "jwks: want an object with a keys array");
  std::vector<CstIssuer> issuers;
  std::set<std::string> kids;
  const auto& keys = (*json)["keys"];
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].is_object()) return fail(Reason::BAD_FIELD, "jwks keys[" + std::to_string(i) + "]: not an object");
    if (is_string(keys[i], "kid") && !kids.insert(keys[i]["kid"].get<std::string>()).second)
      return fail(Reason::BAD_FIELD, "jwks: kid " + keys[i]["kid"].get<std::string>() + " appears twice");
    if (!is_ed25519(keys[i])) continue;
    auto issuer = issuer_of(keys[i], i);
    if (!issuer) return issuer.error();
    issuers.push_back(std::move(issuer.value()));
  }
  return issuers;
}

}  // namespace clawjail::policy
