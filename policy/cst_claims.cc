// CST claims (docs/formats.md §3 checks 2 and 7): the schema of clawscope's scoped_token_claims.v1 and
// the token_scope_hash_b64u it defines, computed exactly as clawscope computes it.
#include <algorithm>

#include "policy/canonical_json.h"
#include "policy/cst.h"
#include "policy/cst_claims.h"
#include "policy/encoding.h"
#include "policy/fields.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/utf16.h"

namespace clawjail::policy {
namespace {
using namespace fields;

// The schema's patterns, checked by hand: a regex match cost more than the rest of the
// claims' checks, on every call.
bool lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_or_digit(c) || (c >= 'A' && c <= 'Z'); }
bool b64u_char(char c) { return alnum(c) || c == '_' || c == '-'; }
bool did_id_char(char c) { return alnum(c) || c == '.' || c == '_' || c == '%' || c == '-'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
bool made_of(std::string_view s, bool (*allowed)(char)) { return !s.empty() && std::all_of(s.begin(), s.end(), allowed); }

// ^did:[a-z0-9]+:[a-zA-Z0-9._%-]+$
bool is_did(std::string_view s) {
  if (s.substr(0, 4) != "did:") return false;
  s.remove_prefix(4);
  auto colon = s.find(':');
  return colon != std::string_view::npos && made_of(s.substr(0, colon), lower_or_digit) &&
         made_of(s.substr(colon + 1), did_id_char);
}

// ^[A-Za-z0-9_-]{43}$
bool is_hash(std::string_view s) { return s.size() == 43 && made_of(s, b64u_char); }

constexpr std::string_view kPlainStrings[] = {"sub", "owner_ref", "mission_id", "delegation_id", "jti", "nonce"};
constexpr std::string_view kDidClaims[] = {"owner_did", "controller_did", "agent_did", "payment_account_did",
                                           "delegator_did", "delegate_did"};
constexpr std::string_view kHashClaims[] = {"policy_hash_b64u", "control_plane_policy_hash_b64u",
                                            "token_scope_hash_b64u", "delegation_policy_hash_b64u"};
// The claims token_scope_hash_b64u covers besides token_version, sub, aud and scope.
constexpr std::string_view kScopeHashOptional[] = {
    "owner_ref", "owner_did", "controller_did", "agent_did", "policy_hash_b64u", "control_plane_policy_hash_b64u",
    "payment_account_did", "spend_cap", "mission_id", "delegation_id", "delegator_did", "delegate_did",
    "delegation_policy_hash_b64u", "delegation_spend_cap_minor", "delegation_expires_at"};

Error invalid(std::string_view claim, std::string_view why) {
  return fail(Reason::CST_CLAIMS_INVALID, "claim " + std::string(claim) + ": " + std::string(why));
}

Status check_string_claims(const Json& c) {
  for (auto key : kPlainStrings)
    if (c.contains(key) && !c[key].is_string()) return invalid(key, "must be a string");
  for (auto key : kDidClaims)
    if (c.contains(key) && (!c[key].is_string() || !is_did(c[key].get<std::string>())))
      return invalid(key, "must be a DID");
  for (auto key : kHashClaims)
    if (c.contains(key) && (!c[key].is_string() || !is_hash(c[key].get<std::string>())))
      return invalid(key, "must be 43 base64url characters");
  return ok_status();
}

Status check_other_claims(const Json& c) {
  for (auto key : {"iat", "exp", "delegation_expires_at"})
    if (c.contains(key) && !c[key].is_number_integer()) return invalid(key, "must be an integer");
  if (c.contains("spend_cap") && (!c["spend_cap"].is_number() || c["spend_cap"].get<double>() < 0))
    return invalid("spend_cap", "must be a number >= 0");
  if (c.contains("delegation_spend_cap_minor") &&
      (!c["delegation_spend_cap_minor"].is_string() ||
       !made_of(c["delegation_spend_cap_minor"].get<std::string>(), digit)))
    return invalid("delegation_spend_cap_minor", "must be a string of digits");
  if (c.contains("token_lane") && c["token_lane"] != "legacy" && c["token_lane"] != "canonical")
    return invalid("token_lane", "must be legacy or canonical");
  return ok_status();
}

Result<std::vector<std::string>> string_list(const Json& v, std::string_view claim, bool allow_single) {
  if (allow_single && v.is_string()) return std::vector<std::string>{v.get<std::string>()};
  if (!v.is_array()) return invalid(claim, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string()) return invalid(claim, "must be an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Status check_known(const Json& c) {
  for (auto it = c.begin(); it != c.end(); ++it) {
    const auto& k = it.key();
    bool known = k == "token_version" || k == "aud" || k == "scope" || k == "iat" || k == "exp" ||
                 k == "spend_cap" || k == "delegation_spend_cap_minor" || k == "delegation_expires_at" ||
                 k == "token_lane" || std::ranges::find(kPlainStrings, k) != std::end(kPlainStrings) ||
                 std::ranges::find(kDidClaims, k) != std::end(kDidClaims) ||
                 std::ranges::find(kHashClaims, k) != std::end(kHashClaims);
    if (!known) return fail(Reason::CST_CLAIMS_INVALID, "claim " + k + ": unknown claim");
  }
  return ok_status();
}

std::string trim(std::string s) {
  const char* ws = " \t\n\r\f\v";
  s.erase(s.find_last_not_of(ws) + 1);
  s.erase(0, std::min(s.find_first_not_of(ws), s.size()));
  return s;
}

// clawscope's normalisation of aud and scope: trimmed, non-empty, de-duplicated, sorted as
// JavaScript sorts strings (UTF-16 code units).
Json normalized_list(const Json& v) {
  std::vector<std::string> items;
  if (v.is_string()) items.push_back(trim(v.get<std::string>()));
  if (v.is_array())
    for (const auto& item : v)
      if (item.is_string()) items.push_back(trim(item.get<std::string>()));
  std::erase(items, std::string());
  std::sort(items.begin(), items.end(), utf16_less);
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return items;
}

}  // namespace

Status read_cst_claims(const Json& c, Cst& out) {
  if (!c.is_object()) return fail(Reason::CST_CLAIMS_INVALID, "claims: not a JSON object");
  if (c.value("token_version", Json()) != "1") return fail(Reason::CST_VERSION, "claim token_version: must be \"1\"");
  if (auto s = check_known(c); !s) return s;
  if (auto s = require_keys(c, {"sub", "aud", "scope", "iat", "exp", "jti"}, "claims"); !s)
    return fail(Reason::CST_CLAIMS_INVALID, s.error().detail);
  if (auto s = check_string_claims(c); !s) return s;
  if (auto s = check_other_claims(c); !s) return s;
  auto aud = string_list(c["aud"], "aud", true);
  if (!aud) return aud.error();
  auto scope = string_list(c["scope"], "scope", false);
  if (!scope) return scope.error();
  if (scope->empty()) return invalid("scope", "must not be empty");
  if (trim(c["sub"].get<std::string>()).empty()) return invalid("sub", "must not be empty");
  if (c["jti"].get_ref<const std::string&>().empty()) return invalid("jti", "must not be empty");
  out.claims = c;
  out.sub = c["sub"].get<std::string>();
  out.jti = c["jti"].get<std::string>();
  out.aud = std::move(aud.value());
  out.scope = std::move(scope.value());
  out.iat = c["iat"].get<int64_t>();
  out.exp = c["exp"].get<int64_t>();
  if (c.contains("policy_hash_b64u")) out.policy_hash_b64u = c["policy_hash_b64u"].get<std::string>();
  if (c.contains("token_scope_hash_b64u")) out.token_scope_hash_b64u = c["token_scope_hash_b64u"].get<std::string>();
  if (c.contains("mission_id")) out.mission_id = c["mission_id"].get<std::string>();
  return ok_status();
}

std::string token_scope_hash_b64u(const Json& claims) {
  Json basis = {{"token_version", "1"},
                {"sub", claims.contains("sub") && claims["sub"].is_string() ? trim(claims["sub"].get<std::string>()) : ""},
                {"aud", normalized_list(claims.value("aud", Json()))},
                {"scope", normalized_list(claims.value("scope", Json()))}};
  for (auto key : kScopeHashOptional) {
    if (!claims.contains(key)) continue;
    const auto& v = claims[key];
    basis[std::string(key)] = v.is_string() ? Json(trim(v.get<std::string>())) : v;
  }
  return canonical_hash_b64u(basis);
}

std::string Cst::token_sha256_b64u() const { return sha256_b64u(token); }

}  // namespace clawjail::policy
