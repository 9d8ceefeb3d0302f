// The CST (a job-scoped JWT): verification, the checks against a call, issuance.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/wpc.h"

namespace clawjail::policy {

struct Cst {
  std::string token;  // compact JWS
  std::string kid;
  Json claims;
  std::string sub, jti;
  std::vector<std::string> aud, scope;
  int64_t iat = 0, exp = 0;
  std::optional<std::string> policy_hash_b64u, token_scope_hash_b64u, mission_id;
  std::string token_sha256_b64u() const;
};
struct CstIssuer {
  std::string kid;
  std::string did;
};
struct CstVerifyOptions {
  std::vector<CstIssuer> issuers;
  std::string audience = "clawjail";
  int64_t max_lifetime_s = 3600;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};
// Checks 1-4 and 7 of docs/formats.md §3 (the token alone).
Result<Cst> verify_cst(std::string_view token, const CstVerifyOptions& options);
std::string token_scope_hash_b64u(const Json& claims);  // docs/formats.md §3 check 7
// Checks 6, 8, 9 (first half): the token against the WPC in use, the request's job and the
// scopes the call needs.
Status check_cst_for_call(const Cst& cst, const Policy& wpc, std::string_view job_id,
                          const std::vector<std::string>& needed_scopes);
struct CstIssueRequest {
  std::string kid, sub, job;
  std::vector<std::string> aud{"clawjail"};
  std::vector<std::string> scope{"clawjail:call"};
  std::optional<std::string> policy_hash_b64u;
  int64_t ttl_s = 3600;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};
std::string issue_cst(const SecretKey& key, const CstIssueRequest& request);

}  // namespace clawjail::policy
