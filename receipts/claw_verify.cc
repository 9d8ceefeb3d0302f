// Offline verification of a proof bundle in Claw Bureau's form (docs/claw-bundles.md): the checks
// Claw's verifier makes, with its reason codes, in its order; then clawjail's own: the signer is a
// trusted supervisor, every call's tool receipt is bound to its event, and, with the native bundle
// written beside it, every event is the receipt it commits to.
#include <set>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/keys.h"
#include "policy/strict_json.h"
#include "receipts/claw_internal.h"
#include "receipts/internal.h"

namespace clawjail::receipts::claw {
using detail::Check;
using detail::Failure;
using detail::failure;

bool detail::signature_ok(const std::string& did, const OJson& sig_b64u, const std::string& message) {
  auto pk = policy::public_key_from_did(did);
  if (!pk.ok() || !sig_b64u.is_string()) return false;
  auto sig = policy::b64u_decode(sig_b64u.get<std::string>());
  return sig.ok() && sig->size() == 64 && policy::ed25519_verify(*pk, message, *sig);
}

namespace {
using detail::signature_ok;

constexpr size_t kMaxBundleBytes = size_t{256} << 20;
constexpr size_t kMaxMetadataBytes = 16 * 1024;

bool is_b64u(const OJson& v, size_t min = 1) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() < min) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

bool is_string(const OJson& obj, const char* key, size_t min = 1) {
  return obj.is_object() && obj.contains(key) && obj[key].is_string() && obj[key].get_ref<const std::string&>().size() >= min;
}

// RFC 3339 date-time as Claw's schemas ask (`format: date-time`): date, 'T', time, zone.
bool is_date_time(const OJson& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() < 20) return false;
  auto digits = [&](size_t at, size_t n) {
    for (size_t i = at; i < at + n; ++i)
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
  };
  if (!digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2) ||
      (s[10] != 'T' && s[10] != 't') || !digits(11, 2) || s[13] != ':' || !digits(14, 2) || s[16] != ':' ||
      !digits(17, 2))
    return false;
  size_t i = 19;
  if (s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) return i + 1 == s.size();
  return i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && digits(i + 1, 2) && s[i + 3] == ':' && digits(i + 4, 2);
}

bool only_keys(const OJson& obj, const std::set<std::string>& allowed) {
  for (const auto& [key, _] : obj.items())
    if (!allowed.count(key)) return false;
  return true;
}

bool has_keys(const OJson& obj, const std::set<std::string>& required) {
  for (const auto& key : required)
    if (!obj.contains(key)) return false;
  return true;
}

Check schema(const std::string& where, const std::string& why) {
  return failure("SCHEMA_VALIDATION_FAILED", where + ": " + why);
}

const std::set<std::string> kEnvelopeKeys = {"envelope_version", "envelope_type", "payload", "payload_hash_b64u",
                                             "hash_algorithm", "signature_b64u", "algorithm", "signer_did", "issued_at"};

// ---- the envelope (Claw's steps 1-9) ----
Check check_envelope(const OJson& env) {
  if (!env.is_object() || !has_keys(env, kEnvelopeKeys))
    return failure("MALFORMED_ENVELOPE", "the envelope lacks required fields");
  if (env["envelope_version"] != "1")
    return failure("UNKNOWN_ENVELOPE_VERSION", "envelope_version " + env["envelope_version"].dump() + " is not \"1\"");
  if (env["envelope_type"] != "proof_bundle")
    return failure("UNKNOWN_ENVELOPE_TYPE", "envelope_type " + env["envelope_type"].dump() + " is not proof_bundle");
  if (env["algorithm"] != "Ed25519") return failure("UNKNOWN_ALGORITHM", "algorithm " + env["algorithm"].dump());
  if (env["hash_algorithm"] != "SHA-256")
    return failure("UNKNOWN_HASH_ALGORITHM", "hash_algorithm " + env["hash_algorithm"].dump() + " is not SHA-256");
  if (!env["signer_did"].is_string() || !env["signer_did"].get<std::string>().starts_with("did:key:z"))
    return failure("INVALID_DID_FORMAT", "signer_did is not a did:key");
  if (!is_date_time(env["issued_at"])) return failure("MALFORMED_ENVELOPE", "issued_at is not a date-time");
  if (!is_b64u(env["payload_hash_b64u"]) || !is_b64u(env["signature_b64u"]))
    return failure("MALFORMED_ENVELOPE", "payload_hash_b64u or signature_b64u is not base64url");
  std::set<std::string> allowed = kEnvelopeKeys;
  allowed.insert("expires_at");
  if (!only_keys(env, allowed)) return schema("envelope", "unknown field");
  if (env.contains("expires_at")) return failure("MALFORMED_ENVELOPE", "clawjail bundles do not expire; expires_at is not checked here");
  return std::nullopt;
}

// ---- the payload's schema (Claw's step 9.75, for the members clawjail reads) ----
Check check_event_shape(const OJson& e, const std::string& where) {
  static const std::set<std::string> keys = {"event_id", "run_id", "event_type", "timestamp", "payload_hash_b64u",
                                             "prev_hash_b64u", "event_hash_b64u"};
  if (!e.is_object() || !has_keys(e, keys) || !only_keys(e, keys)) return schema(where, "not an event header");
  if (!is_string(e, "event_id") || !is_string(e, "run_id") || !is_string(e, "event_type") || !is_date_time(e["timestamp"]) ||
      !is_b64u(e["payload_hash_b64u"], 8) || !is_b64u(e["event_hash_b64u"], 8) ||
      !(e["prev_hash_b64u"].is_null() || is_b64u(e["prev_hash_b64u"], 8)))
    return schema(where, "a field has the wrong type or form");
  return std::nullopt;
}

bool binding_ok(const OJson& p) {
  if (!p.contains("binding")) return true;
  const OJson& b = p["binding"];
  if (!b.is_object()) return false;
  for (const char* key : {"event_hash_b64u", "token_scope_hash_b64u"})
    if (b.contains(key) && !is_b64u(b[key], 8)) return false;
  for (const char* key : {"run_id", "nonce", "policy_hash"})
    if (b.contains(key) && !is_string(b, key)) return false;
  return true;
}

bool tool_payload_v2_ok(const OJson& p) {
  static const std::set<std::string> required = {"receipt_version", "receipt_id", "tool_name", "args_hash_b64u",
                                                 "result_hash_b64u", "hash_algorithm", "agent_did", "timestamp",
                                                 "latency_ms", "args_salt_b64u", "result_salt_b64u"};
  static const std::set<std::string> allowed = {"receipt_version", "receipt_id", "tool_name", "tool_version",
                                                "args_hash_b64u", "result_hash_b64u", "result_status", "hash_algorithm",
                                                "agent_did", "timestamp", "latency_ms", "binding", "args_salt_b64u",
                                                "result_salt_b64u", "args_disclosure", "result_disclosure"};
  static const std::set<std::string> statuses = {"success", "error", "timeout"};
  if (!p.is_object() || !has_keys(p, required) || !only_keys(p, allowed) || p["receipt_version"] != "2") return false;
  if (p.contains("args_disclosure") || p.contains("result_disclosure")) return false;  // not produced, not checked
  return is_string(p, "receipt_id") && is_string(p, "tool_name") && is_b64u(p["args_hash_b64u"], 8) &&
         is_b64u(p["result_hash_b64u"], 8) && is_b64u(p["args_salt_b64u"], 8) && is_b64u(p["result_salt_b64u"], 8) &&
         (p["hash_algorithm"] == "SHA-256" || p["hash_algorithm"] == "BLAKE3") && is_string(p, "agent_did") &&
         p["agent_did"].get<std::string>().starts_with("did:") && is_date_time(p["timestamp"]) &&
         p["latency_ms"].is_number() && p["latency_ms"] >= 0 &&
         (!p.contains("result_status") || (p["result_status"].is_string() && statuses.count(p["result_status"]))) &&
         (!p.contains("tool_version") || p["tool_version"].is_string()) && binding_ok(p);
}

bool tool_payload_v1_ok(const OJson& p) {
  static const std::set<std::string> required = {"receipt_version", "receipt_id", "tool_name", "hash_algorithm",
                                                 "agent_did", "timestamp"};
  static const std::set<std::string> allowed = {"receipt_version", "receipt_id", "tool_name", "tool_version",
                                                "args_hash_b64u", "args_digest", "result_hash_b64u", "result_digest",
                                                "result_status", "hash_algorithm", "duration_ms", "latency_ms",
                                                "agent_did", "timestamp", "binding"};
  return p.is_object() && has_keys(p, required) && only_keys(p, allowed) && p["receipt_version"] == "1" &&
         is_string(p, "receipt_id") &&
         is_string(p, "tool_name") && (p["hash_algorithm"] == "SHA-256" || p["hash_algorithm"] == "BLAKE3") &&
         is_string(p, "agent_did") && is_date_time(p["timestamp"]) && binding_ok(p);
}

bool signed_envelope_shape(const OJson& env, const char* type, const std::set<std::string>& extra) {
  std::set<std::string> allowed = kEnvelopeKeys;
  allowed.insert(extra.begin(), extra.end());
  return env.is_object() && has_keys(env, kEnvelopeKeys) && only_keys(env, allowed) && env["envelope_type"] == type &&
         env["algorithm"] == "Ed25519" && (env["hash_algorithm"] == "SHA-256" || env["hash_algorithm"] == "BLAKE3") &&
         is_b64u(env["payload_hash_b64u"], 8) && is_b64u(env["signature_b64u"], 8) && is_string(env, "signer_did") &&
         env["signer_did"].get<std::string>().starts_with("did:") && is_date_time(env["issued_at"]);
}

bool tool_receipt_ok(const OJson& t) {
  if (t.is_object() && t.contains("envelope_type")) {
    // expires_at and co_signatures are not checked here, so they are not accepted either.
    if (t["envelope_version"] == "2") return signed_envelope_shape(t, "tool_receipt", {}) && tool_payload_v2_ok(t["payload"]);
    return t["envelope_version"] == "1" && signed_envelope_shape(t, "tool_receipt", {}) &&
           tool_payload_v1_ok(t["payload"]);
  }
  return tool_payload_v2_ok(t) || tool_payload_v1_ok(t);
}

bool gateway_receipt_ok(const OJson& r) {
  static const std::set<std::string> required = {"receipt_version", "receipt_id", "gateway_id", "provider", "model",
                                                 "request_hash_b64u", "response_hash_b64u", "tokens_input",
                                                 "tokens_output", "latency_ms", "timestamp"};
  std::set<std::string> allowed = required;
  allowed.insert("binding");
  if (!signed_envelope_shape(r, "gateway_receipt", {}) || r["envelope_version"] != "1") return false;
  const OJson& p = r["payload"];
  return p.is_object() && has_keys(p, required) && only_keys(p, allowed) && p["receipt_version"] == "1" &&
         is_b64u(p["request_hash_b64u"], 8) && is_b64u(p["response_hash_b64u"], 8) && is_date_time(p["timestamp"]) &&
         binding_ok(p);
}

bool side_effect_ok(const OJson& r) {
  static const std::set<std::string> classes = {"network_egress", "filesystem_write", "external_api_write"};
  return r.is_object() && has_keys(r, {"receipt_version", "receipt_id", "effect_class", "hash_algorithm", "agent_did", "timestamp"}) &&
         r["receipt_version"] == "1" && is_string(r, "receipt_id") && r["effect_class"].is_string() &&
         classes.count(r["effect_class"]) && (r["hash_algorithm"] == "SHA-256" || r["hash_algorithm"] == "BLAKE3") &&
         is_string(r, "agent_did") && is_date_time(r["timestamp"]);
}

bool human_approval_ok(const OJson& r) {
  static const std::set<std::string> types = {"explicit_approve", "explicit_deny", "auto_approve", "timeout_deny"};
  return r.is_object() && has_keys(r, {"receipt_version", "receipt_id", "approval_type", "agent_did", "timestamp"}) &&
         r["receipt_version"] == "1" && is_string(r, "receipt_id") && r["approval_type"].is_string() &&
         types.count(r["approval_type"]) && is_string(r, "agent_did") && is_date_time(r["timestamp"]);
}

using ItemCheck = bool (*)(const OJson&);

Check check_items(const OJson& p, const char* member, ItemCheck ok, size_t min_items) {
  if (!p.contains(member)) return std::nullopt;
  const OJson& list = p[member];
  if (!list.is_array() || list.size() < min_items) return schema(std::string("payload.") + member, "not an array of at least " + std::to_string(min_items));
  if (list.size() > kMaxEventsPerBundle) return failure("MALFORMED_ENVELOPE", std::string("payload.") + member + " holds more than 1000 entries");
  for (size_t i = 0; i < list.size(); ++i)
    if (!ok(list[i])) return schema("payload." + std::string(member) + "[" + std::to_string(i) + "]", "does not match its schema");
  return std::nullopt;
}

Check check_payload_schema(const OJson& p) {
  // Members of Claw's proof_bundle schema that clawjail neither writes nor checks are refused
  // rather than passed unread.
  static const std::set<std::string> allowed = {"bundle_version", "bundle_id", "agent_did", "event_chain", "receipts",
                                                "tool_receipts", "side_effect_receipts", "human_approval_receipts",
                                                "metadata"};
  if (!p.is_object()) return schema("payload", "not an object");
  for (const auto& [key, _] : p.items())
    if (!allowed.count(key)) return schema("payload", "member " + key + " is outside what clawjail verifies");
  if (p.contains("metadata") && !p["metadata"].is_object()) return schema("payload.metadata", "not an object");
  if (auto c = check_items(p, "event_chain", [](const OJson& e) { return !check_event_shape(e, "").has_value(); }, 1)) return c;
  if (auto c = check_items(p, "receipts", gateway_receipt_ok, 1)) return c;
  if (auto c = check_items(p, "tool_receipts", tool_receipt_ok, 0)) return c;
  if (auto c = check_items(p, "side_effect_receipts", side_effect_ok, 0)) return c;
  if (auto c = check_items(p, "human_approval_receipts", human_approval_ok, 0)) return c;
  if (p["bundle_version"] != "1" || !is_string(p, "bundle_id") || !is_string(p, "agent_did") ||
      !p["agent_did"].get<std::string>().starts_with("did:"))
    return failure("MALFORMED_ENVELOPE", "bundle_version, bundle_id or agent_did is missing or malformed");
  if (!p.contains("event_chain") && !p.contains("receipts"))
    return failure("MALFORMED_ENVELOPE", "the bundle holds neither an event chain nor receipts");
  if (p.contains("metadata") && stringify(p["metadata"]).size() > kMaxMetadataBytes)
    return failure("MALFORMED_ENVELOPE", "payload.metadata exceeds 16 KiB");
  return std::nullopt;
}

// ---- signature (Claw's steps 11-14) ----
Check check_signature(const OJson& env) {
  const OJson& p = env["payload"];
  if (!p["agent_did"].get<std::string>().starts_with("did:key:z"))
    return failure("INVALID_DID_FORMAT", "agent_did is not a did:key");
  if (p.contains("event_chain")) {
    std::set<std::string> ids;
    for (const auto& e : p["event_chain"])
      if (!ids.insert(e["event_id"].get<std::string>()).second)
        return failure("MALFORMED_ENVELOPE", "event_id " + e["event_id"].get<std::string>() + " appears twice");
  }
  if (env["signer_did"] != p["agent_did"]) return failure("INVALID_DID_FORMAT", "signer_did is not payload.agent_did");
  if (stringify_hash_b64u(p) != env["payload_hash_b64u"])
    return failure("HASH_MISMATCH", "payload_hash_b64u is not the SHA-256 of the payload");
  if (!signature_ok(env["signer_did"].get<std::string>(), env["signature_b64u"], env["payload_hash_b64u"].get<std::string>()))
    return failure("SIGNATURE_INVALID", "the signature does not verify under signer_did");
  return std::nullopt;
}

// ---- the event chain (Claw's step 15) ----
Check check_chain(const OJson& chain) {
  OJson prev = nullptr;
  for (size_t i = 0; i < chain.size(); ++i) {
    const OJson& e = chain[i];
    std::string where = "event " + std::to_string(i);
    if (e["run_id"] != chain[0]["run_id"]) return failure("MALFORMED_ENVELOPE", where + ": inconsistent run_id");
    if (i == 0 ? !e["prev_hash_b64u"].is_null() : e["prev_hash_b64u"] != prev)
      return failure("MALFORMED_ENVELOPE", where + ": hash chain break");
    OJson header;
    for (const char* key : {"event_id", "run_id", "event_type", "timestamp", "payload_hash_b64u", "prev_hash_b64u"})
      header[key] = e[key];
    if (stringify_hash_b64u(header) != e["event_hash_b64u"])
      return failure("HASH_MISMATCH", where + ": event_hash_b64u is not the hash of its header");
    prev = e["event_hash_b64u"];
  }
  return std::nullopt;
}

struct Bound {
  std::string run_id;
  std::set<std::string> event_hashes;
};

Check check_binding(const OJson& payload, const std::optional<Bound>& bound, const std::string& where) {
  if (!bound || !payload.contains("binding")) return std::nullopt;
  const OJson& b = payload["binding"];
  if (b.contains("run_id") && b["run_id"] != bound->run_id)
    return failure("RECEIPT_BINDING_MISMATCH", where + ": binding.run_id is not the bundle's run");
  if (b.contains("event_hash_b64u") && !bound->event_hashes.count(b["event_hash_b64u"].get<std::string>()))
    return failure("RECEIPT_BINDING_MISMATCH", where + ": binding.event_hash_b64u names no event of the bundle");
  return std::nullopt;
}

Check check_signed_entry(const OJson& env, const std::string& where) {
  if (env["hash_algorithm"] != "SHA-256") return failure("UNKNOWN_HASH_ALGORITHM", where + ": hash_algorithm");
  if (stringify_hash_b64u(env["payload"]) != env["payload_hash_b64u"])
    return failure("HASH_MISMATCH", where + ": payload_hash_b64u is not the hash of its payload");
  if (!signature_ok(env["signer_did"].get<std::string>(), env["signature_b64u"], env["payload_hash_b64u"].get<std::string>()))
    return failure("SIGNATURE_INVALID", where + ": signature does not verify under its signer_did");
  return std::nullopt;
}

// Gateway receipts: their own hash and signature, bound to this run and one of its events.
// Whose gateway signed them is not judged here (no gateway allowlist yet).
Check check_gateway_receipts(const OJson& p, const std::optional<Bound>& bound) {
  if (!p.contains("receipts")) return std::nullopt;
  for (size_t i = 0; i < p["receipts"].size(); ++i) {
    const OJson& r = p["receipts"][i];
    std::string where = "receipts[" + std::to_string(i) + "]";
    if (auto c = check_signed_entry(r, where)) return c;
    if (!bound || !r["payload"].contains("binding"))
      return failure("RECEIPT_BINDING_MISMATCH", where + ": not bound to the bundle's event chain");
    if (auto c = check_binding(r["payload"], bound, where)) return c;
  }
  return std::nullopt;
}

Check check_tool_receipts(const OJson& p, const std::optional<Bound>& bound) {
  if (!p.contains("tool_receipts")) return std::nullopt;
  for (size_t i = 0; i < p["tool_receipts"].size(); ++i) {
    const OJson& t = p["tool_receipts"][i];
    const OJson& tp = t.contains("envelope_type") ? t["payload"] : t;
    std::string where = "tool_receipts[" + std::to_string(i) + "]";
    if (tp["agent_did"] != p["agent_did"]) return failure("PROOF_BUNDLE_AGENT_MISMATCH", where + ": agent_did is not the bundle's");
    if (auto c = check_binding(tp, bound, where)) return c;
    if (t.contains("envelope_type"))
      if (auto c = check_signed_entry(t, where)) return c;
  }
  return std::nullopt;
}

Check check_other_receipts(const OJson& p) {
  for (const char* member : {"side_effect_receipts", "human_approval_receipts"}) {
    if (!p.contains(member)) continue;
    for (size_t i = 0; i < p[member].size(); ++i)
      if (p[member][i]["agent_did"] != p["agent_did"])
        return failure("PROOF_BUNDLE_AGENT_MISMATCH", std::string(member) + "[" + std::to_string(i) + "]: agent_did is not the bundle's");
  }
  return std::nullopt;
}

// Claw's own checks, in Claw's order.
Check check_claw(const OJson& env, std::optional<Bound>& bound) {
  if (auto c = check_envelope(env)) return c;
  if (auto c = check_payload_schema(env["payload"])) return c;
  if (auto c = check_signature(env)) return c;
  const OJson& p = env["payload"];
  if (p.contains("event_chain")) {
    if (auto c = check_chain(p["event_chain"])) return c;
    bound = Bound{p["event_chain"][0]["run_id"].get<std::string>(), {}};
    for (const auto& e : p["event_chain"]) bound->event_hashes.insert(e["event_hash_b64u"].get<std::string>());
  }
  if (auto c = check_gateway_receipts(p, bound)) return c;
  if (auto c = check_tool_receipts(p, bound)) return c;
  return check_other_receipts(p);
}

}  // namespace

bool detail::gateway_receipt_shape_ok(const OJson& envelope) { return gateway_receipt_ok(envelope); }
detail::Check detail::signed_entry_ok(const OJson& envelope, const std::string& where) {
  return check_signed_entry(envelope, where);
}

ClawVerdict verify_claw_bundle(std::string_view text, const ClawVerifyOptions& options) {
  ClawVerdict v;
  auto fail_with = [&](const Failure& f) {
    v.code = f.code;
    v.detail = f.detail;
    return v;
  };
  policy::JsonLimits limits;
  limits.max_bytes = kMaxBundleBytes;
  auto strict = policy::parse_strict_json(text, limits);  // duplicates, depth, floats: refused
  if (!strict.ok()) return fail_with({"MALFORMED_ENVELOPE", std::string(reason_name(strict.reason())) + ": " + strict.error().detail});
  // The checks read only what the schema checks established; a member of a type no check
  // foresaw still fails closed here rather than ending the process.
  try {
    OJson env = OJson::parse(text);  // the same document, in its own member order
    std::optional<Bound> bound;
    if (auto c = check_claw(env, bound)) return fail_with(*c);
    if (auto c = detail::check_clawjail(env, options, v.native_checked)) return fail_with(*c);
    v.pass = true;
    v.rules_only = !options.require_trusted_signer;
    v.signer = env["signer_did"].get<std::string>();
    v.events = env["payload"].value("event_chain", OJson::array()).size();
    v.tool_receipts = env["payload"].value("tool_receipts", OJson::array()).size();
    v.gateway_receipts = env["payload"].value("receipts", OJson::array()).size();
    return v;
  } catch (const std::exception& e) {
    v.pass = false;
    return fail_with({"MALFORMED_ENVELOPE", std::string("a member has an unexpected type or value: ") + e.what()});
  }
}

}  // namespace clawjail::receipts::claw
