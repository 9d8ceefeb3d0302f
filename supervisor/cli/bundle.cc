// clawjail bundle export|verify|report: proof bundles (docs/formats.md §5).
#include <iostream>

#include "policy/encoding.h"
#include "policy/file_io.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "receipts/claw_bundle.h"
#include "receipts/gateway_receipts.h"
#include "receipts/receipts.h"
#include "supervisor/cli/explain.h"
#include "supervisor/cli/report_html.h"
#include "supervisor/common/commands.h"
#include "supervisor/common/config.h"

namespace clawjail::cli {
namespace {

using policy::Json;

constexpr size_t kMaxBundleBytes = size_t{256} << 20;

struct BundleFlags {
  std::string job, config, out, file, trust, format = "native", native, gateway_signers;
  std::vector<std::string> gateway_receipt_files;
  bool include_token = false, json = false, strict = false, claw_rules_only = false;
};

[[noreturn]] void refuse(std::string_view what, const Error& e) {
  die(what, std::string(reason_name(e.reason)) + ": " + e.detail);
}

// The bundle holds the raw CST only with --include-token: then the file is private (0600).
void write_out(const std::string& path, const std::string& text, bool secret) {
  auto s = policy::write_file_atomic(path, text, secret ? 0600 : 0644, Reason::CONFIG_INVALID);
  if (!s) die("bundle", s.error().detail);
}

// The Claw form: its part(s), with the native bundle and the WPC envelope beside them, named after
// --out (docs/claw-bundles.md).
struct ClawFiles {
  std::filesystem::path out, native, wpc;
  std::filesystem::path part(size_t n) const {  // n from 1
    if (n == 1) return out;
    return out.parent_path() / (stem() + ".part" + std::to_string(n) + ".json");
  }
  std::string stem() const {
    std::string name = out.filename().string();
    return name.ends_with(".json") ? name.substr(0, name.size() - 5) : name;
  }
};

ClawFiles claw_files(const std::string& out) {
  ClawFiles files{out, {}, {}};
  files.native = files.out.parent_path() / (files.stem() + ".native.json");
  files.wpc = files.out.parent_path() / (files.stem() + ".wpc.json");
  return files;
}

void export_claw(const BundleFlags& f, const policy::SecretKey& key, const Json& native,
                 const std::vector<std::string>& gateway_signers) {
  if (f.out.empty()) die("bundle export", "--format claw writes several files: name the first with --out", 2);
  ClawFiles files = claw_files(f.out);
  std::string native_text = native.dump(2) + "\n";
  receipts::claw::ClawExportOptions o;
  o.job_id = f.job;
  o.native_bundle_file = files.native.filename().string();
  o.native_bundle_sha256 = policy::sha256_b64u(native_text);
  o.wpc_file = files.wpc.filename().string();
  o.created_at = receipts::claw::now_rfc3339();
  o.harness_version = CLAWJAIL_VERSION;
  o.gateway_signers = gateway_signers;
  auto claw = receipts::claw::export_claw(native, key, o);
  if (!claw) refuse("bundle export", claw.error());
  write_out(files.native.string(), native_text, f.include_token);
  write_out(files.wpc.string(), claw->wpc.dump(2) + "\n", false);
  for (size_t i = 0; i < claw->parts.size(); ++i)
    write_out(files.part(i + 1).string(), claw->parts[i].dump(2) + "\n", false);
  std::cerr << "clawjail: bundle export: job " << f.job << ": Claw proof_bundle form in " << claw->parts.size()
            << " part(s) (at most " << receipts::claw::kMaxEventsPerBundle << " events each): " << files.out.string();
  for (size_t i = 2; i <= claw->parts.size(); ++i) std::cerr << ", " << files.part(i).string();
  std::cerr << "; native bundle " << files.native.string() << "; WPC " << files.wpc.string() << "\n";
}

// The gateway receipts of --gateway-receipts that check out against the job (gateway_receipts.h);
// each refused one is named on stderr with its reason and left out.
std::vector<std::string> import_gateway_receipts(const BundleFlags& f, const Json& native,
                                                 const std::vector<std::string>& signers) {
  auto payload = receipts::unverified_bundle(native);  // just signed by this process
  auto job = receipts::gateway::job_context_of_bundle(payload, signers);
  if (!job) refuse("bundle export", job.error());
  std::vector<std::string> candidates;
  for (const auto& file : f.gateway_receipt_files) {
    auto text = policy::read_file_limited(file, kMaxBundleBytes);
    if (!text) die("bundle export", "--gateway-receipts " + file + ": " + text.error().detail, 2);
    auto found = receipts::gateway::candidates_in(*text);
    if (!found) die("bundle export", "--gateway-receipts " + file + ": " + found.error().detail, 2);
    candidates.insert(candidates.end(), found->begin(), found->end());
  }
  auto imported = receipts::gateway::check_receipts(candidates, *job);
  for (const auto& r : imported.refused)
    std::cerr << "clawjail: bundle export: gateway receipt #" << r.index << " (" << r.receipt_id << ") refused: "
              << reason_name(r.reason) << ": " << r.detail << "\n";
  std::cerr << "clawjail: bundle export: job " << f.job << ": " << imported.accepted.size() << " of " << candidates.size()
            << " gateway receipt(s) imported, covering " << imported.covered_calls.size() << " of " << job->calls.size()
            << " model call(s)\n";
  return imported.accepted;
}

void export_cmd(const BundleFlags& f) {
  if (f.format != "native" && f.format != "claw") die("bundle export", "--format is native or claw", 2);
  auto config = load_config(f.config.empty() ? default_config_path() : std::filesystem::path(f.config));
  if (!config) refuse("bundle export", config.error());
  // Read once, used once, zeroed when it goes out of scope (SecretKey's locked memory).
  auto key = policy::SecretKey::load(config->signing_key);
  if (!key) die("bundle export", "signing_key " + config->signing_key.string() + ": " +
                                     std::string(reason_name(key.reason())) + ": " + key.error().detail);
  receipts::ExportOptions options;
  options.job_id = f.job;
  options.include_token = f.include_token;
  auto signers = f.gateway_signers.empty() ? config->gateway_receipt_signers
                                           : split_dids("bundle export", f.gateway_signers, "--gateway-signer");
  auto bundle = receipts::export_bundle(config->state_dir, *key, options);
  if (!bundle) refuse("bundle export", bundle.error());
  if (!f.gateway_receipt_files.empty()) {
    options.gateway_receipts = import_gateway_receipts(f, *bundle, signers);
    bundle = receipts::export_bundle(config->state_dir, *key, options);
    if (!bundle) refuse("bundle export", bundle.error());
  }
  if (auto log = receipts::read_job_log(config->state_dir, f.job); log && log->torn)
    std::cerr << "clawjail: bundle export: job " << f.job << ": " << *log->torn << " (not in the bundle)\n";
  if (f.format == "claw") {
    export_claw(f, *key, *bundle, signers);
    exit_with(0);
  }
  std::string text = bundle->dump(2) + "\n";
  if (f.out.empty())
    std::cout << text;
  else
    write_out(f.out, text, f.include_token);
  exit_with(0);
}

void print(const BundleFlags& f, const receipts::Verdict& v) {
  if (f.json)
    std::cout << v.to_json().dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  else
    std::cout << v.line() << (v.pass ? "\n  " + v.detail : "") << "\n";
}

// The native bundle beside a Claw-form file: --native, else the file its metadata names, if there.
std::optional<std::string> native_beside(const BundleFlags& f, const Json& claw) {
  std::filesystem::path path = f.native;
  if (path.empty()) {
    const Json* at = &claw;
    for (const char* key : {"payload", "metadata", "clawjail", "native_bundle_file"}) {
      if (!at->is_object() || !at->contains(key)) return std::nullopt;
      at = &at->at(key);
    }
    std::string name = at->is_string() ? at->get<std::string>() : "";
    if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
    path = std::filesystem::path(f.file).parent_path() / name;
    if (!std::filesystem::exists(path)) return std::nullopt;
  }
  auto text = policy::read_file_limited(path, kMaxBundleBytes);
  if (!text) die("bundle verify", "--native " + path.string() + ": " + text.error().detail, 2);
  return *text;
}

void verify_claw(const BundleFlags& f, const std::vector<std::string>& trusted, const std::string& text,
                 const Json& claw) {
  receipts::claw::ClawVerifyOptions o;
  o.trusted = trusted;
  o.require_trusted_signer = !f.claw_rules_only;
  o.strict = f.strict;
  o.gateway_signers = split_dids("bundle verify", f.gateway_signers, "--gateway-signer");
  if (!f.claw_rules_only) o.native_bundle_text = native_beside(f, claw);
  auto v = receipts::claw::verify_claw_bundle(text, o);
  if (f.json)
    std::cout << v.to_json().dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  else
    std::cout << v.line() << "\n";
  exit_with(v.pass ? 0 : 1);
}

[[noreturn]] void trust_required(std::string_view what) {
  die(what, "TRUST_REQUIRED: name the supervisor key(s) you trust with --trust did:key:…[,did:key:…]", 2);
}

struct BundleFile {
  Result<std::string> text;
  Result<Json> envelope;
};
BundleFile read_bundle(const std::string& file) {
  policy::JsonLimits limits;
  limits.max_bytes = kMaxBundleBytes;
  auto text = policy::read_file_limited(file, kMaxBundleBytes);
  auto envelope = text ? policy::parse_strict_json(*text, limits) : Result<Json>(text.error());
  return {std::move(text), std::move(envelope)};
}

// The one verification of a native bundle, for `verify` and `report` alike.
receipts::Verdict native_verdict(const Result<Json>& envelope, const std::vector<std::string>& trusted,
                                 const BundleFlags& f) {
  receipts::Verdict v;
  if (envelope) {
    v = receipts::verify_bundle(*envelope, trusted,
                                {.strict = f.strict,
                                 .gateway_signers = split_dids("bundle", f.gateway_signers, "--gateway-signer")});
  } else {
    v.reason = Reason::BUNDLE_MALFORMED;
    v.detail = std::string(reason_name(envelope.reason())) + ": " + envelope.error().detail;
  }
  return v;
}

void verify_cmd(const BundleFlags& f) {
  auto trusted = split_dids("bundle verify", f.trust);
  if (trusted.empty() && !f.claw_rules_only) trust_required("bundle verify");
  auto in = read_bundle(f.file);
  if (in.envelope && receipts::claw::looks_like_claw(*in.envelope)) verify_claw(f, trusted, *in.text, *in.envelope);
  if (f.claw_rules_only) die("bundle verify", "--claw-rules-only: " + f.file + " is not in the Claw form", 2);
  auto v = native_verdict(in.envelope, trusted, f);
  print(f, v);
  exit_with(v.pass ? 0 : 1);
}

// What the bundled WPC allows, as `clawjail explain` says it (no workspace, no configuration: the
// report is read anywhere). Its signature is the verdict's business, not this summary's.
Json policy_facts(const Json& bundle) {
  const Json* wpc = bundle.is_object() && bundle.contains("wpc") ? &bundle["wpc"] : nullptr;
  if (!wpc || !wpc->is_object() || !wpc->contains("payload")) return {{"error", "the bundle holds no WPC envelope"}};
  auto p = policy::parse_wpc_payload((*wpc)["payload"]);
  if (!p) return {{"error", std::string(reason_name(p.reason())) + ": " + p.error().detail}};
  return explain_policy(*p, "", std::nullopt, explain_tools());
}

// Renders even a failing bundle (marked FAIL, receipts past the failure unverified); exits 1 then.
void report_cmd(const BundleFlags& f) {
  auto trusted = split_dids("bundle report", f.trust);
  if (trusted.empty()) trust_required("bundle report");
  auto in = read_bundle(f.file);
  if (in.envelope && receipts::claw::looks_like_claw(*in.envelope))
    die("bundle report", f.file + " is in the Claw form: report the native bundle exported beside it (FILE.native.json)", 2);
  auto v = native_verdict(in.envelope, trusted, f);
  Json bundle = receipts::unverified_bundle(in.envelope ? *in.envelope : Json());
  Json model = receipts::report_model(bundle, v, trusted);
  model["policy"] = policy_facts(bundle);
  std::string text = f.json ? model.dump(2, ' ', false, Json::error_handler_t::replace) + "\n" : render_report_html(model);
  if (text.empty()) die("bundle report", "the report template did not render");
  if (f.out.empty()) {
    std::cout << text;
  } else {
    write_out(f.out, text, false);
    std::cerr << "clawjail: bundle report: " << v.line() << ": wrote " << f.out << "\n";
  }
  exit_with(v.pass ? 0 : 1);
}

const CommandRegistrar kBundle("bundle", [](CLI::App& app) {
  auto f = std::make_shared<BundleFlags>();
  auto* bundle = app.add_subcommand("bundle", "Proof bundles: a job's WPC, CST claims and receipts, signed");
  bundle->require_subcommand(1);
  auto* e = bundle->add_subcommand("export", "Write the job's proof bundle, signed with the config's signing_key");
  e->add_option("--job", f->job, "job id")->required();
  e->add_flag("--include-token", f->include_token, "also carry the raw CST (the file is then written 0600)");
  e->add_option("--out", f->out,
                 "output file (default: stdout). With --format claw (required): FILE.json is the Claw bundle "
                 "(FILE.partN.json the further parts of a job of more than 1000 receipts), FILE.native.json the "
                 "native bundle, FILE.wpc.json the WPC envelope");
  e->add_option("--format", f->format,
                "native (default): clawjail's DSSE bundle; claw: Claw Bureau's proof_bundle envelope, "
                "which Claw's verifier (clawverify-core) checks")
      ->check(CLI::IsMember({"native", "claw"}));
  e->add_option("--config", f->config, "configuration file (default: $CLAWJAIL_CONFIG, else /etc/clawjail/config.json)");
  e->add_option("--gateway-receipts", f->gateway_receipt_files,
                "model calls: a file of clawproxy gateway receipts (one envelope, an array, or a Claw proof bundle's "
                "payload.receipts) to import; only those that check out against the job are (signer trusted, hash and "
                "signature, bound to one of the job's model calls and its WPC), each refused one is named on stderr "
                "with its reason. Repeatable");
  e->add_option("--gateway-signer", f->gateway_signers,
                "gateway did:key(s) whose receipts are imported, comma-separated (default: the configuration's "
                "gateway_receipt_signers)");
  e->callback([f] { export_cmd(*f); });
  auto* v = bundle->add_subcommand(
      "verify", "Verify a bundle offline: PASS or FAIL <REASON_CODE> <detail>; exit 0 only on PASS. "
                "The bundled WPC's signature is checked against its own signer_did: whether you trust "
                "that signer for policies is yours to check (PASS names it)");
  v->add_option("file", f->file,
                 "bundle (JSON): native, or the Claw form (said so on PASS), checked against the native bundle "
                 "beside it when present")->required();
  v->add_option("--native", f->native, "Claw form: the native bundle to check each event against "
                                       "(default: the file its metadata names, beside it, if present)");
  v->add_option("--trust", f->trust, "trusted supervisor did:key(s), comma-separated; several for key rotation "
                                     "(required, except with --claw-rules-only)");
  v->add_flag("--claw-rules-only", f->claw_rules_only,
              "Claw form from anywhere: only the checks Claw's verifier makes (envelope, schema of what clawjail "
              "reads, hashes, signature by the named signer, chain, bindings); no signer trust, no native "
              "bundle, --trust not required");
  v->add_flag("--json", f->json, "machine-readable output");
  v->add_option("--gateway-signer", f->gateway_signers,
                "trusted gateway did:key(s), comma-separated: a gateway receipt signed by another fails the bundle, "
                "and with the WPC's models.require_gateway_receipts every model call needs a valid one "
                "(MODEL_CALL_UNRECEIPTED)");
  v->add_flag("--strict", f->strict,
              "also fail calls interrupted by the supervisor's death (RECEIPT_INTERRUPTED_CALL); by default they "
              "are accounted for and counted");
  v->callback([f] { verify_cmd(*f); });
  auto* r = bundle->add_subcommand(
      "report", "Verify a native bundle, then write an auditor's report: one self-contained HTML page (no script, "
                "no network) with the verdict, what the WPC allows, the CST's claims, a timeline and charts of the "
                "calls and every receipt. A failing bundle is still reported, marked FAIL; exit 0 only on PASS");
  r->add_option("file", f->file, "native bundle (JSON)")->required();
  r->add_option("--trust", f->trust, "trusted supervisor did:key(s), comma-separated (required)");
  r->add_option("--out", f->out, "output file (default: stdout)");
  r->add_flag("--json", f->json, "the report's data as JSON instead of HTML (the same data the page shows)");
  r->add_flag("--strict", f->strict, "as `bundle verify --strict`: interrupted calls fail the verdict");
  r->add_option("--gateway-signer", f->gateway_signers, "as `bundle verify --gateway-signer`");
  r->callback([f] { report_cmd(*f); });
});

}  // namespace
}  // namespace clawjail::cli
