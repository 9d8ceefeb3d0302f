// The WPC as a whole: its identity (policy_hash_b64u), the signed envelope around it, and the
// dispatch to the two payload shapes. Envelope checks run before the payload is trusted.
#include <ctime>

#include "policy/canonical_json.h"
#include "policy/encoding.h"
#include "policy/fields.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "policy/wpc_parse.h"

namespace clawjail::policy {
namespace {
using namespace fields;

constexpr size_t kMaxPolicyBytes = 1 << 20;
constexpr int kMaxPolicyDepth = 64;

int depth_of(const Json& v) {
  if (!v.is_structured()) return 0;
  int deepest = 0;
  for (const auto& child : v) deepest = std::max(deepest, depth_of(child));
  return deepest + 1;
}

// Documents built in code skip parse_strict_json, so the same limits are enforced again here.
Status check_document(const Json& payload) {
  if (!payload.is_object()) return fail(Reason::WPC_INVALID, "payload: must be an object");
  if (depth_of(payload) > kMaxPolicyDepth) return fail(Reason::DOCUMENT_TOO_DEEP, "payload: deeper than 64 levels");
  if (auto s = no_floats(payload, "payload"); !s) return s;
  if (canonical_json(payload).size() > kMaxPolicyBytes)
    return fail(Reason::DOCUMENT_TOO_LARGE, "payload: larger than 1 MiB");
  return ok_status();
}

// policy_hash_b64u = b64u(SHA-256(JCS(payload without policy_hash))); an embedded policy_hash must
// equal it.
Result<std::string> payload_hash(const Json& payload) {
  Json body = payload;
  body.erase("policy_hash");
  std::string hash = canonical_hash_b64u(body);
  if (!payload.contains("policy_hash")) return hash;
  if (!payload["policy_hash"].is_string()) return fail(Reason::BAD_FIELD, "policy_hash: must be a string");
  auto embedded = normalize_hash_b64u(payload["policy_hash"].get<std::string>());
  if (!embedded) return fail(Reason::BAD_FIELD, "policy_hash: " + embedded.error().detail);
  if (*embedded != hash)
    return fail(Reason::WPC_HASH_MISMATCH, "policy_hash: embedded " + *embedded + " != computed " + hash);
  return hash;
}

bool is_envelope(const Json& j) { return j.is_object() && j.contains("envelope_type"); }

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status check_envelope_shape(const Json& env) {
  if (auto s = require_object(env, "envelope"); !s) return s;
  if (auto s = only_keys(env, {"envelope_version", "envelope_type", "payload", "payload_hash_b64u", "hash_algorithm",
                               "signature_b64u", "algorithm", "signer_did", "issued_at"}, "envelope");
      !s)
    return s;
  if (auto s = require_keys(env, {"envelope_version", "envelope_type", "payload", "payload_hash_b64u",
                                  "hash_algorithm", "signature_b64u", "algorithm", "signer_did", "issued_at"},
                            "envelope");
      !s)
    return s;
  const std::pair<const char*, const char*> constants[] = {{"envelope_version", "1"},
                                                           {"envelope_type", "work_policy_contract"},
                                                           {"hash_algorithm", "SHA-256"},
                                                           {"algorithm", "Ed25519"}};
  for (auto [key, want] : constants)
    if (env[key] != want) return fail(Reason::BAD_FIELD, join("envelope", key) + ": must be \"" + want + "\"");
  for (const char* key : {"payload_hash_b64u", "signature_b64u", "signer_did", "issued_at"})
    if (!env[key].is_string()) return fail(Reason::BAD_FIELD, join("envelope", key) + ": must be a string");
  return ok_status();
}

// Claw's rule: the signature covers the UTF-8 bytes of the payload_hash_b64u string as written.
Status check_signature(const Json& env) {
  const auto& signer = env["signer_did"].get_ref<const std::string&>();
  auto pk = public_key_from_did(signer);
  if (!pk) return fail(Reason::WPC_SIGNATURE_INVALID, "envelope.signer_did: " + pk.error().detail);
  auto sig = b64u_decode(env["signature_b64u"].get<std::string>());
  if (!sig || sig->size() != 64)
    return fail(Reason::WPC_SIGNATURE_INVALID, "envelope.signature_b64u: not 64 bytes of base64url");
  if (!ed25519_verify(*pk, env["payload_hash_b64u"].get<std::string>(), *sig))
    return fail(Reason::WPC_SIGNATURE_INVALID, "envelope.signature_b64u: does not verify for " + signer);
  return ok_status();
}

Status check_signer(const Json& env, const std::vector<std::string>& signers) {
  const auto& signer = env["signer_did"].get_ref<const std::string&>();
  if (std::find(signers.begin(), signers.end(), signer) == signers.end())
    return fail(Reason::WPC_SIGNER_NOT_ALLOWED, "envelope.signer_did: " + signer + " is not a configured WPC signer");
  return ok_status();
}

Status check_payload_hash(const Json& env, const std::string& computed) {
  auto claimed = normalize_hash_b64u(env["payload_hash_b64u"].get<std::string>());
  if (!claimed) return fail(Reason::BAD_FIELD, "envelope.payload_hash_b64u: " + claimed.error().detail);
  if (*claimed != computed)
    return fail(Reason::WPC_HASH_MISMATCH, "envelope.payload_hash_b64u: " + *claimed + " != computed " + computed);
  return ok_status();
}

}  // namespace

Status parse_identity(const Json& p, Policy& out) {
  if (auto s = read_string(p, "policy_id", out.policy_id, ""); !s) return s;
  if (out.policy_id.empty() || out.policy_id.size() > 128)
    return fail(Reason::BAD_FIELD, "policy_id: must be 1 to 128 characters");
  std::string issuer;
  if (auto s = read_string(p, "issuer_did", issuer, ""); !s) return s;
  if (!issuer.starts_with("did:")) return fail(Reason::BAD_FIELD, "issuer_did: must be a DID");
  return ok_status();
}

Result<Policy> parse_wpc_payload(const Json& payload) {
  if (auto s = check_document(payload); !s) return s.error();
  Policy p;
  const bool claw_v1 = payload.contains("policy_version") && payload["policy_version"] == "1";
  Status parsed = payload.contains("wpc_version")      ? parse_wpc_v1(payload, p)
                  : claw_v1                            ? parse_claw_wpc_v1(payload, p)
                  : payload.contains("policy_version") ? parse_wpc_v2(payload, p)
                                                       : fail(Reason::WPC_INVALID, "payload: neither wpc_version \"v1\" "
                                                                                   "nor policy_version \"1\" or \"2\"");
  if (!parsed) return parsed.error();
  auto hash = payload_hash(payload);
  if (!hash) return hash.error();
  p.hash_b64u = *hash;
  p.payload = payload;
  return p;
}

Result<std::string> wpc_hash(const Json& payload_or_envelope) {
  const Json& payload = is_envelope(payload_or_envelope) && payload_or_envelope.contains("payload")
                            ? payload_or_envelope["payload"]
                            : payload_or_envelope;
  auto policy = parse_wpc_payload(payload);
  if (!policy) return policy.error();
  return policy->hash_b64u;
}

Json sign_wpc(const Json& payload, const SecretKey& key) {
  auto hash = payload_hash(payload);
  if (!hash) throw std::invalid_argument("sign_wpc: " + hash.error().detail);
  return Json{{"envelope_version", "1"},
              {"envelope_type", "work_policy_contract"},
              {"payload", payload},
              {"payload_hash_b64u", *hash},
              {"hash_algorithm", "SHA-256"},
              {"signature_b64u", b64u_encode(key.sign(*hash))},
              {"algorithm", "Ed25519"},
              {"signer_did", key.did()},
              {"issued_at", now_rfc3339()}};
}

Result<VerifiedWpc> verify_wpc_envelope(const Json& envelope, const std::vector<std::string>& signers) {
  if (signers.empty()) return fail(Reason::WPC_NO_SIGNERS, "no WPC signers are configured: every WPC is refused");
  if (auto s = check_envelope_shape(envelope); !s) return s.error();
  auto policy = parse_wpc_payload(envelope["payload"]);
  if (!policy) return policy.error();
  if (auto s = check_payload_hash(envelope, policy->hash_b64u); !s) return s.error();
  if (auto s = check_signer(envelope, signers); !s) return s.error();
  if (auto s = check_signature(envelope); !s) return s.error();
  return VerifiedWpc{std::move(policy.value()), envelope, envelope["signer_did"].get<std::string>()};
}

}  // namespace clawjail::policy
