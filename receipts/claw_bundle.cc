// The Claw proof_bundle form of a job's receipts (docs/claw-bundles.md): one event per native
// receipt, committing to its exact DSSE payload bytes, and one tool receipt per call bound to the
// event of its ending. Built only from a native bundle that verifies under the exporter's key.
#include <sodium.h>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include <map>

#include "receipts/claw_bundle.h"
#include "receipts/internal.h"

namespace clawjail::receipts::claw {
namespace {

struct Receipt {
  Json payload;
  std::string bytes;  // the exact signed payload
};

std::string random_salt_b64u() {
  if (sodium_init() < 0) std::abort();
  std::string salt(16, '\0');
  randombytes_buf(salt.data(), salt.size());
  return policy::b64u_encode(salt);
}

std::string salted_hash(std::string_view salt_b64u, std::string_view bytes) {
  auto salt = policy::b64u_decode(salt_b64u);
  return policy::sha256_b64u((salt.ok() ? *salt : std::string()) + std::string(bytes));
}

// Claw's result_status has three values; the native status stays in the bound event's type.
std::string result_status_of(const Json& ending) {
  if (ending["phase"] != "finished") return "error";
  const std::string status = ending["result"]["status"].get<std::string>();
  return status == "success" || status == "timeout" ? status : "error";
}

int64_t latency_ms_of(const Json& ending) {
  if (ending["phase"] != "finished") return 0;
  const Json& ms = ending["result"]["duration_ms"];
  return ms.is_number_integer() ? std::max<int64_t>(0, ms.get<int64_t>()) : 0;
}

OJson signed_envelope(const char* version, const char* type, OJson payload, const policy::SecretKey& key,
                      const std::string& issued_at) {
  std::string hash = stringify_hash_b64u(payload);
  OJson env;
  env["envelope_version"] = version;
  env["envelope_type"] = type;
  env["payload"] = std::move(payload);
  env["payload_hash_b64u"] = hash;
  env["hash_algorithm"] = "SHA-256";
  env["signature_b64u"] = policy::b64u_encode(key.sign(hash));
  env["algorithm"] = "Ed25519";
  env["signer_did"] = key.did();
  env["issued_at"] = issued_at;
  return env;
}

// `payload` needs only receipt_id, phase, timestamp and result: the store computes the same event
// from what it is writing (detail::claw_event_hash_at) as the export does from the log.
OJson event_of(const Json& payload, std::string_view bytes, const std::string& job_id, const OJson& prev_hash) {
  OJson e;
  e["event_id"] = payload["receipt_id"].get<std::string>();
  e["run_id"] = job_id;
  e["event_type"] = event_type_of(payload);
  e["timestamp"] = payload["timestamp"].get<std::string>();
  e["payload_hash_b64u"] = policy::sha256_b64u(bytes);
  e["prev_hash_b64u"] = prev_hash;
  e["event_hash_b64u"] = stringify_hash_b64u(e);  // the header above, in Claw's canonical order
  return e;
}

OJson binding_of(const Json& ending, const std::string& job_id, const std::string& event_hash) {
  OJson b;
  b["run_id"] = job_id;
  b["event_hash_b64u"] = event_hash;
  if (ending["policy_hash_b64u"].is_string()) b["policy_hash"] = ending["policy_hash_b64u"].get<std::string>();
  if (ending["token_scope_hash_b64u"].is_string())
    b["token_scope_hash_b64u"] = ending["token_scope_hash_b64u"].get<std::string>();
  return b;
}

OJson tool_receipt_of(const Json& ending, const std::string& job_id, const std::string& event_hash,
                      const policy::SecretKey& key, const std::string& issued_at) {
  std::string args_salt = random_salt_b64u(), result_salt = random_salt_b64u();
  OJson p;
  p["receipt_version"] = "2";
  p["receipt_id"] = ending["receipt_id"].get<std::string>();
  p["tool_name"] = ending["tool"].get<std::string>();
  p["args_hash_b64u"] = args_hash_b64u(args_salt, ending);
  p["result_hash_b64u"] = result_hash_b64u(result_salt, ending);
  p["result_status"] = result_status_of(ending);
  p["hash_algorithm"] = "SHA-256";
  p["agent_did"] = key.did();
  p["timestamp"] = ending["timestamp"].get<std::string>();
  p["latency_ms"] = latency_ms_of(ending);
  p["binding"] = binding_of(ending, job_id, event_hash);
  p["args_salt_b64u"] = args_salt;
  p["result_salt_b64u"] = result_salt;
  return signed_envelope("2", "tool_receipt", std::move(p), key, issued_at);
}

// The native bundle must verify under the exporter's own key before it is vouched for again; a
// running job's calls without `finished` are the one failure exported (and listed).
Result<std::vector<Receipt>> verified_receipts(const Json& native, const policy::SecretKey& key, Json& payload,
                                               std::vector<std::string>& unfinished,
                                               const std::vector<std::string>& gateway_signers) {
  auto verdict = verify_bundle(native, {key.did()}, {.strict = false, .gateway_signers = gateway_signers});
  // A model call without its gateway receipt is the auditor's verdict to give (bundle verify), not
  // a reason to withhold the rest of the evidence.
  if (!verdict.pass && verdict.reason != Reason::RECEIPT_UNFINISHED_CALL && verdict.reason != Reason::MODEL_CALL_UNRECEIPTED)
    return fail(verdict.reason, "the job's native bundle does not verify under " + key.did() + ": " + verdict.detail);
  unfinished = verdict.unfinished_calls;
  auto bytes = detail::dsse_payload(native);
  if (!bytes.ok()) return bytes.error();
  payload = Json::parse(*bytes);
  std::vector<Receipt> out;
  for (const auto& env : payload["receipts"]) {
    auto b = detail::dsse_payload(env);
    if (!b.ok()) return b.error();
    out.push_back({Json::parse(*b), std::move(*b)});
  }
  return out;
}

struct PartContext {
  const ClawExportOptions* options;
  const Json* native;  // the native bundle's payload
  std::vector<std::string> unfinished;
  size_t parts = 1;
  std::string wpc_signer;
};

OJson optional_string(const Json& v) { return v.is_string() ? OJson(v.get<std::string>()) : OJson(nullptr); }

OJson metadata_of(const PartContext& c, size_t part, int64_t first_seq, const OJson& prev_part_hash,
                  const std::string& policy_hash, const std::string& harness_version) {
  const Json& cst = (*c.native)["cst"];
  const Json claims = cst.is_object() ? cst["claims"] : Json::object();
  OJson harness;
  harness["id"] = "clawjail";
  harness["version"] = harness_version;
  harness["runtime"] = "host";
  OJson cj;
  cj["form"] = "clawjail-claw-v1";
  cj["job_id"] = c.options->job_id;
  cj["part"] = part + 1;
  cj["parts"] = c.parts;
  cj["first_seq"] = first_seq;
  cj["prev_part_last_event_hash_b64u"] = prev_part_hash;
  cj["cst_sub"] = optional_string(claims.value("sub", Json()));
  cj["cst_jti"] = optional_string(claims.value("jti", Json()));
  cj["policy_hash_b64u"] = policy_hash;
  cj["wpc_signer_did"] = c.wpc_signer;
  cj["wpc_file"] = c.options->wpc_file;
  cj["native_bundle_file"] = c.options->native_bundle_file;
  cj["native_bundle_sha256_b64u"] = c.options->native_bundle_sha256;
  cj["unfinished_calls"] = part + 1 == c.parts ? OJson(c.unfinished) : OJson::array();
  OJson md;
  md["harness"] = std::move(harness);
  md["clawjail"] = std::move(cj);
  return md;
}

}  // namespace

std::string stringify(const OJson& value) {
  // nlohmann's compact dump escapes exactly what JSON.stringify escapes (", \, control characters
  // as \b \t \n \f \r or \u00xx) and writes everything else as UTF-8, in member order.
  return value.dump(-1, ' ', false, OJson::error_handler_t::strict);
}

std::string stringify_hash_b64u(const OJson& value) { return policy::sha256_b64u(stringify(value)); }

std::string now_rfc3339() { return detail::rfc3339_ms(std::chrono::system_clock::now()); }

std::string event_type_of(const Json& p) {
  const std::string phase = p.value("phase", "");
  if (phase != "finished") return "clawjail." + phase;
  const Json& status = p.contains("result") && p["result"].is_object() ? p["result"].value("status", Json()) : Json();
  return "clawjail.finished." + (status.is_string() ? status.get<std::string>() : std::string("unknown"));
}

std::string args_hash_b64u(std::string_view salt_b64u, const Json& ending) {
  return salted_hash(salt_b64u, ending.value("request_hash_b64u", ""));
}

std::string result_hash_b64u(std::string_view salt_b64u, const Json& ending) {
  Json outcome = {{"decision", ending.value("decision", Json())},
                  {"reason_code", ending.value("reason_code", Json())},
                  {"result", ending.value("result", Json())}};
  return salted_hash(salt_b64u, detail::compact_json(outcome));
}

Result<ExportedClaw> export_claw(const Json& native, const policy::SecretKey& key, const ClawExportOptions& options) {
  Json payload;
  PartContext c{&options, &payload, {}, 1, ""};
  auto receipts = verified_receipts(native, key, payload, c.unfinished, options.gateway_signers);
  if (!receipts.ok()) return receipts.error();
  if (payload["job_id"] != options.job_id)
    return fail(Reason::BUNDLE_MALFORMED, "the native bundle is for job " + payload["job_id"].dump());
  auto policy_hash = policy::wpc_hash(payload["wpc"]);
  if (!policy_hash.ok()) return policy_hash.error();
  c.wpc_signer = payload["wpc"].value("signer_did", "");
  const size_t per_part = std::max<size_t>(1, options.max_events);
  c.parts = (receipts->size() + per_part - 1) / per_part;
  // The native bundle verified them against the job: each goes beside the event it binds to.
  std::map<std::string, std::vector<OJson>> gateway_by_event;
  for (const auto& text : payload.value("gateway_receipts", std::vector<std::string>{})) {
    OJson r = OJson::parse(text);
    gateway_by_event[r["payload"]["binding"]["event_hash_b64u"].get<std::string>()].push_back(std::move(r));
  }
  ExportedClaw out;
  out.wpc = payload["wpc"];
  OJson prev_part_hash = nullptr;
  for (size_t part = 0; part < c.parts; ++part) {
    OJson events = OJson::array(), tools = OJson::array(), gateway = OJson::array(), prev = nullptr;
    size_t begin = part * per_part, end = std::min(receipts->size(), begin + per_part);
    for (size_t i = begin; i < end; ++i) {
      const Receipt& r = (*receipts)[i];
      OJson e = event_of(r.payload, r.bytes, options.job_id, prev);
      prev = e["event_hash_b64u"];
      if (auto g = gateway_by_event.find(prev.get<std::string>()); g != gateway_by_event.end()) {
        for (auto& r : g->second) gateway.push_back(std::move(r));
        gateway_by_event.erase(g);
      }
      if (r.payload["phase"] != "started")
        tools.push_back(tool_receipt_of(r.payload, options.job_id, prev.get<std::string>(), key, options.created_at));
      events.push_back(std::move(e));
    }
    OJson p;
    p["bundle_version"] = "1";
    p["bundle_id"] = "clawjail_" + options.job_id + "_part" + std::to_string(part + 1) + "_of" + std::to_string(c.parts);
    p["agent_did"] = key.did();
    p["event_chain"] = std::move(events);
    if (!gateway.empty()) p["receipts"] = std::move(gateway);
    if (!tools.empty()) p["tool_receipts"] = std::move(tools);
    p["metadata"] = metadata_of(c, part, static_cast<int64_t>(begin), prev_part_hash, *policy_hash, options.harness_version);
    prev_part_hash = prev;
    out.parts.push_back(signed_envelope("1", "proof_bundle", std::move(p), key, options.created_at));
  }
  // Bound to events of the fixed part layout: with parts of another size a receipt would name an
  // event no part holds, and it must not go missing silently.
  if (!gateway_by_event.empty())
    return fail(Reason::GATEWAY_RECEIPT_UNBOUND, "gateway receipt(s) bound to event " + gateway_by_event.begin()->first +
                                                     ", which no exported part holds (parts of " +
                                                     std::to_string(per_part) + " events; model calls bind to parts of " +
                                                     std::to_string(kMaxEventsPerBundle) + ")");
  return out;
}

}  // namespace clawjail::receipts::claw

namespace clawjail::receipts::detail {

// Parts hold kMaxEventsPerBundle events each, counted from seq 0, and each part's chain starts
// at null: the layout is fixed so that an event's hash is known the moment its receipt is.
std::string claw_event_hash_at(const Json& brief, std::string_view payload_bytes, const std::string& job_id,
                               const ChainLink& link) {
  const bool part_start = link.seq % static_cast<int64_t>(claw::kMaxEventsPerBundle) == 0;
  claw::OJson prev = part_start || !link.claw_event_hash_b64u ? claw::OJson(nullptr) : claw::OJson(*link.claw_event_hash_b64u);
  return claw::event_of(brief, payload_bytes, job_id, prev)["event_hash_b64u"].get<std::string>();
}

}  // namespace clawjail::receipts::detail
