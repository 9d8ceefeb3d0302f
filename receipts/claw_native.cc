// clawjail's own checks of a Claw-form bundle it exported (docs/claw-bundles.md), after Claw's:
// a trusted supervisor signed it, every call that ended has exactly one tool receipt bound to the
// event of its ending, and, given the native bundle written beside it, every event commits to the
// native receipt it names and every tool receipt follows from the native receipts.
#include <algorithm>
#include <map>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "receipts/claw_internal.h"
#include "receipts/internal.h"

namespace clawjail::receipts::claw {
namespace {

using detail::Check;
using detail::failure;

// An exported (ordered) value against a native one: compared as one JSON type, which clang needs
// to pick a single operator.
bool same(const OJson& exported, const Json& native) { return Json(exported) == native; }

Check check_signer(const OJson& env, const ClawVerifyOptions& o) {
  if (!o.require_trusted_signer) return std::nullopt;
  if (o.trusted.empty()) return failure("TRUST_REQUIRED", "name the supervisor key(s) to trust");
  for (const auto& did : o.trusted)
    if (env["signer_did"] == did) return std::nullopt;
  return failure("BUNDLE_UNTRUSTED_KEY", "signed by " + env["signer_did"].get<std::string>() + ", not a trusted supervisor key");
}

// A gateway receipt counts only when its gateway is one the auditor trusts (Claw's verifier has
// already checked its hash, signature and binding to this run's events).
Check check_gateway_signers(const OJson& p, const ClawVerifyOptions& o) {
  for (const auto& r : p.value("receipts", OJson::array())) {
    const auto& s = o.gateway_signers;
    if (std::find(s.begin(), s.end(), r["signer_did"].get<std::string>()) == s.end())
      return failure("GATEWAY_SIGNER_NOT_ALLOWED", "gateway receipt " + r["payload"]["receipt_id"].dump() + " is signed by " +
                                                       r["signer_did"].get<std::string>() + ", not a trusted gateway (--gateway-signer)");
  }
  return std::nullopt;
}

// Each ending event (blocked, finished) has exactly one tool receipt, signed by the bundle's
// signer, bound to it and named after it; a started event has none.
Check check_calls_covered(const OJson& p, const std::string& signer) {
  std::map<std::string, const OJson*> by_hash;
  for (const auto& e : p["event_chain"]) by_hash[e["event_hash_b64u"].get<std::string>()] = &e;
  std::map<std::string, int> covered;
  const OJson tools = p.value("tool_receipts", OJson::array());
  for (size_t i = 0; i < tools.size(); ++i) {
    const OJson& t = tools[i];
    std::string where = "tool_receipts[" + std::to_string(i) + "]";
    if (t.value("envelope_version", "") != "2" || t["signer_did"] != signer)
      return failure("BUNDLE_MALFORMED", where + " is not a v2 envelope signed by the bundle's signer");
    const OJson& b = t["payload"].value("binding", OJson());
    auto it = b.is_object() && b.contains("event_hash_b64u") ? by_hash.find(b["event_hash_b64u"].get<std::string>()) : by_hash.end();
    if (it == by_hash.end() || b.value("run_id", "") != p["event_chain"][0]["run_id"])
      return failure("RECEIPT_BINDING_MISMATCH", where + " is not bound to an event of this run");
    const OJson& e = *it->second;
    if (e["event_type"] == "clawjail.started" || t["payload"]["receipt_id"] != e["event_id"])
      return failure("RECEIPT_BINDING_MISMATCH", where + " is bound to event " + e["event_id"].get<std::string>() + ", not its call's ending");
    if (++covered[e["event_id"].get<std::string>()] > 1)
      return failure("RECEIPT_DUPLICATE_CALL", where + ": a second tool receipt for event " + e["event_id"].get<std::string>());
  }
  for (const auto& e : p["event_chain"])
    if (e["event_type"] != "clawjail.started" && !covered.count(e["event_id"].get<std::string>()))
      return failure("RECEIPT_BINDING_MISMATCH", "event " + e["event_id"].get<std::string>() + " ends a call and has no tool receipt");
  return std::nullopt;
}

// As the native verifier judges calls: the job's last part lists no unfinished call, and with
// --strict no call was interrupted by the supervisor's death.
Check check_endings(const OJson& p, const OJson& md, const ClawVerifyOptions& o) {
  const OJson unfinished = md.value("unfinished_calls", OJson::array());
  if (md.value("part", 0) == md.value("parts", -1) && !unfinished.empty())
    return failure("RECEIPT_UNFINISHED_CALL", "call " + unfinished[0].dump() + " started and never finished");
  if (o.strict)
    for (const auto& e : p["event_chain"])
      if (e["event_type"] == "clawjail.finished.interrupted")
        return failure("RECEIPT_INTERRUPTED_CALL", "event " + e["event_id"].get<std::string>() +
                                                       " ends a call interrupted by the supervisor's death (--strict)");
  return std::nullopt;
}

struct Native {
  std::vector<std::string> unfinished;  // calls started and not finished in the native bundle
  Json payload;
  std::vector<Json> receipts;
  std::vector<std::string> bytes;
};

Result<Native> open_native(const std::string& text, const ClawVerifyOptions& o) {
  policy::JsonLimits limits;
  limits.max_bytes = size_t{256} << 20;
  auto env = policy::parse_strict_json(text, limits);
  if (!env.ok()) return fail(Reason::BUNDLE_MALFORMED, "native bundle: " + env.error().detail);
  auto verdict = verify_bundle(*env, o.trusted, {.strict = o.strict, .gateway_signers = o.gateway_signers});
  if (!verdict.pass && verdict.reason != Reason::RECEIPT_UNFINISHED_CALL)
    return fail(verdict.reason, "native bundle: " + verdict.detail);
  Native n;
  n.unfinished = verdict.unfinished_calls;
  n.payload = Json::parse(*receipts::detail::dsse_payload(*env));
  for (const auto& r : n.payload["receipts"]) {
    n.bytes.push_back(*receipts::detail::dsse_payload(r));
    n.receipts.push_back(Json::parse(n.bytes.back()));
  }
  return n;
}

Check check_event_is_receipt(const OJson& e, const Json& r, const std::string& bytes, size_t seq) {
  std::string where = "event " + e["event_id"].get<std::string>() + " (seq " + std::to_string(seq) + ")";
  if (e["payload_hash_b64u"] != policy::sha256_b64u(bytes))
    return failure("HASH_MISMATCH", where + ": payload_hash_b64u is not the hash of native receipt seq " + std::to_string(seq));
  if (!same(e["event_id"], r["receipt_id"]) || !same(e["timestamp"], r["timestamp"]) || e["event_type"] != event_type_of(r))
    return failure("RECEIPT_BINDING_MISMATCH", where + ": id, time or type differ from the native receipt");
  return std::nullopt;
}

Check check_tool_is_receipt(const OJson& t, const Json& r) {
  const OJson& p = t["payload"];
  std::string where = "tool receipt " + p["receipt_id"].get<std::string>();
  if (p["args_hash_b64u"] != args_hash_b64u(p["args_salt_b64u"].get<std::string>(), r) ||
      p["result_hash_b64u"] != result_hash_b64u(p["result_salt_b64u"].get<std::string>(), r))
    return failure("HASH_MISMATCH", where + ": its salted hashes do not follow from the native receipt");
  const OJson& b = p["binding"];
  bool policy_ok = r["policy_hash_b64u"].is_string() ? b.value("policy_hash", "") == r["policy_hash_b64u"] : !b.contains("policy_hash");
  bool scope_ok = r["token_scope_hash_b64u"].is_string() ? b.value("token_scope_hash_b64u", "") == r["token_scope_hash_b64u"]
                                                          : !b.contains("token_scope_hash_b64u");
  if (!same(p["tool_name"], r["tool"]) || !policy_ok || !scope_ok)
    return failure("RECEIPT_BINDING_MISMATCH", where + ": tool, policy or token scope differ from the native receipt");
  return std::nullopt;
}

Check check_native(const OJson& p, const OJson& md, const std::string& text, const ClawVerifyOptions& o) {
  auto native = open_native(text, o);
  if (!native.ok()) return failure(std::string(reason_name(native.reason())), native.error().detail);
  if (md.value("part", 0) == md.value("parts", -1) && !native->unfinished.empty())
    return failure("RECEIPT_UNFINISHED_CALL", "native bundle: call " + native->unfinished.front() + " started and never finished");
  if (md.value("native_bundle_sha256_b64u", "") != policy::sha256_b64u(text))
    return failure("HASH_MISMATCH", "the native bundle is not the one this export names (native_bundle_sha256_b64u)");
  if (!same(p["event_chain"][0]["run_id"], native->payload["job_id"]))
    return failure("RECEIPT_JOB_MISMATCH", "the native bundle is for job " + native->payload["job_id"].dump());
  const OJson& chain = p["event_chain"];
  size_t first = md.value("first_seq", size_t{0});
  bool last = md.value("part", 0) == md.value("parts", -1);
  if (first + chain.size() > native->receipts.size() || (last && first + chain.size() != native->receipts.size()))
    return failure("RECEIPT_SEQ_GAP", "the events do not cover native receipts " + std::to_string(first) + "..");
  std::map<std::string, size_t> seq_of;
  for (size_t i = 0; i < chain.size(); ++i) {
    if (auto c = check_event_is_receipt(chain[i], native->receipts[first + i], native->bytes[first + i], first + i)) return c;
    seq_of[chain[i]["event_id"].get<std::string>()] = first + i;
  }
  for (const auto& t : p.value("tool_receipts", OJson::array()))
    if (auto c = check_tool_is_receipt(t, native->receipts[seq_of.at(t["payload"]["receipt_id"].get<std::string>())])) return c;
  // The native verifier checked the bundle's gateway receipts against the job; these are them.
  const auto carried = native->payload.value("gateway_receipts", std::vector<std::string>{});
  for (const auto& r : p.value("receipts", OJson::array()))
    if (std::find(carried.begin(), carried.end(), stringify(r)) == carried.end())
      return failure("GATEWAY_RECEIPT_INVALID", "gateway receipt " + r["payload"]["receipt_id"].dump() +
                                                    " is not one the native bundle carries");
  return std::nullopt;
}

}  // namespace

Check detail::check_clawjail(const OJson& env, const ClawVerifyOptions& o, bool& native_checked) {
  if (auto c = check_signer(env, o)) return c;
  const OJson& p = env["payload"];
  const OJson md = p.value("metadata", OJson::object()).value("clawjail", OJson());
  if (!md.is_object() || md.value("form", "") != "clawjail-claw-v1") {
    if (!o.require_trusted_signer) return std::nullopt;  // a Claw bundle from elsewhere: Claw's checks only
    return failure("BUNDLE_MALFORMED", "metadata.clawjail does not name the form clawjail-claw-v1");
  }
  if (!p.contains("event_chain") || md.value("job_id", "") != p["event_chain"][0]["run_id"])
    return failure("BUNDLE_MALFORMED", "a clawjail export holds one job's event chain");
  if (auto c = check_gateway_signers(p, o)) return c;
  if (auto c = check_calls_covered(p, env["signer_did"].get<std::string>())) return c;
  if (auto c = check_endings(p, md, o)) return c;
  if (!o.native_bundle_text) return std::nullopt;
  native_checked = true;
  return check_native(p, md, *o.native_bundle_text, o);
}

bool looks_like_claw(const Json& document) {
  return document.is_object() && document.contains("envelope_version") && document.contains("payload") &&
         !document.contains("payloadType");
}

std::string ClawVerdict::line() const {
  if (!pass) return "FAIL " + code + (detail.empty() ? "" : " " + detail);
  std::string what = rules_only ? "Claw's rules only, signer " + signer + " not judged"
                    : native_checked ? "signed by trusted " + signer + ", each event checked against the native bundle"
                                     : "signed by trusted " + signer + ", native bundle not checked";
  return "PASS (Claw proof_bundle form: " + std::to_string(events) + " events, " + std::to_string(tool_receipts) +
         " tool receipts, " + std::to_string(gateway_receipts) + " gateway receipts; " + what + ")";
}

Json ClawVerdict::to_json() const {
  return {{"result", pass ? "PASS" : "FAIL"}, {"form", "claw"},       {"reason_code", code},
          {"detail", detail},                 {"events", events},     {"tool_receipts", tool_receipts},
          {"native_checked", native_checked}, {"rules_only", rules_only}, {"gateway_receipts", gateway_receipts},
          {"signer_did", signer}};
}

}  // namespace clawjail::receipts::claw
