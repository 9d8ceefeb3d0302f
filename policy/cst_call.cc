// A verified CST against one call (docs/formats.md §3 checks 6, 7's WPC half, 8 and 9's first half):
// the WPC in use, the request's job and the scopes the call needs.
#include <algorithm>

#include "policy/cst_claims.h"

namespace clawjail::policy {
namespace {

Status check_policy_pin(const Cst& cst, const Policy& wpc) {
  if (cst.policy_hash_b64u && *cst.policy_hash_b64u != wpc.hash_b64u)
    return fail(Reason::CST_POLICY_MISMATCH,
                "token policy_hash_b64u " + *cst.policy_hash_b64u + " != WPC in use " + wpc.hash_b64u);
  if (wpc.pin_wpc_hash && !cst.policy_hash_b64u)
    return fail(Reason::CST_POLICY_PIN_REQUIRED, "the WPC sets tokens.pin_wpc_hash; the token has no policy_hash_b64u");
  return ok_status();
}

Status check_wpc_scope_hash(const Cst& cst, const Policy& wpc) {
  if (!wpc.cst_scope_hash_b64u) return ok_status();
  auto computed = token_scope_hash_b64u(cst.claims);
  if (computed != *wpc.cst_scope_hash_b64u)
    return fail(Reason::CST_SCOPE_HASH_MISMATCH,
                "token scope hash " + computed + " != WPC tokens.cst_scope_hash " + *wpc.cst_scope_hash_b64u);
  return ok_status();
}

Status check_job(const Cst& cst, const Policy& wpc, std::string_view job_id) {
  if (wpc.job_id && *wpc.job_id != job_id)
    return fail(Reason::CST_JOB_MISMATCH, "the WPC is for job " + *wpc.job_id + ", not " + std::string(job_id));
  if (cst.mission_id && *cst.mission_id != job_id)
    return fail(Reason::CST_JOB_MISMATCH, "token mission_id " + *cst.mission_id + " != job " + std::string(job_id));
  if (wpc.bind_job_scoped_cst && !cst.mission_id)
    return fail(Reason::CST_MISSION_REQUIRED, "the WPC sets job.anti_replay.bind_job_scoped_cst; the token has no mission_id");
  return ok_status();
}

}  // namespace

Status cst_grants(const Cst& cst, const std::vector<std::string>& needed_scopes) {
  const auto& s = cst.scope;
  if (std::find(s.begin(), s.end(), "clawjail:call") == s.end() && std::find(s.begin(), s.end(), "*") == s.end())
    return fail(Reason::CST_SCOPE_DENIED, "token scope has neither clawjail:call nor *");
  std::vector<std::string> tool_entries;
  for (const auto& entry : s)
    if (entry.starts_with("tool:")) tool_entries.push_back(entry.substr(5));
  if (tool_entries.empty()) return ok_status();
  for (const auto& needed : needed_scopes) {
    bool granted = std::any_of(tool_entries.begin(), tool_entries.end(),
                               [&](const auto& e) { return scope_matches(e, needed); });
    if (!granted) return fail(Reason::CST_SCOPE_DENIED, "token scope does not grant tool:" + needed);
  }
  return ok_status();
}

Status check_cst_for_call(const Cst& cst, const Policy& wpc, std::string_view job_id,
                          const std::vector<std::string>& needed_scopes) {
  if (auto s = check_policy_pin(cst, wpc); !s) return s;
  if (auto s = check_wpc_scope_hash(cst, wpc); !s) return s;
  if (auto s = check_job(cst, wpc, job_id); !s) return s;
  return cst_grants(cst, needed_scopes);
}

}  // namespace clawjail::policy
