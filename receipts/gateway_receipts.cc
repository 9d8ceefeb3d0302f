// Checking gateway receipts against a job (docs/claw-bundles.md, "Model calls in the same proof"). Claw's own rules
// for the envelope (shape, payload hash, signature) are claw_verify.cc's; this file adds whose
// receipts count and what they must be bound to.
#include "receipts/gateway_receipts.h"

#include <algorithm>
#include <set>

#include "policy/decision.h"
#include "policy/json.h"
#include "policy/models.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "receipts/claw_internal.h"
#include "receipts/internal.h"

namespace clawjail::receipts::gateway {
namespace {

using claw::OJson;

Error refused(Reason r, std::string detail) { return fail(r, std::move(detail)); }

std::string text_of(const OJson& b, const char* key) {
  return b.contains(key) && b[key].is_string() ? b[key].get<std::string>() : std::string();
}

// Which call of the job the receipt is bound to, or why it is not.
Result<const ModelCall*> bound_call(const OJson& payload, const JobContext& job) {
  if (!payload.contains("binding") || !payload["binding"].is_object())
    return refused(Reason::GATEWAY_RECEIPT_UNBOUND, "no binding: clawproxy was not given X-Run-Id/X-Event-Hash");
  const OJson& b = payload["binding"];
  const std::string run = text_of(b, "run_id"), event = text_of(b, "event_hash_b64u"), nonce = text_of(b, "nonce");
  if (run.empty() || event.empty()) return refused(Reason::GATEWAY_RECEIPT_UNBOUND, "binding lacks run_id or event_hash_b64u");
  if (run != job.job_id) return refused(Reason::GATEWAY_RECEIPT_OTHER_JOB, "bound to run " + run + ", not job " + job.job_id);
  auto it = std::find_if(job.calls.begin(), job.calls.end(), [&](const ModelCall& c) { return c.event_hash_b64u == event; });
  if (it == job.calls.end())
    return refused(Reason::GATEWAY_RECEIPT_UNBOUND, "binding.event_hash_b64u " + event + " is no model call of job " + job.job_id);
  if (nonce != it->call_id)
    return refused(Reason::GATEWAY_RECEIPT_UNBOUND, "binding.nonce " + (nonce.empty() ? std::string("(none)") : nonce) +
                                                        " is not " + it->call_id + ", the X-Idempotency-Key its model call was given");
  if (text_of(b, "policy_hash") != job.policy_hash_b64u)
    return refused(Reason::GATEWAY_RECEIPT_POLICY_MISMATCH,
                   "binding.policy_hash is not the job's WPC hash " + job.policy_hash_b64u);
  return &*it;
}

Result<const ModelCall*> check_one_unguarded(const std::string& text, const JobContext& job) {
  auto parsed = policy::parse_strict_json(text);
  if (!parsed.ok()) return refused(Reason::GATEWAY_RECEIPT_INVALID, parsed.error().detail);
  const OJson env = OJson::parse(text);
  if (!claw::detail::gateway_receipt_shape_ok(env))
    return refused(Reason::GATEWAY_RECEIPT_INVALID, "not a gateway_receipt envelope of Claw's schema");
  if (auto c = claw::detail::signed_entry_ok(env, "gateway receipt"))
    return refused(Reason::GATEWAY_RECEIPT_INVALID, c->code + ": " + c->detail);
  const std::string signer = env["signer_did"].get<std::string>();
  if (std::find(job.signers.begin(), job.signers.end(), signer) == job.signers.end())
    return refused(Reason::GATEWAY_SIGNER_NOT_ALLOWED,
                   "signed by " + signer + ", not a trusted gateway (gateway_receipt_signers, --gateway-signer)");
  auto call = bound_call(env["payload"], job);
  if (!call.ok()) return call.error();
  if (auto s = policy::check_model_call(job.wpc, text_of(env["payload"], "provider"), text_of(env["payload"], "model"));
      !s.ok())
    return s.error();
  return call;
}

// The checks read only what the schema check established; a member of a type no check foresaw
// still refuses the receipt rather than ending the process.
Result<const ModelCall*> check_one(const std::string& text, const JobContext& job) {
  try {
    return check_one_unguarded(text, job);
  } catch (const std::exception& e) {
    return refused(Reason::GATEWAY_RECEIPT_INVALID, std::string("a member has an unexpected type or value: ") + e.what());
  }
}

}  // namespace

Result<JobContext> job_context(const std::string& job_id, const Json& wpc_payload, const std::vector<Json>& payloads,
                               const std::vector<std::string>& bytes, std::vector<std::string> signers) {
  auto wpc = policy::parse_wpc_payload(wpc_payload);
  if (!wpc.ok()) return wpc.error();
  auto hash = policy::wpc_hash(wpc_payload);
  if (!hash.ok()) return hash.error();
  JobContext job{job_id, *hash, std::move(*wpc), {}, std::move(signers)};
  detail::ChainLink link;
  for (size_t i = 0; i < payloads.size() && i < bytes.size(); ++i) {
    std::string event = detail::claw_event_hash_at(payloads[i], bytes[i], job_id, link);
    if (payloads[i].value("tool", "") == policy::kModelCallTool && payloads[i].value("phase", "") == "started")
      job.calls.push_back({payloads[i]["call_id"].get<std::string>(), event});
    link = detail::ChainLink{link.seq + 1, std::nullopt, event};
  }
  return job;
}

Result<JobContext> job_context_of_bundle(const Json& bundle, std::vector<std::string> signers) {
  std::vector<Json> payloads;
  std::vector<std::string> bytes;
  for (const auto& env : bundle["receipts"]) {
    auto b = detail::dsse_payload(env);
    if (!b.ok()) return b.error();
    payloads.push_back(Json::parse(*b));
    bytes.push_back(std::move(*b));
  }
  return job_context(bundle["job_id"].get<std::string>(), bundle["wpc"]["payload"], payloads, bytes, std::move(signers));
}

Imported check_receipts(const std::vector<std::string>& candidates, const JobContext& job) {
  Imported out;
  for (size_t i = 0; i < candidates.size(); ++i) {
    auto call = check_one(candidates[i], job);
    Refused r{i, "", Reason::OK, ""};
    auto loose = OJson::parse(candidates[i], nullptr, false);
    if (loose.is_object() && loose.contains("payload") && loose["payload"].is_object())
      r.receipt_id = text_of(loose["payload"], "receipt_id");
    if (call.ok() && std::count(out.covered_calls.begin(), out.covered_calls.end(), (*call)->call_id))
      call = refused(Reason::GATEWAY_RECEIPT_DUPLICATE, "model call " + (*call)->call_id + " already has a gateway receipt");
    if (!call.ok()) {
      r.reason = call.reason();
      r.detail = call.error().detail;
      out.refused.push_back(std::move(r));
      continue;
    }
    out.accepted.push_back(claw::stringify(OJson::parse(candidates[i])));
    out.covered_calls.push_back((*call)->call_id);
  }
  return out;
}

Result<std::vector<std::string>> candidates_in(std::string_view file_text) {
  auto strict = policy::parse_strict_json(file_text);
  if (!strict.ok()) return strict.error();
  const OJson doc = OJson::parse(file_text);
  OJson list = doc;
  if (doc.is_object() && doc.contains("envelope_type") && doc["envelope_type"] == "proof_bundle")
    list = doc.contains("payload") && doc["payload"].is_object() && doc["payload"].contains("receipts")
               ? doc["payload"]["receipts"]
               : OJson::array();
  else if (doc.is_object())
    list = OJson::array({doc});
  if (!list.is_array()) return fail(Reason::BAD_FIELD, "neither a gateway receipt, an array of them nor a proof bundle");
  std::vector<std::string> out;
  for (const auto& r : list) out.push_back(claw::stringify(r));
  return out;
}

Status check_coverage(const JobContext& job, const Imported& imported) {
  if (!job.wpc.models || !job.wpc.models->require_gateway_receipts) return ok_status();
  for (const auto& call : job.calls)
    if (!std::count(imported.covered_calls.begin(), imported.covered_calls.end(), call.call_id))
      return fail(Reason::MODEL_CALL_UNRECEIPTED,
                  "model call " + call.call_id + " has no valid gateway receipt and the WPC sets models.require_gateway_receipts" +
                      (job.signers.empty() ? " (no gateway signer is trusted: --gateway-signer)" : ""));
  return ok_status();
}

Json Imported::to_json() const {
  Json refusals = Json::array();
  for (const auto& r : refused)
    refusals.push_back({{"index", r.index}, {"receipt_id", r.receipt_id}, {"reason_code", std::string(reason_name(r.reason))},
                        {"reason", r.detail}});
  return {{"accepted", accepted.size()}, {"covered_calls", covered_calls}, {"refused", refusals}};
}

}  // namespace clawjail::receipts::gateway
