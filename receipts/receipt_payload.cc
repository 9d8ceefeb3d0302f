// The receipt payload of docs/formats.md §4: exactly its fields, integers only, and the chain link
// (seq, prev_receipt_hash_b64u) the log assigns.
#include <sodium.h>

#include <cstdio>
#include <ctime>
#include <algorithm>
#include <array>
#include <set>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "base/run_status.h"
#include "policy/text.h"
#include "receipts/internal.h"

namespace clawjail::receipts::detail {
namespace {

Error invalid(std::string detail) { return fail(Reason::RECEIPT_PAYLOAD_INVALID, std::move(detail)); }

bool is_hash(std::string_view text) { return text.size() == 43 && policy::normalize_hash_b64u(text).ok(); }

Status check_hash(std::string_view field, const std::string& value) {
  if (!is_hash(value)) return invalid(std::string(field) + " is not a 43-character base64url hash");
  return ok_status();
}

Status check_optional_hash(std::string_view field, const std::optional<std::string>& value) {
  return value ? check_hash(field, *value) : ok_status();
}

// Receipts carry integers only (docs/formats.md §4): a float in `result` is a caller's bug.
bool integers_only(const Json& v) {
  if (v.is_number_float()) return false;
  if (v.is_structured())
    for (const auto& child : v)
      if (!integers_only(child)) return false;
  return true;
}

Status check_phase(const Draft& d) {
  if (d.phase == ReceiptPhase::blocked && d.reason == Reason::OK) return invalid("a blocked receipt needs a reason");
  if ((d.phase == ReceiptPhase::finished) != d.result.has_value())
    return invalid("result is carried by finished receipts, and only by them");
  if (d.result && (!d.result->is_object() || !integers_only(*d.result)))
    return invalid("result must be an object of integers, strings and arrays");
  return check_result(name_of(d.phase), d.result.value_or(Json()), d.reason);
}

Status check_ids(const Draft& d) {
  if (auto s = check_job_id(d.job_id); !s.ok()) return invalid(s.error().detail);
  if (d.call_id.empty()) return invalid("call_id is empty");
  if (d.tool.empty()) return invalid("tool is empty");
  return ok_status();
}

Status check_hashes(const Draft& d) {
  // A call refused before any WPC was found has no policy hash; an allowed call always has one.
  if (!d.policy_hash_b64u.empty() || d.phase != ReceiptPhase::blocked)
    if (auto s = check_hash("policy_hash_b64u", d.policy_hash_b64u); !s.ok()) return s;
  if (auto s = check_hash("request_hash_b64u", d.request_hash_b64u); !s.ok()) return s;
  if (auto s = check_optional_hash("token_scope_hash_b64u", d.token_scope_hash_b64u); !s.ok())
    return s;
  return check_optional_hash("jail_hash_b64u", d.jail_hash_b64u);
}

bool is_ending_field(std::string_view key) {
  return std::find(kEndingFields.begin(), kEndingFields.end(), key) != kEndingFields.end();
}

Status no_other_fields(const Json& r, const std::set<std::string>& optional, const std::string& whose) {
  for (const auto& [key, value] : r.items())
    if (key != "status" && !is_ending_field(key) && !optional.count(key)) return invalid(whose + " has unknown field " + key);
  return ok_status();
}

Status check_interrupted_result(const Json& r) {
  if (r.contains("output_truncated") && !r["output_truncated"].is_null())
    return invalid("an interrupted call's output_truncated is unknown and must be null");
  return no_other_fields(r, {"output_truncated"}, "an interrupted call's result");
}

bool ending_field_typed(std::string_view key, const Json& v) {
  if (key == "violations") return v.is_array();
  if (key.ends_with("_hash_b64u")) return v.is_string();
  return v.is_number_integer();
}

Status check_ran_result(const Json& r) {
  static const std::set<std::string> optional{"output_truncated", "egress", "error"};
  if (!from_name<RunStatus>(r["status"].get<std::string>())) return invalid("unknown result status " + r["status"].dump());
  for (const char* key : kEndingFields)
    if (!ending_field_typed(key, r[key])) return invalid(std::string("result.") + key + " has the wrong type");
  if (r.contains("output_truncated") && !r["output_truncated"].is_boolean())
    return invalid("result.output_truncated is not a boolean");
  return no_other_fields(r, optional, "result");
}

Json optional_string(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

}  // namespace

std::string new_receipt_id() {
  if (sodium_init() < 0) std::abort();
  std::array<uint8_t, 16> b{};
  randombytes_buf(b.data(), b.size());
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return std::string("rcpt_") + text;
}

std::string rfc3339_ms(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[96];  // sized for any int the format could print, so the compiler can prove no truncation
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return text;
}

Status check_draft(const Draft& d) {
  if (auto s = check_ids(d); !s.ok()) return s;
  if (auto s = check_phase(d); !s.ok()) return s;
  return check_hashes(d);
}

Status check_result(std::string_view phase, const Json& r, Reason reason) {
  bool restarted = reason == Reason::SUPERVISOR_RESTARTED;
  if (phase != "finished")
    return restarted ? invalid("SUPERVISOR_RESTARTED belongs to the finished receipt of an interrupted call")
                     : ok_status();
  if (!r.is_object() || !r.contains("status") || !r["status"].is_string()) return invalid("result has no status");
  bool interrupted = r["status"] == kInterrupted;
  if (interrupted != restarted)
    return invalid("result status interrupted goes with reason_code SUPERVISOR_RESTARTED, and only with it");
  for (const char* key : kEndingFields) {
    if (!r.contains(key)) return invalid(std::string("result lacks ") + key);
    if (r[key].is_null() != interrupted)
      return invalid(interrupted ? std::string("an interrupted call's ") + key + " is unknown and must be null"
                                 : std::string("result.") + key + " is null in a call that ran");
  }
  return interrupted ? check_interrupted_result(r) : check_ran_result(r);
}

bool bound_to_job_wpc(const Json& p) {
  if (!p.is_object() || p.value("phase", "") != "blocked") return true;
  const auto& hash = p.contains("policy_hash_b64u") ? p["policy_hash_b64u"] : Json();
  return !hash.is_null() && !p.value("reason_code", "").starts_with("WPC_");
}

// Signed and stored JSON carries outside bytes in the explicit \xNN form (policy::utf8_text),
// never silently replaced: what is signed says which bytes were there.
std::string compact_json(const Json& value) {
  try {
    return value.dump();
  } catch (const Json::type_error&) {  // a string that is not UTF-8
    return policy::utf8_json(value).dump();
  }
}

std::string receipt_payload(const Draft& d, const ChainLink& link, const std::string& receipt_id,
                            const std::string& timestamp) {
  std::string reason(reason_name(d.reason));
  Json p = {{"receipt_version", "1"},
            {"receipt_id", receipt_id},
            {"phase", name_of(d.phase)},
            {"job_id", d.job_id},
            {"seq", link.seq},
            {"prev_receipt_hash_b64u", optional_string(link.prev_hash_b64u)},
            {"call_id", d.call_id},
            {"timestamp", timestamp},
            {"tool", d.tool},
            {"scopes", d.scopes},
            {"decision", name_of(verdict_of(d.phase))},
            {"reason_code", reason},
            {"reason", d.reason_detail.empty() ? reason : d.reason_detail},
            {"agent_did", d.agent_did},
            {"policy_hash_b64u", d.policy_hash_b64u.empty() ? Json(nullptr) : Json(d.policy_hash_b64u)},
            {"token_scope_hash_b64u", optional_string(d.token_scope_hash_b64u)},
            {"cst_jti", optional_string(d.cst_jti)},
            {"request_hash_b64u", d.request_hash_b64u},
            {"jail_hash_b64u", optional_string(d.jail_hash_b64u)}};
  if (d.result) p["result"] = *d.result;
  // nlohmann's object is a std::map: keys come out sorted, and with only ASCII keys and integer
  // numbers this compact form is exactly RFC 8785 JCS.
  return compact_json(p);
}

}  // namespace clawjail::receipts::detail
