// clawjail receipts show: a job's receipts as logged, one line each (or --json).
#include <cstdio>
#include <iostream>

#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/text.h"
#include "receipts/receipts.h"
#include "supervisor/common/commands.h"
#include "supervisor/common/config.h"

namespace clawjail::cli {
namespace {

using policy::Json;

struct ShowFlags {
  std::string job, config;
  bool json = false;
};

Json payload_of(const Json& envelope) {
  if (!envelope.contains("payload") || !envelope["payload"].is_string()) return nullptr;
  auto bytes = policy::b64_decode(envelope["payload"].get<std::string>());
  if (!bytes) return nullptr;
  auto p = Json::parse(*bytes, nullptr, false);
  return p.is_object() ? p : Json(nullptr);
}

// Receipts quote what jails and clients sent: the terminal gets it escaped (policy::printable).
std::string text_of(const Json& p, const char* key) {
  return p.contains(key) && p[key].is_string() ? policy::printable(p[key].get<std::string>()) : "-";
}

std::string result_column(const Json& p) {
  if (p["phase"] == "blocked") return "\"" + text_of(p, "reason") + "\"";
  if (!p.contains("result") || !p["result"].is_object()) return "-";
  const Json& r = p["result"];
  std::string out = text_of(r, "status");
  // An interrupted call's ending is unknown (null fields): only its status is shown.
  if (r.value("exit_code", Json()).is_number()) out += " exit=" + r["exit_code"].dump();
  if (r.value("signal", Json()).is_number() && r["signal"] != 0) out += " signal=" + r["signal"].dump();
  if (r.value("duration_ms", Json()).is_number()) out += " " + r["duration_ms"].dump() + "ms";
  if (r.contains("violations") && r["violations"].is_array() && !r["violations"].empty())
    out += " violations=" + std::to_string(r["violations"].size());
  if (r.contains("egress") && r["egress"].is_object())
    out += " egress=" + r["egress"].value("allowed", Json(0)).dump() + " allowed/" +
           r["egress"].value("refused", Json(0)).dump() + " refused";
  // A call that ran but failed says why, as a blocked one does.
  if (p.value("reason_code", Json()) != "OK" && p.contains("reason")) out += " \"" + text_of(p, "reason") + "\"";
  return out;
}

std::string line_of(const Json& p) {
  if (p.is_null()) return "   ? unreadable line";
  char head[160];
  std::snprintf(head, sizeof head, "%4s %-8s %-12s %-7s %-26s ", p.contains("seq") ? p["seq"].dump().c_str() : "?",
                text_of(p, "phase").c_str(), text_of(p, "tool").c_str(), text_of(p, "decision").c_str(),
                text_of(p, "reason_code").c_str());
  return head + result_column(p) + "  call=" + text_of(p, "call_id");
}

void show(const ShowFlags& f) {
  auto config = load_config(f.config.empty() ? default_config_path() : std::filesystem::path(f.config));
  if (!config) die("receipts show", std::string(reason_name(config.reason())) + ": " + config.error().detail);
  auto log = receipts::read_job_log(config->state_dir, f.job);
  if (!log) die("receipts show", std::string(reason_name(log.reason())) + ": " + log.error().detail);
  if (log->torn) std::cerr << "clawjail: receipts show: job " << f.job << ": " << *log->torn << "\n";
  if (f.json) {
    Json receipts = Json::array();
    for (const auto& env : log->envelopes) receipts.push_back(payload_of(env));
    Json out = {{"job_id", f.job}, {"receipts", receipts}, {"torn", log->torn ? Json(*log->torn) : Json(nullptr)}};
    std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    for (const auto& env : log->envelopes) std::cout << line_of(payload_of(env)) << "\n";
  }
  exit_with(0);
}

const CommandRegistrar kReceipts("receipts", [](CLI::App& app) {
  auto f = std::make_shared<ShowFlags>();
  auto* receipts = app.add_subcommand("receipts", "The signed receipts of a job");
  receipts->require_subcommand(1);
  auto* s = receipts->add_subcommand(
      "show", "A job's receipts as logged, one line each: seq, phase, tool, decision, reason, result "
              "(signatures are checked by `bundle verify`, not here)");
  s->add_option("--job", f->job, "job id")->required();
  s->add_option("--config", f->config, "configuration file (default: $CLAWJAIL_CONFIG, else /etc/clawjail/config.json)");
  s->add_flag("--json", f->json, "machine-readable output: {job_id, receipts:[payload…], torn}");
  s->callback([f] { show(*f); });
});

}  // namespace
}  // namespace clawjail::cli
