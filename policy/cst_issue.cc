// issue_cst: a CST in clawscope's shape, for tests, the demo and operators without clawscope.
#include <sodium.h>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "policy/sodium.h"

namespace clawjail::policy {
namespace {

std::string random_id(size_t bytes) {
  ensure_sodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return b64u_encode(raw);
}

Json claims_of(const CstIssueRequest& r) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(r.now.time_since_epoch()).count();
  Json claims = {{"token_version", "1"}, {"sub", r.sub},   {"aud", r.aud},          {"scope", r.scope},
                 {"iat", now},           {"exp", now + r.ttl_s}, {"jti", "cst_" + random_id(16)},
                 {"nonce", random_id(12)}};
  if (!r.job.empty()) claims["mission_id"] = r.job;
  if (r.policy_hash_b64u) claims["policy_hash_b64u"] = *r.policy_hash_b64u;
  claims["token_scope_hash_b64u"] = token_scope_hash_b64u(claims);
  return claims;
}

}  // namespace

std::string issue_cst(const SecretKey& key, const CstIssueRequest& request) {
  Json header = {{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", request.kid}};
  std::string signing_input = b64u_encode(header.dump()) + "." + b64u_encode(claims_of(request).dump());
  return signing_input + "." + b64u_encode(key.sign(signing_input));
}

}  // namespace clawjail::policy
