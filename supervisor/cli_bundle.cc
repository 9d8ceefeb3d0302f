// clawjail bundle export|verify: proof bundles (formats.md §5).
#include <iostream>
#include <sstream>

#include "policy/file_io.h"
#include "receipts/receipts.h"
#include "supervisor/commands.h"
#include "supervisor/config.h"

namespace clawjail::cli {
namespace {

using policy::Json;

constexpr size_t kMaxBundleBytes = size_t{256} << 20;

struct BundleFlags {
  std::string job, config, out, file, trust;
  bool include_token = false, json = false, strict = false;
};

[[noreturn]] void refuse(std::string_view what, const Error& e) {
  die(what, std::string(reason_name(e.reason)) + ": " + e.detail);
}

// The bundle holds the raw CST only with --include-token: then the file is private (0600).
void write_out(const std::string& path, const std::string& text, bool secret) {
  auto s = policy::write_file_atomic(path, text, secret ? 0600 : 0644, Reason::CONFIG_INVALID);
  if (!s) die("bundle export", s.error().detail);
}

void export_cmd(const BundleFlags& f) {
  auto config = load_config(f.config.empty() ? default_config_path() : std::filesystem::path(f.config));
  if (!config) refuse("bundle export", config.error());
  // Read once, used once, zeroed when it goes out of scope (SecretKey's locked memory).
  auto key = policy::SecretKey::load(config->signing_key);
  if (!key) die("bundle export", "signing_key " + config->signing_key.string() + ": " +
                                     std::string(reason_name(key.reason())) + ": " + key.error().detail);
  receipts::ExportOptions options;
  options.job_id = f.job;
  options.include_token = f.include_token;
  auto bundle = receipts::export_bundle(config->state_dir, *key, options);
  if (!bundle) refuse("bundle export", bundle.error());
  if (auto log = receipts::read_job_log(config->state_dir, f.job); log && log->torn)
    std::cerr << "clawjail: bundle export: job " << f.job << ": " << *log->torn << " (not in the bundle)\n";
  std::string text = bundle->dump(2) + "\n";
  if (f.out.empty())
    std::cout << text;
  else
    write_out(f.out, text, f.include_token);
  exit_with(0);
}

std::vector<std::string> split_dids(const std::string& list) {
  std::vector<std::string> dids;
  std::stringstream in(list);
  for (std::string did; std::getline(in, did, ',');) {
    if (did.empty()) continue;
    if (auto pk = policy::public_key_from_did(did); !pk) die("bundle verify", "--trust " + did + ": " + pk.error().detail, 2);
    dids.push_back(did);
  }
  return dids;
}

void print(const BundleFlags& f, const receipts::Verdict& v) {
  if (f.json)
    std::cout << v.to_json().dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  else
    std::cout << v.line() << (v.pass ? "\n  " + v.detail : "") << "\n";
}

void verify_cmd(const BundleFlags& f) {
  auto trusted = split_dids(f.trust);
  if (trusted.empty())
    die("bundle verify", "TRUST_REQUIRED: name the supervisor key(s) you trust with --trust did:key:…[,did:key:…]", 2);
  policy::JsonLimits limits;
  limits.max_bytes = kMaxBundleBytes;
  auto envelope = policy::parse_strict_json_file(f.file, limits);
  receipts::Verdict v;
  if (envelope) {
    v = receipts::verify_bundle(*envelope, trusted, {.strict = f.strict});
  } else {
    v.reason = Reason::BUNDLE_MALFORMED;
    v.detail = std::string(reason_name(envelope.reason())) + ": " + envelope.error().detail;
  }
  print(f, v);
  exit_with(v.pass ? 0 : 1);
}

const CommandRegistrar kBundle("bundle", [](CLI::App& app) {
  auto f = std::make_shared<BundleFlags>();
  auto* bundle = app.add_subcommand("bundle", "Proof bundles: a job's WPC, CST claims and receipts, signed");
  bundle->require_subcommand(1);
  auto* e = bundle->add_subcommand("export", "Write the job's proof bundle, signed with the config's signing_key");
  e->add_option("--job", f->job, "job id")->required();
  e->add_flag("--include-token", f->include_token, "also carry the raw CST (the file is then written 0600)");
  e->add_option("--out", f->out, "output file (default: stdout)");
  e->add_option("--config", f->config, "configuration file (default: $CLAWJAIL_CONFIG, else /etc/clawjail/config.json)");
  e->callback([f] { export_cmd(*f); });
  auto* v = bundle->add_subcommand(
      "verify", "Verify a bundle offline: PASS or FAIL <REASON_CODE> <detail>; exit 0 only on PASS. "
                "The bundled WPC's signature is checked against its own signer_did: whether you trust "
                "that signer for policies is yours to check (PASS names it)");
  v->add_option("file", f->file, "bundle (JSON)")->required();
  v->add_option("--trust", f->trust, "trusted supervisor did:key(s), comma-separated; several for key rotation (required)");
  v->add_flag("--json", f->json, "machine-readable output");
  v->add_flag("--strict", f->strict,
              "also fail calls interrupted by the supervisor's death (RECEIPT_INTERRUPTED_CALL); by default they "
              "are accounted for and counted");
  v->callback([f] { verify_cmd(*f); });
});

}  // namespace
}  // namespace clawjail::cli
