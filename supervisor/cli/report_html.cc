// Fills ctemplate's dictionary from the report model (report_html.h). Geometry of the inline SVG
// charts is computed here so that the page needs no script.
#include "supervisor/cli/report_html.h"

#include <ctemplate/template.h>

#include <algorithm>

#include "supervisor/report_template.h"  // kReportTemplate, generated from supervisor/cli/report.tpl

namespace clawjail::cli {
namespace {

using policy::Json;
using Dict = ctemplate::TemplateDictionary;

constexpr int kChartWidth = 960, kLabelWidth = 260, kValueWidth = 70, kRow = 18;
constexpr int kPlotWidth = kChartWidth - kLabelWidth - kValueWidth;

// A model value as text: strings as they are, null as "-", anything else as compact JSON.
std::string text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json at(const Json& obj, const char* key) { return obj.is_object() && obj.contains(key) ? obj[key] : Json(); }

int64_t number(const Json& v) { return v.is_number_integer() ? v.get<int64_t>() : 0; }

void fill_verdict(Dict& d, const Json& model) {
  const Json& v = model["verdict"];
  bool pass = v["result"] == "PASS";
  d.SetValue("RESULT", text(v["result"]));
  d.SetValue("VERDICT_CLASS", pass ? "pass" : "fail");
  d.SetValue("REASON_CODE", text(v["reason_code"]));
  d.SetValue("DETAIL", text(v["detail"]));
  d.SetValue("RECEIPTS", text(v["receipts"]));
  for (const auto& did : v["trusted"]) d.AddSectionDictionary("TRUSTED")->SetValue("DID", text(did));
  if (!pass) d.ShowSection("FAILED");
  if (!pass && v["failed_receipt"].is_number_integer())
    d.AddSectionDictionary("BROKEN_AT")->SetValue("INDEX", text(v["failed_receipt"]));
  if (!v["interrupted_calls"].empty()) {
    Dict* section = d.AddSectionDictionary("INTERRUPTED");
    for (const auto& c : v["interrupted_calls"]) section->AddSectionDictionary("ICALL")->SetValue("ID", text(c));
  }
  if (!model["bundle_readable"].get<bool>()) d.ShowSection("UNREADABLE");
}

void add_pairs(Dict& d, const char* section, const Json& table) {
  for (const auto& [name, n] : table.items()) {
    Dict* row = d.AddSectionDictionary(section);
    row->SetValue("NAME", name);
    row->SetValue("N", text(n));
  }
}

void fill_job(Dict& d, const Json& model) {
  const Json& job = model["job"];
  d.SetValue("JOB_ID", text(job["job_id"]));
  d.SetValue("POLICY_HASH", text(job["policy_hash_b64u"]));
  d.SetValue("WPC_SIGNER", text(job["wpc_signer_did"]));
  d.SetValue("CREATED_AT", text(job["created_at"]));
  d.SetValue("FIRST_AT", text(job["first_receipt_at"]));
  d.SetValue("LAST_AT", text(job["last_receipt_at"]));
  d.SetValue("SPAN_MS", text(job["span_ms"]));
  const Json& counts = model["counts"];
  d.SetValue("CALL_COUNT", text(counts["calls"]));
  add_pairs(d, "DECISION", counts["by_decision"]);
  add_pairs(d, "OUTCOME", counts["by_outcome"]);
  for (const auto& [tool, n] : counts["by_tool"].items()) {
    Dict* row = d.AddSectionDictionary("TOOL_COUNT");
    row->SetValue("TOOL", tool);
    row->SetIntValue("ALLOWED", number(at(n, "allowed")));
    row->SetIntValue("BLOCKED", number(at(n, "blocked")));
  }
  const Json& cst = job["cst"];
  if (!cst.is_object()) {
    d.ShowSection("NO_CST");
    return;
  }
  Dict* c = d.AddSectionDictionary("CST");
  c->SetValue("KID", text(at(cst, "issuer_kid")));
  c->SetValue("TOKEN_HASH", text(at(cst, "token_sha256_b64u")));
  if (at(cst, "claims").is_object())
    for (const auto& [name, value] : cst["claims"].items()) {
      Dict* row = c->AddSectionDictionary("CLAIM");
      row->SetValue("NAME", name);
      row->SetValue("VALUE", text(value));
    }
}

std::string joined(const Json& list, const char* sep = " ") {
  std::string out;
  if (list.is_array())
    for (const auto& item : list) out += (out.empty() ? "" : sep) + text(item);
  return out;
}

void fill_jail(Dict& p, const Json& jail) {
  p.SetValue("NAMESPACES", joined(jail["namespaces"]));
  const Json& net = jail["network"];
  p.SetValue("NETWORK", text(net["mode"]) + (net.contains("proxy") ? " via the egress proxy to " +
                                                                                   joined(net["approved_hosts"], ", ")
                                                                             : std::string(" (no route out)")));
  for (const auto& m : jail["mounts"]) {
    Dict* row = p.AddSectionDictionary("MOUNT");
    row->SetValue("PATH", text(at(m, "path")));
    row->SetValue("TYPE", text(at(m, "type")));
    row->SetValue("MODE", text(at(m, "mode")));
    row->SetValue("SOURCE", m.contains("source") ? text(m["source"]) : "");
  }
  for (const auto& [name, value] : jail["limits"].items()) {
    Dict* row = p.AddSectionDictionary("LIMIT");
    row->SetValue("NAME", name);
    row->SetValue("VALUE", text(value));
  }
  const Json& sc = jail["seccomp"];
  p.SetValue("SECCOMP", "native x86_64 only; " + std::to_string(at(sc, "refused_eperm_counted").size()) +
                            " syscalls refused with EPERM and counted; exec " + text(at(sc, "exec")));
}

void fill_policy(Dict& d, const Json& model) {
  const Json& policy = model["policy"];
  if (!policy.is_object() || !policy.contains("jail")) {
    d.AddSectionDictionary("NO_POLICY")->SetValue("WHY", text(at(policy, "error")));
    return;
  }
  Dict* p = d.AddSectionDictionary("POLICY");
  p->SetValue("JAIL_HASH", text(policy["jail_hash_b64u"]));
  p->SetValue("CST_REQUIRED", policy["cst_required"] == true ? "each call also needs a CST" : "no CST required");
  fill_jail(*p, policy["jail"]);
  for (const auto& [tool, dec] : policy["tools"].items()) {
    Dict* row = p->AddSectionDictionary("TOOL");
    row->SetValue("NAME", tool);
    row->SetValue("DECISION", text(dec["decision"]));
    row->SetValue("CLASS", dec["decision"] == "allowed" ? "success" : "blocked");
    row->SetValue("REASON_CODE", text(dec["reason_code"]));
    row->SetValue("REASON", text(dec["reason"]));
  }
}

std::string label(const Json& call) {
  std::string l = text(call["tool"]) + " " + text(call["call_id"]);
  return l.size() > 40 ? l.substr(0, 37) + "..." : l;
}

// Outcome names become CSS classes: only the known ones, so a hostile status cannot pick a style.
std::string outcome_class(const Json& call) {
  static const std::vector<std::string> known = {"success", "blocked", "timeout", "killed",
                                                 "limit",   "interrupted", "error", "unfinished"};
  std::string o = text(call["outcome"]);
  return std::find(known.begin(), known.end(), o) != known.end() ? o : "error";
}

void fill_timeline(Dict& d, const Json& calls) {
  int64_t end = 1;
  for (const auto& c : calls) end = std::max(end, number(c["start_offset_ms"]) + number(c["duration_ms"]));
  auto x_of = [&](int64_t ms) { return kLabelWidth + static_cast<int>(ms * kPlotWidth / end); };
  int y = 4;
  for (const auto& c : calls) {
    Dict* row = d.AddSectionDictionary("ROW");
    row->SetIntValue("TEXT_Y", y + 10);
    row->SetValue("LABEL", label(c));
    std::string tip = text(c["call_id"]) + ": " + text(c["outcome"]) + " " + text(c["reason_code"]);
    int x = x_of(number(c["start_offset_ms"]));
    Dict* mark = row->AddSectionDictionary(c["decision"] == "blocked" ? "MARK" : "BAR");
    mark->SetIntValue("X", x);
    mark->SetIntValue("Y", y);
    mark->SetIntValue("CX", x + 3);
    mark->SetIntValue("CY", y + 6);
    mark->SetIntValue("W", std::max(2, x_of(number(c["start_offset_ms"]) + number(c["duration_ms"])) - x));
    mark->SetValue("OUTCOME", outcome_class(c));
    mark->SetValue("TIP", tip);
    y += kRow;
  }
  d.SetIntValue("TL_WIDTH", kChartWidth);
  d.SetIntValue("TL_HEIGHT", y + 16);
  d.SetIntValue("AXIS_X", kLabelWidth);
  d.SetIntValue("AXIS_END", kLabelWidth + kPlotWidth);
  d.SetIntValue("AXIS_Y", y + 12);
  d.SetIntValue("AXIS_MS", static_cast<long>(end));
}

// One horizontal bar per row, scaled to the largest value.
struct Bar {
  std::string label, value_class;
  int64_t value;
};
void fill_bars(Dict& d, const char* section, const char* prefix, const std::vector<Bar>& bars, const char* value_key) {
  int64_t top = 1;
  for (const auto& b : bars) top = std::max(top, b.value);
  int y = 4;
  for (const auto& b : bars) {
    Dict* row = d.AddSectionDictionary(section);
    int w = std::max(1, static_cast<int>(b.value * kPlotWidth / top));
    row->SetIntValue("TEXT_Y", y + 10);
    row->SetIntValue("Y", y);
    row->SetIntValue("X", kLabelWidth);
    row->SetIntValue("W", w);
    row->SetIntValue("VX", kLabelWidth + w + 4);
    row->SetValue(std::string(section) == "BLK" ? "REASON_CODE" : "LABEL", b.label);
    row->SetValue("OUTCOME", b.value_class);
    row->SetIntValue(value_key, static_cast<long>(b.value));
    y += kRow;
  }
  d.SetIntValue(std::string(prefix) + "_WIDTH", kChartWidth);
  d.SetIntValue(std::string(prefix) + "_HEIGHT", y + 4);
}

void fill_charts(Dict& d, const Json& model) {
  std::vector<Bar> durations, blocked;
  for (const auto& c : model["calls"])
    if (c["decision"] != "blocked") durations.push_back({label(c), outcome_class(c), number(c["duration_ms"])});
  for (const auto& [reason, n] : model["counts"]["blocked_by_reason"].items()) blocked.push_back({reason, "blocked", number(n)});
  fill_timeline(d, model["calls"]);
  fill_bars(d, "DUR", "DUR", durations, "MS");
  fill_bars(d, "BLK", "BLK", blocked, "N");
  if (blocked.empty()) d.ShowSection("NO_BLOCKED");
}

void fill_result(Dict& call, const Json& r) {
  Dict* d = call.AddSectionDictionary("RESULT");
  d->SetValue("STATUS", text(at(r, "status")));
  d->SetValue("EXIT_CODE", text(at(r, "exit_code")));
  d->SetValue("SIGNAL", text(at(r, "signal")));
  d->SetValue("STDOUT_BYTES", text(at(r, "stdout_bytes")));
  d->SetValue("STDOUT_HASH", text(at(r, "stdout_hash_b64u")));
  d->SetValue("STDERR_BYTES", text(at(r, "stderr_bytes")));
  d->SetValue("STDERR_HASH", text(at(r, "stderr_hash_b64u")));
  if (at(r, "output_truncated") == true) d->ShowSection("TRUNCATED");
  const Json violations = at(r, "violations");
  d->SetValue("NO_VIOLATIONS", violations.is_array() && !violations.empty() ? "" : "none");
  if (violations.is_array())
    for (const auto& v : violations) {
      Dict* row = d->AddSectionDictionary("VIOLATION");
      row->SetValue("SYSCALL", text(at(v, "syscall")));
      row->SetValue("COUNT", text(at(v, "count")));
    }
  if (const Json e = at(r, "error"); e.is_object()) {
    Dict* row = d->AddSectionDictionary("ERROR");
    row->SetValue("REASON_CODE", text(at(e, "reason_code")));
    row->SetValue("REASON", text(at(e, "reason")));
  }
}

void fill_receipts(Dict& call, const Json& receipts, bool& all_verified) {
  for (const auto& r : receipts) {
    const Json& p = r["payload"];
    Dict* row = call.AddSectionDictionary("RECEIPT");
    row->SetValue("INDEX", text(r["index"]));
    row->SetValue("SEQ", text(at(p, "seq")));
    row->SetValue("PHASE", text(at(p, "phase")));
    row->SetValue("TIMESTAMP", text(at(p, "timestamp")));
    row->SetValue("RECEIPT_ID", text(at(p, "receipt_id")));
    row->SetValue("VERIFIED", r["verified"] == true ? "yes" : "NO");
    all_verified = all_verified && r["verified"] == true;
  }
}

void fill_calls(Dict& d, const Json& calls) {
  size_t index = 0;
  for (const auto& c : calls) {
    Dict* call = d.AddSectionDictionary("CALL");
    call->SetIntValue("INDEX", static_cast<long>(index++));
    call->SetValue("OUTCOME", outcome_class(c));
    call->SetValue("CALL_ID", text(c["call_id"]));
    call->SetValue("TOOL", text(c["tool"]));
    call->SetValue("OFFSET_MS", text(c["start_offset_ms"]));
    call->SetValue("DURATION_MS", text(c["duration_ms"]));
    call->SetValue("REASON_CODE", text(c["reason_code"]));
    call->SetValue("REASON", text(c["reason"]));
    call->SetValue("DECISION", text(c["decision"]));
    call->SetValue("SCOPES", joined(c["scopes"], ", "));
    call->SetValue("STARTED_AT", text(c["started_at"]));
    call->SetValue("FINISHED_AT", text(c["finished_at"]));
    call->SetValue("AGENT", text(c["agent_did"]));
    call->SetValue("CST_JTI", text(c["cst_jti"]));
    call->SetValue("JAIL_HASH", text(c["jail_hash_b64u"]));
    call->SetValue("REQUEST_HASH", text(c["request_hash_b64u"]));
    if (c["result"].is_object()) fill_result(*call, c["result"]);
    bool verified = true;
    fill_receipts(*call, c["receipts"], verified);
    call->SetValue("VERIFIED_CLASS", verified ? "verified" : "unverified");
    if (!verified) call->ShowSection("UNVERIFIED");
  }
}

}  // namespace

std::string render_report_html(const Json& model) {
  static const bool loaded = ctemplate::StringToTemplateCache("report.tpl", kReportTemplate, ctemplate::DO_NOT_STRIP);
  Dict d("report");
  d.SetValue("VERSION", CLAWJAIL_VERSION);
  fill_verdict(d, model);
  fill_job(d, model);
  fill_policy(d, model);
  fill_charts(d, model);
  fill_calls(d, model["calls"]);
  std::string out;
  if (!loaded || !ctemplate::ExpandTemplate("report.tpl", ctemplate::DO_NOT_STRIP, &d, &out)) return {};
  return out;
}

}  // namespace clawjail::cli
