// Keys and exec-call receipt drafts for the tools that write state directories with the real
// receipts library (tests/receipts/tools/make_bundles.cc, tests/claw/make_long_job.cc).
#pragma once
#include <string>
#include <utility>

#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "receipts/receipts.h"

namespace clawjail::receipts::testing {

// A key every run derives the same way, so that the tools' output names the same dids.
inline policy::SecretKey seeded_key(char fill) {
  return std::move(policy::SecretKey::from_seed(std::string(32, fill)).value());
}

// One receipt of an exec call: `blocked` is refused EXEC_DENIED with `blocked_detail`, `finished`
// ends in success.
inline Draft exec_draft(const std::string& job, const std::string& phase, const std::string& call,
                        const std::string& policy_hash, const std::string& blocked_detail = "") {
  using policy::Json;
  Draft d;
  d.phase = clawjail::from_name<clawjail::ReceiptPhase>(phase).value();
  d.job_id = job;
  d.call_id = call;
  d.tool = "exec";
  d.scopes = {"exec"};
  d.reason = phase == "blocked" ? Reason::EXEC_DENIED : Reason::OK;
  d.reason_detail = phase == "blocked" ? blocked_detail : "";
  d.agent_did = seeded_key('\x09').did();
  d.policy_hash_b64u = policy_hash;
  d.request_hash_b64u = policy::sha256_b64u("request " + call);
  if (phase == "finished")
    d.result = Json{{"status", "success"}, {"exit_code", 0}, {"signal", 0}, {"duration_ms", 2},
                    {"stdout_hash_b64u", policy::sha256_b64u("")}, {"stdout_bytes", 0},
                    {"stderr_hash_b64u", policy::sha256_b64u("")}, {"stderr_bytes", 0},
                    {"violations", Json::array()}};
  return d;
}

}  // namespace clawjail::receipts::testing
