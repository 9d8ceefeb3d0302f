// The data of `clawjail bundle report` (receipts.h): what an auditor reads about one bundle. It
// never decides anything: the verdict is verify_bundle's, passed in.
#include <ctime>
#include <map>

#include "receipts/internal.h"

namespace clawjail::receipts {
namespace {

// Milliseconds since the epoch of a receipt's rfc3339_ms timestamp; nullopt for anything else.
std::optional<int64_t> epoch_ms(const Json& timestamp) {
  if (!timestamp.is_string()) return std::nullopt;
  std::tm tm{};
  int ms = 0, used = 0;
  const std::string& t = timestamp.get_ref<const std::string&>();
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms, &used) != 7 ||
      static_cast<size_t>(used) != t.size())
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return int64_t{timegm(&tm)} * 1000 + ms;
}

Json value_or_null(const Json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) ? obj[key] : Json();
}

Json unverified_payload(const Json& envelope) {
  auto bytes = detail::dsse_payload(envelope);
  if (!bytes.ok()) return Json();
  Json payload = Json::parse(*bytes, nullptr, false);
  return payload.is_object() ? payload : Json();
}

// A receipt's payload with its place in the chain; `verified` only below the failure point.
Json receipt_entry(const Json& envelope, size_t index, const Verdict& v) {
  Json p = unverified_payload(envelope);
  bool verified = v.pass || (v.failed_receipt && static_cast<int64_t>(index) < *v.failed_receipt) ||
                  (!v.failed_receipt && v.receipts > static_cast<int64_t>(index));
  return {{"index", index}, {"verified", verified}, {"payload", p}};
}

// How a call ended, as the timeline tells them apart.
std::string outcome_of(const Json& call) {
  if (call["decision"] == "blocked") return "blocked";
  const Json& result = call["result"];
  if (!result.is_object()) return "unfinished";
  return result.value("status", std::string("error"));
}

Json new_call(const Json& p) {
  return {{"call_id", p["call_id"]},         {"tool", p["tool"]},
          {"scopes", p["scopes"]},           {"decision", p["decision"]},
          {"reason_code", p["reason_code"]}, {"reason", p["reason"]},
          {"agent_did", p["agent_did"]},     {"cst_jti", p["cst_jti"]},
          {"jail_hash_b64u", p["jail_hash_b64u"]}, {"request_hash_b64u", p["request_hash_b64u"]},
          {"started_at", p["timestamp"]},    {"finished_at", nullptr},
          {"result", nullptr},               {"receipts", Json::array()}};
}

// A later receipt of the call: `finished` brings the result and the reason the call ended with.
void add_phase(Json& call, const Json& p) {
  if (p["phase"] != "finished") return;
  call["finished_at"] = p["timestamp"];
  call["result"] = value_or_null(p, "result");
  call["reason_code"] = p["reason_code"];
  call["reason"] = p["reason"];
}

// Start offset from the job's first receipt and duration (the result's, else the timestamps').
void add_times(Json& call, int64_t job_start) {
  auto start = epoch_ms(call["started_at"]), end = epoch_ms(call["finished_at"]);
  call["start_offset_ms"] = start ? Json(*start - job_start) : Json();
  const Json reported = value_or_null(call["result"], "duration_ms");
  if (reported.is_number_integer()) call["duration_ms"] = reported;
  else call["duration_ms"] = start && end ? Json(*end - *start) : Json();
  call["outcome"] = outcome_of(call);
}

Json build_calls(const Json& receipts, int64_t job_start) {
  Json calls = Json::array();
  std::map<std::string, size_t> index_of;
  for (const auto& r : receipts) {
    const Json& p = r["payload"];
    if (!p.is_object() || !p.contains("call_id") || !p["call_id"].is_string() || !p.contains("phase")) continue;
    std::string id = p["call_id"];
    auto [it, fresh] = index_of.try_emplace(id, calls.size());
    if (fresh) calls.push_back(new_call(p));
    else add_phase(calls[it->second], p);
    calls[it->second]["receipts"].push_back(r);
  }
  for (auto& c : calls) add_times(c, job_start);
  return calls;
}

Json counts(const Json& calls) {
  Json by_tool = Json::object(), by_decision = Json::object(), by_outcome = Json::object(),
       blocked_by_reason = Json::object();
  auto bump = [](Json& table, const std::string& key) {
    table[key] = (table.is_object() && table.contains(key) ? table[key].get<int64_t>() : 0) + 1;
  };
  for (const auto& c : calls) {
    std::string tool = c["tool"].is_string() ? c["tool"].get<std::string>() : "?";
    std::string decision = c["decision"].is_string() ? c["decision"].get<std::string>() : "?";
    bump(by_tool[tool], decision);
    bump(by_decision, decision);
    bump(by_outcome, c["outcome"].get<std::string>());
    if (decision == "blocked" && c["reason_code"].is_string()) bump(blocked_by_reason, c["reason_code"].get<std::string>());
  }
  return {{"calls", calls.size()},        {"by_tool", by_tool},
          {"by_decision", by_decision},   {"by_outcome", by_outcome},
          {"blocked_by_reason", blocked_by_reason}};
}

Json job_of(const Json& bundle, const Json& receipts) {
  Json cst = value_or_null(bundle, "cst");
  if (cst.is_object()) cst.erase("token");  // the claims only: a report is shared, a token is a credential
  Json wpc = value_or_null(bundle, "wpc");
  Json first, last;
  for (const auto& r : receipts) {
    const Json t = value_or_null(r["payload"], "timestamp");
    if (!epoch_ms(t)) continue;
    if (first.is_null()) first = t;
    last = t;
  }
  auto a = epoch_ms(first), b = epoch_ms(last);
  return {{"job_id", value_or_null(bundle, "job_id")},
          {"created_at", value_or_null(bundle, "created_at")},
          {"wpc_signer_did", value_or_null(wpc, "signer_did")},
          {"policy_hash_b64u", value_or_null(value_or_null(receipts.empty() ? Json() : receipts[0], "payload"),
                                             "policy_hash_b64u")},
          {"supervisor_keys", value_or_null(bundle, "supervisor_keys")},
          {"cst", cst},
          {"first_receipt_at", first},
          {"last_receipt_at", last},
          {"span_ms", a && b ? Json(*b - *a) : Json()}};
}

}  // namespace

Json unverified_bundle(const Json& bundle_envelope) { return unverified_payload(bundle_envelope); }

Json report_model(const Json& bundle, const Verdict& verdict, const std::vector<std::string>& trusted) {
  Json v = verdict.to_json();
  v["trusted"] = trusted;
  v["failed_receipt"] = verdict.failed_receipt ? Json(*verdict.failed_receipt) : Json();
  Json receipts = Json::array();
  const Json envelopes = value_or_null(bundle, "receipts");
  if (envelopes.is_array())
    for (size_t i = 0; i < envelopes.size(); ++i) receipts.push_back(receipt_entry(envelopes[i], i, verdict));
  Json job = job_of(bundle, receipts);
  auto start = epoch_ms(job["first_receipt_at"]);
  Json calls = build_calls(receipts, start.value_or(0));
  return {{"report_version", "1"},
          {"verdict", v},
          {"bundle_readable", bundle.is_object()},
          {"job", job},
          {"counts", counts(calls)},
          {"calls", calls}};
}

}  // namespace clawjail::receipts
