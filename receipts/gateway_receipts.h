// Gateway receipts: clawproxy's signed record of one model call, imported into a job's evidence
// only when it checks out (docs/claw-bundles.md, "Model calls in the same proof"). A model call is admitted by the
// supervisor like any call; its `started` receipt is the event clawproxy's receipt binds to.
#pragma once
#include <string>
#include <vector>

#include "receipts/claw_bundle.h"

namespace clawjail::receipts::gateway {

// One admitted model call of a job: its call id (the X-Idempotency-Key / binding.nonce it was
// handed) and the Claw event hash of its `started` receipt (X-Event-Hash / binding.event_hash_b64u).
struct ModelCall {
  std::string call_id, event_hash_b64u;
};
// What a gateway receipt is checked against: the job, its WPC, its model calls and the gateway
// signers trusted (`gateway_receipt_signers`, `--gateway-signer`).
struct JobContext {
  std::string job_id, policy_hash_b64u;
  policy::Policy wpc;  // its models block is the one rule on a model call's provider and model
  std::vector<ModelCall> calls;
  std::vector<std::string> signers;
};
// From a native bundle's verified receipts (payloads and their exact bytes, in seq order) and
// its WPC payload.
Result<JobContext> job_context(const std::string& job_id, const Json& wpc_payload, const std::vector<Json>& payloads,
                               const std::vector<std::string>& bytes, std::vector<std::string> signers);

// The same from a native bundle's payload (its receipts read without their signatures checked:
// for a bundle verify_bundle() passed).
Result<JobContext> job_context_of_bundle(const Json& bundle_payload, std::vector<std::string> signers);

struct Refused {
  size_t index = 0;        // in the candidates
  std::string receipt_id;  // as it claims, when readable
  Reason reason = Reason::GATEWAY_RECEIPT_INVALID;
  std::string detail;
};
struct Imported {
  std::vector<std::string> accepted;  // each as JSON.stringify writes it (its hash is over that)
  std::vector<std::string> covered_calls;
  std::vector<Refused> refused;
  Json to_json() const;
};
// Each candidate (JSON text of one gateway_receipt envelope) is accepted only if its shape, hash
// and signature verify, its signer is trusted, it is bound to this job (run_id), to one of its
// model calls (event hash and nonce) and to its WPC (policy_hash), and its provider is one the
// WPC lists; one receipt per call. Anything else is refused with its reason.
Imported check_receipts(const std::vector<std::string>& candidates, const JobContext& job);
// The candidates in a file: one envelope, an array of them, or a Claw proof bundle (its
// payload.receipts, e.g. the one Claw's provider plugin writes).
Result<std::vector<std::string>> candidates_in(std::string_view file_text);
// require_gateway_receipts: every model call covered, else MODEL_CALL_UNRECEIPTED naming it.
Status check_coverage(const JobContext& job, const Imported& imported);

}  // namespace clawjail::receipts::gateway
