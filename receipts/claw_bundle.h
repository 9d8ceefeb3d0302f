// A job's evidence in Claw Bureau's `proof_bundle` form (docs/claw-bundles.md), built from the
// same receipts as the native bundle, and its offline verification.
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "receipts/receipts.h"

namespace clawjail::receipts::claw {

// Claw's documents are hashed as JSON.stringify writes them: members in document order, so they
// are built and read as ordered JSON, never re-sorted.
using OJson = nlohmann::ordered_json;

// Claw's verifier refuses a bundle with more events (or tool receipts) than this: a longer job
// is exported as several bundles, each a chain of its own, linked through their metadata.
inline constexpr size_t kMaxEventsPerBundle = 1000;

// JSON.stringify's bytes for a document of strings, integers, booleans, null, arrays and objects.
std::string stringify(const OJson& value);
std::string stringify_hash_b64u(const OJson& value);  // SHA-256 of stringify(), base64url

struct ExportedClaw {
  std::vector<OJson> parts;  // signed proof_bundle envelopes, in chain order
  Json wpc;                  // the job's signed WPC envelope (Claw's payload has no room for it)
};
struct ClawExportOptions {
  std::string job_id;
  std::string native_bundle_file;     // file name of the native bundle written beside the parts
  std::string native_bundle_sha256;   // SHA-256 (base64url) of that file's bytes
  std::string wpc_file;               // file name of the WPC envelope written beside the parts
  std::string created_at;             // the export's time, RFC 3339
  std::string harness_version;        // clawjail's version, for metadata.harness
  size_t max_events = kMaxEventsPerBundle;  // per part (tests use smaller parts)
  // The gateways whose receipts the native bundle's `gateway_receipts` were checked against;
  // each goes in the `receipts` of the part holding the model call's event.
  std::vector<std::string> gateway_signers;
};
// The receipts of `native` (the job's native bundle, export_bundle()) as Claw proof bundles
// signed by `key`. Refused unless `native` verifies under that key (a running job's unfinished
// calls excepted: they are listed in the last part's metadata).
Result<ExportedClaw> export_claw(const Json& native, const policy::SecretKey& key, const ClawExportOptions& options);

std::string now_rfc3339();  // with milliseconds, 'Z'

// Claw's name for how a receipt ended, carried in its event's event_type.
std::string event_type_of(const Json& receipt_payload);
// The salted commitments of a tool receipt (docs/claw-bundles.md): over the native request hash,
// and over the call's ending (decision, reason_code, result).
std::string args_hash_b64u(std::string_view salt_b64u, const Json& ending_payload);
std::string result_hash_b64u(std::string_view salt_b64u, const Json& ending_payload);

struct ClawVerdict {
  bool pass = false;
  std::string code = "OK";  // Claw's reason-code vocabulary; native checks use clawjail's codes
  std::string detail;
  size_t events = 0, tool_receipts = 0, gateway_receipts = 0;
  bool native_checked = false;
  bool rules_only = false;  // Claw's checks only (ClawVerifyOptions::require_trusted_signer false)
  std::string signer;       // the signer_did that verified
  std::string line() const;  // "PASS (Claw proof_bundle form) …" or "FAIL <CODE> <detail>"
  Json to_json() const;
};
struct ClawVerifyOptions {
  std::vector<std::string> trusted;  // the supervisor did:key(s) the auditor trusts
  // The native bundle written beside the Claw form; when given, each event must be the receipt it
  // claims to commit to and each tool receipt's hashes must follow from the native receipts.
  std::optional<std::string> native_bundle_text;
  bool require_trusted_signer = true;  // false: Claw's own rule (any signer equal to agent_did)
  bool strict = false;  // as the native verifier's: a call interrupted by the supervisor's death fails
  // Gateways trusted for model calls (VerifyOptions::gateway_signers): a gateway receipt signed by
  // another fails; the native bundle is verified with them.
  std::vector<std::string> gateway_signers;
};
// `text` is the file's bytes: parsed strictly (duplicate keys refused), hashed in document order.
ClawVerdict verify_claw_bundle(std::string_view text, const ClawVerifyOptions& options);
// True for a document in the Claw envelope form rather than the native DSSE form.
bool looks_like_claw(const Json& document);

}  // namespace clawjail::receipts::claw
