// DSSE envelopes (docs/formats.md §4): the signature covers PAE(type, payload) and the payload bytes
// are carried, hashed and verified exactly as signed — never re-serialised.
#include <algorithm>

#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "receipts/internal.h"

namespace clawjail::receipts {

std::string pae(std::string_view type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(type.size());
  out += ' ';
  out += type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

Json dsse_sign(const policy::SecretKey& key, std::string_view type, std::string_view payload) {
  Json signature = {{"keyid", key.did()}, {"sig", policy::b64u_encode(key.sign(pae(type, payload)))}};
  return Json{{"payloadType", std::string(type)},
              {"payload", policy::b64_encode(payload)},
              {"signatures", Json::array({signature})}};
}

namespace detail {
namespace {

bool is_string_field(const Json& obj, const char* key) {
  return obj.contains(key) && obj.at(key).is_string();
}

DsseCheck failed(DsseFailure why, std::string detail) {
  DsseCheck c;
  c.failure = why;
  c.detail = std::move(detail);
  return c;
}

// Outcome of one signature against the trust list: nullopt when its key is not trusted.
std::optional<bool> check_signature(const Json& sig, const std::string& message,
                                    const std::vector<std::string>& trusted, std::string& detail) {
  if (!sig.is_object() || !is_string_field(sig, "keyid") || !is_string_field(sig, "sig")) {
    detail = "a signature lacks keyid or sig";
    return false;
  }
  const auto& keyid = sig.at("keyid").get_ref<const std::string&>();
  if (std::find(trusted.begin(), trusted.end(), keyid) == trusted.end()) return std::nullopt;
  auto pk = policy::public_key_from_did(keyid);
  auto raw = policy::b64u_decode(sig.at("sig").get_ref<const std::string&>());
  if (!pk.ok() || !raw.ok() || raw->size() != 64) {
    detail = "signature by " + keyid + " is not a 64-byte base64url Ed25519 signature";
    return false;
  }
  if (!policy::ed25519_verify(*pk, message, *raw)) {
    detail = "signature by " + keyid + " does not verify";
    return false;
  }
  return true;
}

}  // namespace

Result<std::string> dsse_payload(const Json& envelope) {
  if (!envelope.is_object() || !is_string_field(envelope, "payload"))
    return fail(Reason::RECEIPT_PAYLOAD_INVALID, "not a DSSE envelope (no payload)");
  auto bytes = policy::b64_decode(envelope.at("payload").get_ref<const std::string&>());
  if (!bytes.ok()) return fail(Reason::RECEIPT_PAYLOAD_INVALID, "payload is not base64");
  return bytes;
}

DsseCheck dsse_check(const Json& envelope, std::string_view type,
                     const std::vector<std::string>& trusted) {
  if (!envelope.is_object() || !is_string_field(envelope, "payloadType") ||
      !envelope.contains("signatures") || !envelope.at("signatures").is_array())
    return failed(DsseFailure::malformed, "not a DSSE envelope");
  for (const auto& [key, _] : envelope.items())
    if (key != "payloadType" && key != "payload" && key != "signatures")
      return failed(DsseFailure::malformed, "unknown envelope field " + key);
  if (envelope.at("payloadType").get_ref<const std::string&>() != type)
    return failed(DsseFailure::wrong_type, "payloadType is not " + std::string(type));
  auto payload = dsse_payload(envelope);
  if (!payload.ok()) return failed(DsseFailure::malformed, payload.error().detail);
  std::string message = pae(type, *payload);
  std::string bad;
  for (const auto& sig : envelope.at("signatures")) {
    auto verdict = check_signature(sig, message, trusted, bad);
    if (verdict == true) {
      DsseCheck c;
      c.payload = std::move(*payload);
      c.keyid = sig.at("keyid").get<std::string>();
      return c;
    }
  }
  // A failing signature that claims a trusted key says more than "nobody we trust signed".
  if (!bad.empty()) return failed(DsseFailure::bad_signature, bad);
  std::string signers;
  for (const auto& sig : envelope.at("signatures"))
    if (sig.is_object() && is_string_field(sig, "keyid"))
      signers += (signers.empty() ? "" : ",") + sig.at("keyid").get<std::string>();
  return failed(DsseFailure::untrusted_key,
                "signed by " + (signers.empty() ? std::string("nobody") : signers) +
                    ", none of them trusted");
}

}  // namespace detail

Result<std::string> dsse_verify(const Json& envelope, std::string_view type,
                                const std::vector<std::string>& trusted, std::string* signer) {
  if (trusted.empty()) return fail(Reason::TRUST_REQUIRED, "no trusted key given");
  auto c = detail::dsse_check(envelope, type, trusted);
  switch (c.failure) {
    case detail::DsseFailure::none:
      if (signer) *signer = c.keyid;
      return std::move(c.payload);
    case detail::DsseFailure::malformed:
    case detail::DsseFailure::wrong_type: return fail(Reason::RECEIPT_PAYLOAD_INVALID, c.detail);
    case detail::DsseFailure::untrusted_key: return fail(Reason::RECEIPT_UNTRUSTED_KEY, c.detail);
    case detail::DsseFailure::bad_signature: return fail(Reason::RECEIPT_SIGNATURE_INVALID, c.detail);
  }
  return fail(Reason::INTERNAL_ERROR, "unreachable");
}

}  // namespace clawjail::receipts
