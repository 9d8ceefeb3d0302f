// Offline, fail-closed verification of a proof bundle (docs/formats.md §5). Each check has its own
// reason code; the first failure ends verification. Trust comes only from the caller's list:
// the bundle's own `supervisor_keys` is informational and never trusted.
#include <algorithm>
#include <map>
#include <set>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "receipts/gateway_receipts.h"
#include "receipts/internal.h"

namespace clawjail::receipts {
namespace {

constexpr size_t kMaxBundleBytes = size_t{256} << 20;

Error bad_bundle(std::string detail) { return fail(Reason::BUNDLE_MALFORMED, std::move(detail)); }

Status exact_fields(const Json& obj, const std::set<std::string>& required,
                    const std::set<std::string>& optional, Reason reason, const std::string& where) {
  if (!obj.is_object()) return fail(reason, where + " is not an object");
  for (const auto& key : required)
    if (!obj.contains(key)) return fail(reason, where + " lacks " + key);
  for (const auto& [key, _] : obj.items())
    if (!required.count(key) && !optional.count(key)) return fail(reason, where + " has unknown field " + key);
  return ok_status();
}

Result<Json> open_bundle(const Json& envelope, const std::vector<std::string>& trusted) {
  auto c = detail::dsse_check(envelope, kBundlePayloadType, trusted);
  switch (c.failure) {
    case detail::DsseFailure::none: break;
    case detail::DsseFailure::malformed:
    case detail::DsseFailure::wrong_type: return bad_bundle(c.detail);
    case detail::DsseFailure::untrusted_key: return fail(Reason::BUNDLE_UNTRUSTED_KEY, c.detail);
    case detail::DsseFailure::bad_signature: return fail(Reason::BUNDLE_SIGNATURE_INVALID, c.detail);
  }
  policy::JsonLimits limits;
  limits.max_bytes = kMaxBundleBytes;
  auto bundle = policy::parse_strict_json(c.payload, limits);
  if (!bundle.ok()) return bad_bundle("bundle payload: " + bundle.error().detail);
  auto shape = exact_fields(*bundle, {"bundle_version", "job_id", "created_at", "wpc", "cst",
                                      "supervisor_keys", "receipts"},
                            {"gateway_receipts"}, Reason::BUNDLE_MALFORMED, "bundle");
  if (!shape.ok()) return shape.error();
  const Json& b = *bundle;
  if (b["bundle_version"] != "1") return bad_bundle("bundle_version is not \"1\"");
  if (!b["job_id"].is_string() || !check_job_id(b["job_id"].get<std::string>()).ok())
    return bad_bundle("job_id is not a job id");
  if (!b["receipts"].is_array() || b["receipts"].empty()) return bad_bundle("bundle holds no receipts");
  if (b.contains("gateway_receipts") &&
      (!b["gateway_receipts"].is_array() ||
       !std::all_of(b["gateway_receipts"].begin(), b["gateway_receipts"].end(), [](const Json& r) { return r.is_string(); })))
    return bad_bundle("gateway_receipts is not an array of gateway receipts' JSON texts");
  return bundle;
}

// The bundled WPC must be intact and signed by the signer it names. Whether that signer is one
// the auditor trusts for policies is the auditor's call: the verdict reports it.
Result<std::string> check_wpc(const Json& wpc, std::string& signer) {
  if (!wpc.is_object() || !wpc.contains("signer_did") || !wpc["signer_did"].is_string())
    return fail(Reason::BUNDLE_WPC_INVALID, "wpc is not a signed WPC envelope");
  signer = wpc["signer_did"].get<std::string>();
  auto verified = policy::verify_wpc_envelope(wpc, {signer});
  if (!verified.ok())
    return fail(Reason::BUNDLE_WPC_INVALID, std::string(reason_name(verified.reason())) + ": " +
                                                verified.error().detail);
  return verified->policy.hash_b64u;
}

Status check_cst(const Json& cst) {
  if (cst.is_null()) return ok_status();
  auto shape = exact_fields(cst, {"claims", "token_sha256_b64u", "issuer_kid"}, {"token"},
                            Reason::BUNDLE_MALFORMED, "cst");
  if (!shape.ok()) return shape;
  if (!cst["claims"].is_object() || !cst["token_sha256_b64u"].is_string() || !cst["issuer_kid"].is_string())
    return bad_bundle("cst fields have the wrong types");
  if (cst.contains("token") && (!cst["token"].is_string() ||
                                policy::sha256_b64u(cst["token"].get<std::string>()) != cst["token_sha256_b64u"]))
    return bad_bundle("cst.token does not hash to cst.token_sha256_b64u");
  return ok_status();
}

const std::set<std::string> kReceiptFields = {
    "receipt_version", "receipt_id", "phase", "job_id", "seq", "prev_receipt_hash_b64u", "call_id",
    "timestamp", "tool", "scopes", "decision", "reason_code", "reason", "agent_did",
    "policy_hash_b64u", "token_scope_hash_b64u", "cst_jti", "request_hash_b64u", "jail_hash_b64u"};

Status check_receipt_shape(const Json& p, const std::string& where) {
  auto shape = exact_fields(p, kReceiptFields, {"result"}, Reason::RECEIPT_PAYLOAD_INVALID, where);
  if (!shape.ok()) return shape;
  auto invalid = [&](std::string why) { return fail(Reason::RECEIPT_PAYLOAD_INVALID, where + ": " + why); };
  if (p["receipt_version"] != "1") return invalid("receipt_version is not \"1\"");
  for (const char* key : {"receipt_id", "phase", "job_id", "call_id", "timestamp", "tool", "decision",
                          "reason_code", "reason", "request_hash_b64u"})
    if (!p[key].is_string()) return invalid(std::string(key) + " is not a string");
  if (!p["seq"].is_number_integer()) return invalid("seq is not an integer");
  const std::string& phase = p["phase"].get_ref<const std::string&>();
  if (phase != "started" && phase != "finished" && phase != "blocked") return invalid("unknown phase " + phase);
  if (p["decision"] != (phase == "blocked" ? "blocked" : "allowed"))
    return invalid("phase " + phase + " with decision " + p["decision"].get<std::string>());
  if ((phase == "finished") != p.contains("result")) return invalid("result belongs to finished receipts only");
  auto reason = reason_from_name(p["reason_code"].get<std::string>());
  if (!reason) return invalid("unknown reason_code");
  if (auto s = detail::check_result(phase, p.contains("result") ? p["result"] : Json(), *reason); !s.ok())
    return invalid(s.error().detail);
  return ok_status();
}

struct ChainState {
  std::string job_id;
  std::string policy_hash;
  std::vector<Json> payloads;
  std::vector<std::string> payload_bytes;
};

// Index i of an intact chain holds seq i. When it does not, tell a reordering (every seq present
// once) from a gap or a duplicate.
Error seq_error(const std::vector<Json>& receipts, size_t index, int64_t seq) {
  std::vector<int64_t> seqs;
  for (const auto& env : receipts) {
    auto bytes = detail::dsse_payload(env);
    auto p = bytes.ok() ? Json::parse(*bytes, nullptr, false) : Json();
    seqs.push_back(p.is_object() && p.contains("seq") && p["seq"].is_number_integer() ? p["seq"].get<int64_t>() : -1);
  }
  std::sort(seqs.begin(), seqs.end());
  bool permutation = true;
  for (size_t i = 0; i < seqs.size(); ++i) permutation = permutation && seqs[i] == static_cast<int64_t>(i);
  std::string detail = "receipt #" + std::to_string(index) + " has seq " + std::to_string(seq) +
                       ", expected " + std::to_string(index);
  return fail(permutation ? Reason::RECEIPT_OUT_OF_ORDER : Reason::RECEIPT_SEQ_GAP, detail);
}

Status check_receipt(const Json& envelope, size_t i, const std::vector<Json>& all,
                     const std::vector<std::string>& trusted, ChainState& chain) {
  std::string where = "receipt #" + std::to_string(i);
  auto verified = verify_receipt(envelope, trusted, where);
  if (!verified.ok()) return verified.error();
  const Json& r = verified->payload;
  if (r["job_id"] != chain.job_id)
    return fail(Reason::RECEIPT_JOB_MISMATCH, where + " belongs to job " + r["job_id"].get<std::string>() +
                                                  ", the bundle to " + chain.job_id);
  int64_t seq = r["seq"].get<int64_t>();
  if (seq != static_cast<int64_t>(i)) return seq_error(all, i, seq);
  Json expected_prev = i == 0 ? Json(nullptr) : Json(policy::sha256_b64u(chain.payload_bytes.back()));
  if (r["prev_receipt_hash_b64u"] != expected_prev)
    return fail(Reason::RECEIPT_CHAIN_BROKEN, where + ": prev_receipt_hash_b64u does not hash receipt #" +
                                                  std::to_string(i == 0 ? 0 : i - 1));
  if (detail::bound_to_job_wpc(r) && r["policy_hash_b64u"] != chain.policy_hash)
    return fail(Reason::RECEIPT_POLICY_MISMATCH, where + " names policy " + r["policy_hash_b64u"].dump() +
                                                     ", the bundled WPC is " + chain.policy_hash);
  chain.payloads.push_back(std::move(verified->payload));
  chain.payload_bytes.push_back(std::move(verified->payload_bytes));
  return ok_status();
}

std::string joined(const std::vector<std::string>& calls) {
  std::string list;
  for (const auto& c : calls) list += (list.empty() ? "" : ", ") + c;
  return list;
}

// Every started call finishes (an interrupted call's `finished` counts), a blocked call never
// runs, nothing happens twice. Lists the calls left unfinished and those interrupted.
Status check_calls(const std::vector<Json>& payloads, Verdict& v) {
  std::map<std::string, std::string> state;  // call_id -> last phase
  std::vector<std::string> order;
  for (size_t i = 0; i < payloads.size(); ++i) {
    const std::string call = payloads[i]["call_id"];
    const std::string phase = payloads[i]["phase"];
    std::string where = "receipt #" + std::to_string(i) + " (call " + call + ")";
    auto it = state.find(call);
    std::string before = it == state.end() ? "" : it->second;
    if (phase == "finished" && before == "blocked")
      return fail(Reason::RECEIPT_BLOCKED_HAS_FINISHED, where + ": a blocked call has a finished receipt");
    if (phase == "finished" && before.empty())
      return fail(Reason::RECEIPT_FINISHED_WITHOUT_STARTED, where + ": finished without started");
    if ((phase == "finished" && before == "finished") || (phase != "finished" && !before.empty()))
      return fail(Reason::RECEIPT_DUPLICATE_CALL, where + ": " + phase + " after " + before);
    if (before.empty()) order.push_back(call);
    if (detail::is_interrupted(payloads[i])) v.interrupted_calls.push_back(call);
    state[call] = phase;
  }
  for (const auto& call : order)
    if (state[call] == "started") v.unfinished_calls.push_back(call);
  if (v.unfinished_calls.empty()) return ok_status();
  return fail(Reason::RECEIPT_UNFINISHED_CALL, "call " + joined(v.unfinished_calls) + " started and never finished");
}

// An interrupted call is accounted for; --strict asks for calls whose ending is known.
Status check_strict(const Verdict& v, const VerifyOptions& options) {
  if (!options.strict || v.interrupted_calls.empty()) return ok_status();
  return fail(Reason::RECEIPT_INTERRUPTED_CALL, "call " + joined(v.interrupted_calls) +
                                                    " was interrupted by the supervisor's death (--strict)");
}

// Model calls (docs/claw-bundles.md): a gateway receipt the bundle carries must check out against
// the job and the trusted gateways; with models.require_gateway_receipts each call has one.
Status check_model_calls(const Json& b, const ChainState& chain, const VerifyOptions& options, Verdict& v) {
  auto job = gateway::job_context(chain.job_id, b["wpc"]["payload"], chain.payloads, chain.payload_bytes,
                                  options.gateway_signers);
  if (!job.ok()) return job.error();
  std::vector<std::string> texts = b.value("gateway_receipts", std::vector<std::string>{});
  auto imported = gateway::check_receipts(texts, *job);
  v.model_calls = static_cast<int64_t>(job->calls.size());
  v.gateway_receipts = static_cast<int64_t>(imported.accepted.size());
  if (!imported.refused.empty()) {
    const auto& r = imported.refused.front();
    return fail(r.reason, "gateway receipt #" + std::to_string(r.index) + " (" + r.receipt_id + "): " + r.detail);
  }
  return gateway::check_coverage(*job, imported);
}

Verdict failed(const Error& e, int64_t receipts = 0) {
  Verdict v;
  v.reason = e.reason;
  v.detail = e.detail;
  v.receipts = receipts;
  return v;
}

}  // namespace

Result<VerifiedReceipt> verify_receipt(const Json& envelope, const std::vector<std::string>& trusted,
                                       const std::string& where) {
  VerifiedReceipt v;
  auto bytes = dsse_verify(envelope, kReceiptPayloadType, trusted, &v.signer_did);
  if (!bytes.ok()) return fail(bytes.reason(), where + ": " + bytes.error().detail);
  auto p = policy::parse_strict_json(*bytes);
  if (!p.ok()) return fail(Reason::RECEIPT_PAYLOAD_INVALID, where + ": " + p.error().detail);
  if (auto s = check_receipt_shape(*p, where); !s.ok()) return s.error();
  v.payload = std::move(*p);
  v.payload_bytes = std::move(*bytes);
  return v;
}

Json Verdict::to_json() const {
  Json j = {{"result", pass ? "PASS" : "FAIL"},
            {"reason_code", std::string(reason_name(reason))},
            {"detail", detail},
            {"receipts", receipts},
            {"unfinished_calls", unfinished_calls},
            {"interrupted_calls", interrupted_calls},
            {"model_calls", model_calls},
            {"gateway_receipts", gateway_receipts}};
  return j;
}

std::string Verdict::line() const {
  if (pass) return "PASS";
  return "FAIL " + std::string(reason_name(reason)) + (detail.empty() ? "" : " " + detail);
}

Verdict verify_bundle(const Json& bundle_envelope, const std::vector<std::string>& trusted,
                      const VerifyOptions& options) {
  if (trusted.empty()) return failed(fail(Reason::TRUST_REQUIRED, "name the supervisor key(s) to trust"));
  auto bundle = open_bundle(bundle_envelope, trusted);
  if (!bundle.ok()) return failed(bundle.error());
  const Json& b = *bundle;
  std::string wpc_signer;
  auto policy_hash = check_wpc(b["wpc"], wpc_signer);
  if (!policy_hash.ok()) return failed(policy_hash.error());
  if (auto s = check_cst(b["cst"]); !s.ok()) return failed(s.error());
  ChainState chain{b["job_id"].get<std::string>(), *policy_hash, {}, {}};
  const auto& receipts = b["receipts"].get_ref<const Json::array_t&>();
  for (size_t i = 0; i < receipts.size(); ++i)
    if (auto s = check_receipt(receipts[i], i, receipts, trusted, chain); !s.ok()) {
      Verdict v = failed(s.error(), static_cast<int64_t>(i));
      v.failed_receipt = static_cast<int64_t>(i);
      return v;
    }
  Verdict v;
  v.receipts = static_cast<int64_t>(receipts.size());
  auto calls = check_calls(chain.payloads, v);
  if (calls.ok()) calls = check_strict(v, options);
  if (calls.ok()) calls = check_model_calls(b, chain, options, v);
  if (!calls.ok()) {
    v.reason = calls.reason();
    v.detail = calls.error().detail;
    return v;
  }
  v.pass = true;
  v.detail = "job " + chain.job_id + ": " + std::to_string(v.receipts) + " receipts, " +
             std::to_string(v.interrupted_calls.size()) + " call(s) interrupted by the supervisor's death, " +
             std::to_string(v.model_calls) + " model call(s) with " + std::to_string(v.gateway_receipts) +
             " gateway receipt(s), policy " +
             *policy_hash + " signed by " + wpc_signer + " (check that you trust this WPC signer)";
  return v;
}

}  // namespace clawjail::receipts
