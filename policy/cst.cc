// verify_cst: a clawscope CST on its own (docs/formats.md §3 checks 1-4 and 7), in that order, each
// refusal with its own reason. Nothing of the claims is believed before the signature verifies.
#include "base/bounded_memo.h"
#include "policy/cst.h"
#include "policy/cst_claims.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/strict_json.h"

namespace clawjail::policy {
namespace {

constexpr size_t kMaxTokenBytes = 16 * 1024;
constexpr int64_t kMaxClockSkewS = 60;

struct Parts {
  std::string_view header, claims, signature, signing_input;
};

Result<Parts> split_token(std::string_view token) {
  if (token.empty()) return fail(Reason::CST_MISSING, "no token");
  if (token.size() > kMaxTokenBytes) return fail(Reason::CST_MALFORMED, "token larger than 16 KiB");
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return fail(Reason::CST_MALFORMED, "a JWS compact token has exactly three parts");
  return Parts{token.substr(0, first), token.substr(first + 1, second - first - 1), token.substr(second + 1),
               token.substr(0, second)};
}

Result<Json> decode_part(std::string_view part, std::string_view name, bool allow_floats) {
  auto bytes = b64u_decode(part);
  if (!bytes) return fail(Reason::CST_MALFORMED, std::string(name) + ": not base64url");
  JsonLimits limits{.max_bytes = kMaxTokenBytes, .max_depth = 8, .allow_floats = allow_floats};
  auto json = parse_strict_json(*bytes, limits);
  if (!json) return fail(Reason::CST_MALFORMED, std::string(name) + ": " + json.error().detail);
  if (!json->is_object()) return fail(Reason::CST_MALFORMED, std::string(name) + ": not a JSON object");
  return json;
}

// Only alg, typ and kid: a header asking for anything else (crit, jku, jwk, b64…) is refused.
Result<std::string> check_header(const Json& h) {
  if (!h.contains("alg") || !h["alg"].is_string() || h["alg"] != "EdDSA")
    return fail(Reason::CST_ALG_REJECTED, "header alg: " + (h.contains("alg") ? h["alg"].dump() : "missing") +
                                              ", only EdDSA is accepted");
  for (auto it = h.begin(); it != h.end(); ++it)
    if (it.key() != "alg" && it.key() != "typ" && it.key() != "kid")
      return fail(Reason::CST_MALFORMED, "header " + it.key() + ": not accepted");
  if (h.contains("typ") && h["typ"] != "JWT") return fail(Reason::CST_MALFORMED, "header typ: must be JWT");
  if (!h.contains("kid") || !h["kid"].is_string()) return fail(Reason::CST_UNKNOWN_KID, "header kid: missing");
  return h["kid"].get<std::string>();
}

// Every call of a job carries the same token: a signature that verified once for the same key
// and the same signed bytes is not verified again. Keyed by the SHA-256 of all three (key and
// signature have fixed sizes, so the concatenation is unambiguous); only successes are kept.
BoundedMemo<bool>& verified_signatures() {
  static BoundedMemo<bool> memo(4096);
  return memo;
}

std::string verified_key(const std::array<uint8_t, 32>& pk, std::string_view input, const std::string& sig) {
  std::string bytes(pk.begin(), pk.end());
  bytes += sig;
  bytes += input;
  return sha256_b64u(bytes);
}

Status check_signature(const Parts& parts, const std::string& kid, const CstVerifyOptions& options) {
  auto issuer = std::find_if(options.issuers.begin(), options.issuers.end(),
                             [&](const CstIssuer& i) { return i.kid == kid; });
  if (issuer == options.issuers.end()) return fail(Reason::CST_UNKNOWN_KID, "kid " + kid + " is not a configured issuer");
  auto pk = public_key_from_did(issuer->did);
  if (!pk) return fail(Reason::CST_UNKNOWN_KID, "issuer " + kid + ": " + pk.error().detail);
  auto sig = b64u_decode(parts.signature);
  if (!sig || sig->size() != 64) return fail(Reason::CST_SIGNATURE_INVALID, "signature: not 64 bytes of base64url");
  auto key = verified_key(*pk, parts.signing_input, *sig);
  if (!verified_signatures().find(key)) {
    if (!ed25519_verify(*pk, parts.signing_input, *sig))
      return fail(Reason::CST_SIGNATURE_INVALID, "signature does not verify for issuer " + kid);
    verified_signatures().remember(std::move(key), true);
  }
  return ok_status();
}

Status check_audience(const Cst& cst, const std::string& audience) {
  if (std::find(cst.aud.begin(), cst.aud.end(), audience) == cst.aud.end())
    return fail(Reason::CST_AUDIENCE, "aud does not contain " + audience);
  return ok_status();
}

Status check_times(const Cst& cst, const CstVerifyOptions& options) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(options.now.time_since_epoch()).count();
  if (cst.exp <= now)
    return fail(Reason::CST_EXPIRED, "exp " + std::to_string(cst.exp) + " <= now " + std::to_string(now));
  if (cst.iat > now + kMaxClockSkewS)
    return fail(Reason::CST_NOT_YET_VALID, "iat " + std::to_string(cst.iat) + " is in the future (now " +
                                               std::to_string(now) + ")");
  if (cst.exp - cst.iat > options.max_lifetime_s)
    return fail(Reason::CST_LIFETIME_TOO_LONG, "lifetime " + std::to_string(cst.exp - cst.iat) + " s > " +
                                                   std::to_string(options.max_lifetime_s) + " s");
  return ok_status();
}

Status check_scope_hash(const Cst& cst) {
  if (!cst.token_scope_hash_b64u) return ok_status();
  auto computed = token_scope_hash_b64u(cst.claims);
  if (*cst.token_scope_hash_b64u != computed)
    return fail(Reason::CST_SCOPE_HASH_MISMATCH,
                "token_scope_hash_b64u " + *cst.token_scope_hash_b64u + " != computed " + computed);
  return ok_status();
}

}  // namespace

Result<Cst> verify_cst(std::string_view token, const CstVerifyOptions& options) {
  auto parts = split_token(token);
  if (!parts) return parts.error();
  auto header = decode_part(parts->header, "header", false);
  if (!header) return header.error();
  auto kid = check_header(*header);
  if (!kid) return kid.error();
  if (auto s = check_signature(*parts, *kid, options); !s) return s.error();
  auto claims = decode_part(parts->claims, "claims", true);  // spend_cap is a JSON number
  if (!claims) return claims.error();
  Cst cst;
  cst.token = std::string(token);
  cst.kid = *kid;
  if (auto s = read_cst_claims(*claims, cst); !s) return s.error();
  if (auto s = check_audience(cst, options.audience); !s) return s.error();
  if (auto s = check_times(cst, options); !s) return s.error();
  if (auto s = check_scope_hash(cst); !s) return s.error();
  return cst;
}

}  // namespace clawjail::policy
