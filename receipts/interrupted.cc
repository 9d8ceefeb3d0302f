// Calls interrupted by the supervisor's death (receipts/README.md "Calls interrupted by a
// restart"): a supervisor killed outright leaves `started` receipts without their `finished`; its
// jails die with it, so those calls did end, and the restarted supervisor says so without
// claiming to know how.
#include "receipts/internal.h"

namespace clawjail::receipts::detail {
namespace {

std::optional<std::string> optional_text(const Json& p, const char* key) {
  if (!p.contains(key) || !p[key].is_string()) return std::nullopt;
  return p[key].get<std::string>();
}

std::string text(const Json& p, const char* key) { return optional_text(p, key).value_or(""); }

}  // namespace

void OpenCalls::see(const Json& p) {
  if (!p.is_object() || !p.contains("seq") || !p["seq"].is_number_integer()) return;
  auto call = optional_text(p, "call_id");
  if (!call) return;
  const std::string phase = text(p, "phase");
  if (phase != "started" && phase != "finished") return;
  if (auto it = seq_of_.find(*call); it != seq_of_.end()) {  // a finished, or a call started twice
    started_.erase(it->second);
    seq_of_.erase(it);
  }
  if (phase == "started") {
    seq_of_[*call] = p["seq"].get<int64_t>();
    started_[p["seq"].get<int64_t>()] = p;
  }
}

std::vector<Json> OpenCalls::take() {
  std::vector<Json> out;
  for (auto& [_, p] : started_) out.push_back(std::move(p));
  started_.clear();
  seq_of_.clear();
  return out;
}

namespace {

// Everything but the status is unknown: the process that watched the call is gone.
Json unknown_result() {
  Json r = {{"status", kInterrupted}, {"output_truncated", nullptr}};
  for (const char* key : kEndingFields) r[key] = nullptr;
  return r;
}

}  // namespace

// The call's own identity (tool, scopes, agent, hashes) is copied from its `started` receipt, as
// a `finished` written by the supervisor that ran it would have carried.
Draft interrupted_draft(const Json& started, const std::string& restarted_at) {
  Draft d;
  d.phase = ReceiptPhase::finished;
  d.job_id = text(started, "job_id");
  d.call_id = text(started, "call_id");
  d.tool = text(started, "tool");
  if (started.contains("scopes") && started["scopes"].is_array())
    for (const auto& s : started["scopes"])
      if (s.is_string()) d.scopes.push_back(s.get<std::string>());
  d.agent_did = text(started, "agent_did");
  d.policy_hash_b64u = text(started, "policy_hash_b64u");
  d.request_hash_b64u = text(started, "request_hash_b64u");
  d.token_scope_hash_b64u = optional_text(started, "token_scope_hash_b64u");
  d.cst_jti = optional_text(started, "cst_jti");
  d.jail_hash_b64u = optional_text(started, "jail_hash_b64u");
  d.reason = Reason::SUPERVISOR_RESTARTED;
  d.reason_detail = "the supervisor that ran this call died; its jail died with it. Recorded by the supervisor "
                    "restarted at " + restarted_at + "; how the call ended is unknown";
  d.result = unknown_result();
  return d;
}

bool is_interrupted(const Json& p) {
  return p.is_object() && text(p, "phase") == "finished" && p.contains("result") && p["result"].is_object() &&
         p["result"].value("status", Json()) == kInterrupted;
}

}  // namespace clawjail::receipts::detail
