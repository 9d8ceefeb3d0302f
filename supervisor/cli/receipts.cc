// clawjail receipts show: a job's receipts as logged, one line each (or --json).
// clawjail receipts verify: receipts away from their host (journal entries on a collector), each
// checked against the supervisor keys the caller trusts.
#include <cstdio>
#include <fstream>
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

struct VerifyFlags {
  std::string file = "-", trust;
};

// A journal entry (`journalctl -o json --all`) carries the envelope in CLAWJAIL_RECEIPT and
// repeats the payload in unsigned fields: each must say what the signature covers, or a query over
// them (CLAWJAIL_DECISION=blocked) could be shown what the supervisor never signed.
Status check_journal_fields(const Json& entry, const Json& payload) {
  for (const auto& [field, key] : receipts::kJournalReceiptFields) {
    std::string want = receipts::journal_field_value(payload, key);
    if (!entry.contains(field) || entry[field] != want)
      return fail(Reason::RECEIPT_PAYLOAD_INVALID,
                  std::string("journal field ") + field + " is " + (entry.contains(field) ? entry[field].dump() : "absent") +
                      ", the signed receipt says \"" + policy::printable(want) + "\"");
  }
  return ok_status();
}

Result<receipts::VerifiedReceipt> verify_line(const std::string& line, const std::vector<std::string>& trusted) {
  auto parsed = Json::parse(line, nullptr, false);
  if (!parsed.is_object()) return fail(Reason::RECEIPT_PAYLOAD_INVALID, "not a JSON object");
  const bool journal_entry = !parsed.contains("payload");
  Json envelope = parsed;
  if (journal_entry) {
    const char* field = receipts::kJournalReceiptField;
    if (!parsed.contains(field) || !parsed[field].is_string())
      return fail(Reason::RECEIPT_PAYLOAD_INVALID, std::string("neither a receipt envelope nor a journal entry with ") +
                                                       field + " (select them with SYSLOG_IDENTIFIER=clawjail)");
    envelope = Json::parse(parsed[field].get<std::string>(), nullptr, false);
  }
  auto verified = receipts::verify_receipt(envelope, trusted);
  if (!verified.ok() || !journal_entry) return verified;
  if (auto s = check_journal_fields(parsed, verified->payload); !s.ok()) return s.error();
  return verified;
}

std::string origin_of(const std::string& line) {
  auto entry = Json::parse(line, nullptr, false);
  return entry.is_object() && entry.contains("_HOSTNAME") && entry["_HOSTNAME"].is_string()
             ? policy::printable(entry["_HOSTNAME"].get<std::string>())
             : "-";
}

void verify(const VerifyFlags& f) {
  auto trusted = split_dids("receipts verify", f.trust);
  if (trusted.empty()) die("receipts verify", "TRUST_REQUIRED: name the supervisor key(s) you trust with --trust did:key:…[,did:key:…]", 2);
  std::ifstream file;
  if (f.file != "-") {
    file.open(f.file);
    if (!file) die("receipts verify", f.file + ": cannot open", 2);
  }
  std::istream& in = f.file == "-" ? std::cin : file;
  size_t n = 0, failed = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    ++n;
    auto v = verify_line(line, trusted);
    if (!v.ok()) {
      ++failed;
      std::cout << "FAIL line " << n << " " << origin_of(line) << " " << reason_name(v.reason()) << " "
                << policy::printable(v.error().detail) << "\n";
      continue;
    }
    const Json& p = v->payload;
    std::cout << "PASS " << origin_of(line) << " job=" << text_of(p, "job_id") << " seq=" << p["seq"].dump() << " "
              << text_of(p, "phase") << " " << text_of(p, "tool") << " " << text_of(p, "reason_code")
              << " receipt=" << text_of(p, "receipt_id") << " signer=" << v->signer_did << "\n";
  }
  if (n == 0) die("receipts verify", "no receipt to verify", 1);
  std::cerr << "clawjail: receipts verify: " << n - failed << " of " << n << " receipts verified\n";
  exit_with(failed == 0 ? 0 : 1);
}

const CommandRegistrar kReceipts("receipts", [](CLI::App& app) {
  auto f = std::make_shared<ShowFlags>();
  auto vf = std::make_shared<VerifyFlags>();
  auto* receipts = app.add_subcommand("receipts", "The signed receipts of a job");
  receipts->require_subcommand(1);
  auto* s = receipts->add_subcommand(
      "show", "A job's receipts as logged, one line each: seq, phase, tool, decision, reason, result "
              "(signatures are checked by `bundle verify`, not here)");
  s->add_option("--job", f->job, "job id")->required();
  s->add_option("--config", f->config, "configuration file (default: $CLAWJAIL_CONFIG, else /etc/clawjail/config.json)");
  s->add_flag("--json", f->json, "machine-readable output: {job_id, receipts:[payload…], torn}");
  s->callback([f] { show(*f); });
  auto* v = receipts->add_subcommand(
      "verify", "Verify receipts away from their log, e.g. journal entries on a collector: each line a journal "
                "entry (`journalctl -o json --all`), whose CLAWJAIL_* fields must match its signed receipt, or a "
                "receipt's DSSE envelope. PASS or FAIL per line; exit 0 only when every one verifies. A job's chain "
                "(order, gaps) is checked by `bundle verify`");
  v->add_option("file", vf->file, "the entries, one JSON object per line (default: - for stdin)");
  v->add_option("--trust", vf->trust, "trusted supervisor did:key(s), comma-separated: one per host of a fleet (required)");
  v->callback([vf] { verify(*vf); });
});

}  // namespace
}  // namespace clawjail::cli
