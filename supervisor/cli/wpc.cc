// clawjail wpc hash|sign|verify|install: the Work Policy Contract on the command line.
#include <iostream>

#include "policy/json.h"
#include "policy/keys.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "policy/wpc_store.h"
#include "supervisor/common/commands.h"
#include "supervisor/common/config.h"

namespace clawjail::cli {
namespace {

using policy::Json;

struct WpcFlags {
  std::string file, key, trust, config;
  bool json = false;
};

[[noreturn]] void refuse(std::string_view what, const Error& e) {
  die(what, std::string(reason_name(e.reason)) + ": " + e.detail);
}

Json read_json(std::string_view what, const std::string& file) {
  auto json = policy::parse_strict_json_file(file);
  if (!json) refuse(what, json.error());
  return *json;
}

void hash(const WpcFlags& f) {
  auto h = policy::wpc_hash(read_json("wpc hash", f.file));
  if (!h) refuse("wpc hash", h.error());
  std::cout << (f.json ? Json{{"policy_hash_b64u", *h}}.dump() : *h) << "\n";
  exit_with(0);
}

void sign(const WpcFlags& f) {
  auto payload = read_json("wpc sign", f.file);
  if (payload.is_object() && payload.contains("envelope_type")) die("wpc sign", f.file + ": already an envelope; sign the payload");
  if (auto p = policy::parse_wpc_payload(payload); !p) refuse("wpc sign", p.error());
  auto key = policy::SecretKey::load(f.key);
  if (!key) refuse("wpc sign", key.error());
  std::cout << policy::sign_wpc(payload, *key).dump(2) << "\n";
  exit_with(0);
}

void print_verdict(const WpcFlags& f, const Result<policy::VerifiedWpc>& r) {
  if (f.json) {
    Json out = r ? Json{{"result", "PASS"}, {"policy_hash_b64u", r->policy.hash_b64u}, {"signer_did", r->signer_did}}
                 : Json{{"result", "FAIL"}, {"reason_code", reason_name(r.reason())}, {"detail", r.error().detail}};
    std::cout << out.dump() << "\n";
  } else if (r) {
    std::cout << "PASS " << r->policy.hash_b64u << "\n";
  } else {
    std::cout << "FAIL " << reason_name(r.reason()) << " " << r.error().detail << "\n";
  }
}

void verify(const WpcFlags& f) {
  auto trusted = split_dids("wpc verify", f.trust);
  auto json = policy::parse_strict_json_file(f.file);
  auto r = json ? policy::verify_wpc_envelope(*json, trusted) : Result<policy::VerifiedWpc>(json.error());
  print_verdict(f, r);
  exit_with(r ? 0 : 1);
}

void install(const WpcFlags& f) {
  auto config = load_config(f.config.empty() ? default_config_path() : std::filesystem::path(f.config));
  if (!config) refuse("wpc install", config.error());
  policy::PolicyStore store(config->state_dir, config->wpc_signers);
  auto h = store.install(read_json("wpc install", f.file));
  if (!h) refuse("wpc install", h.error());
  std::cout << (f.json ? Json{{"policy_hash_b64u", *h}}.dump() : *h) << "\n";
  exit_with(0);
}

void add_json_flag(CLI::App* cmd, WpcFlags& f) { cmd->add_flag("--json", f.json, "machine-readable output"); }

const CommandRegistrar kWpc("wpc", [](CLI::App& app) {
  auto f = std::make_shared<WpcFlags>();
  auto* wpc = app.add_subcommand("wpc", "Work Policy Contracts: hash, sign, verify, install");
  wpc->require_subcommand(1);
  auto* h = wpc->add_subcommand("hash", "Print the policy_hash_b64u of a WPC payload or envelope");
  h->add_option("file", f->file, "payload or envelope (JSON)")->required();
  add_json_flag(h, *f);
  h->callback([f] { hash(*f); });
  auto* s = wpc->add_subcommand("sign", "Sign a WPC payload; the envelope goes to stdout");
  s->add_option("--key", f->key, "secret key file (from clawjail keygen)")->required();
  s->add_option("file", f->file, "payload (JSON)")->required();
  s->callback([f] { sign(*f); });
  auto* v = wpc->add_subcommand("verify", "Verify an envelope: PASS <hash> or FAIL <REASON_CODE> <detail>; exit 0 only on PASS");
  v->add_option("--trust", f->trust, "trusted signer did:key(s), comma-separated")->required();
  v->add_option("file", f->file, "envelope (JSON)")->required();
  add_json_flag(v, *f);
  v->callback([f] { verify(*f); });
  auto* i = wpc->add_subcommand("install", "Verify an envelope against the configured wpc_signers and store it as "
                                           "<state_dir>/policies/<hash>.json; prints the hash");
  i->add_option("--config", f->config, "configuration file (default: $CLAWJAIL_CONFIG, else /etc/clawjail/config.json)");
  i->add_option("file", f->file, "envelope (JSON)")->required();
  add_json_flag(i, *f);
  i->callback([f] { install(*f); });
});

}  // namespace
}  // namespace clawjail::cli
