// clawjail cst issue|verify|revoke: scoped tokens (docs/formats.md §3) on the command line.
#include <grp.h>
#include <pwd.h>

#include <charconv>
#include <ctime>
#include <iostream>

#include "policy/cst.h"
#include "policy/decision.h"
#include "policy/encoding.h"
#include "policy/file_io.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "policy/ledger.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "supervisor/common/commands.h"
#include "supervisor/common/config.h"
#include "supervisor/fleet/fleet.h"

namespace clawjail::cli {
namespace {

using policy::Json;

struct CstFlags {
  std::string key, kid, sub, job, policy, token_file, wpc, tool, aud, config, jti, out, owner,
      why = "revoked by operator";
  std::vector<std::string> auds, scopes, issuers;
  int64_t ttl = 3600;
  bool json = false, bind = false;
};

[[noreturn]] void refuse(std::string_view what, const Error& e) {
  die(what, std::string(reason_name(e.reason)) + ": " + e.detail);
}

std::string read_token(std::string_view what, const std::string& file) {
  auto text = policy::read_file_limited(file, 64 * 1024);
  if (!text) die(what, text.error().detail);
  std::string token = *text;
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

Config load(std::string_view what, const std::string& path) {
  auto config = load_config(path.empty() ? default_config_path() : std::filesystem::path(path));
  if (!config) refuse(what, config.error());
  return *config;
}

// ---- issue ----

std::optional<uint32_t> number_of(const std::string& text) {
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// --owner USER[:GROUP]: names or numbers; without a group, the user's primary group.
policy::FileOwner parse_owner(const std::string& spec) {
  auto colon = spec.find(':');
  std::string user = spec.substr(0, colon), group = colon == std::string::npos ? "" : spec.substr(colon + 1);
  const struct passwd* pw = ::getpwnam(user.c_str());
  auto uid = pw ? std::optional<uint32_t>(pw->pw_uid) : number_of(user);
  if (!uid) die("cst issue", "--owner: no user " + user, 2);
  if (!pw) pw = ::getpwuid(*uid);
  policy::FileOwner owner{*uid, pw ? pw->pw_gid : 0};
  if (const struct group* gr = group.empty() ? nullptr : ::getgrnam(group.c_str())) owner.gid = gr->gr_gid;
  else if (auto gid = number_of(group)) owner.gid = *gid;
  else if (!group.empty()) die("cst issue", "--owner: no group " + group, 2);
  else if (!pw) die("cst issue", "--owner: uid " + user + " has no passwd entry: give USER:GROUP", 2);
  return owner;
}

std::string utc_text(int64_t epoch) {
  auto t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  char buf[32];
  ::gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// --out: the file the plugin hands to every call is replaced whole (policy::replace_file_keeping_owner),
// so a renewal racing a call never gives it half a token. The token itself is not printed: this
// runs from a timer, and the journal must not hold a credential.
void write_out(const CstFlags& f, const std::string& token, int64_t exp) {
  std::optional<policy::FileOwner> owner;
  if (!f.owner.empty()) owner = parse_owner(f.owner);
  auto s = policy::replace_file_keeping_owner(f.out, token + "\n", owner, Reason::CONFIG_INVALID);
  if (!s) die("cst issue", "--out " + s.error().detail);
  if (f.json)
    std::cout << Json{{"out", f.out}, {"job", f.job}, {"exp", exp}}.dump() << "\n";
  else
    std::cout << "wrote " << f.out << ": a CST for job " << f.job << ", expires " << utc_text(exp) << "\n";
}

void issue(const CstFlags& f) {
  if (f.ttl <= 0) die("cst issue", "--ttl must be positive", 2);
  auto key = policy::SecretKey::load(f.key);
  if (!key) refuse("cst issue", key.error());
  policy::CstIssueRequest req;
  req.kid = f.kid;
  req.sub = f.sub;
  req.job = f.job;
  if (!f.auds.empty()) req.aud = f.auds;
  if (!f.scopes.empty()) req.scope = f.scopes;
  if (!f.policy.empty()) {
    auto hash = policy::normalize_hash_b64u(f.policy);
    if (!hash) die("cst issue", "--policy: " + hash.error().detail, 2);
    req.policy_hash_b64u = *hash;
  }
  req.ttl_s = f.ttl;
  req.now = std::chrono::system_clock::now();
  std::string token = policy::issue_cst(*key, req);
  if (!f.out.empty())
    write_out(f, token, std::chrono::duration_cast<std::chrono::seconds>(req.now.time_since_epoch()).count() + f.ttl);
  else
    std::cout << (f.json ? Json{{"token", token}}.dump() : token) << "\n";
  exit_with(0);
}

// ---- verify ----

std::vector<policy::CstIssuer> parse_issuers(const std::vector<std::string>& specs) {
  std::vector<policy::CstIssuer> out;
  for (const auto& spec : specs) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) die("cst verify", "--issuer wants KID=DID: " + spec, 2);
    policy::CstIssuer issuer{spec.substr(0, eq), spec.substr(eq + 1)};
    if (auto pk = policy::public_key_from_did(issuer.did); !pk) die("cst verify", "--issuer: " + pk.error().detail, 2);
    out.push_back(issuer);
  }
  return out;
}

// The WPC the token is checked against: an envelope (verified against the configured signers when
// there is a configuration) or a bare payload.
Result<policy::Policy> load_wpc(const CstFlags& f, const std::optional<Config>& config) {
  auto json = policy::parse_strict_json_file(f.wpc);
  if (!json) return json.error();
  bool envelope = json->is_object() && json->contains("envelope_type");
  if (!envelope) return policy::parse_wpc_payload(*json);
  if (!config) {
    auto hash = policy::wpc_hash(*json);
    if (!hash) return hash.error();
    if ((*json)["payload_hash_b64u"] != *hash) return fail(Reason::WPC_HASH_MISMATCH, "envelope payload_hash_b64u");
    return policy::parse_wpc_payload((*json)["payload"]);
  }
  auto verified = policy::verify_wpc_envelope(*json, config->wpc_signers);
  if (!verified) return verified.error();
  return verified->policy;
}

Status check_ledger(const policy::Cst& cst, const std::string& job, const Config& config) {
  policy::TokenLedger ledger(config.state_dir);
  if (auto s = ledger.check_not_revoked(cst); !s) return s;
  return ledger.check_jti(cst.jti, job);
}

Status check_tool(const CstFlags& f, const policy::Policy& wpc, const policy::Cst& cst) {
  policy::Call call;
  call.tool = f.tool;
  auto decision = policy::decide(wpc, &cst, call);
  if (!decision.allowed) return fail(decision.reason, decision.detail);
  return ok_status();
}

Result<policy::Cst> verify_all(const CstFlags& f, const std::optional<Config>& config) {
  policy::CstVerifyOptions options;
  options.issuers = parse_issuers(f.issuers);
  if (config) {
    auto known = fleet::known_issuers(*config);
    options.issuers.insert(options.issuers.end(), known.begin(), known.end());
    options.audience = config->audience;
    options.max_lifetime_s = config->cst_max_lifetime_s;
  }
  if (!f.aud.empty()) options.audience = f.aud;
  auto cst = policy::verify_cst(read_token("cst verify", f.token_file), options);
  if (!cst) return cst;
  if (config)
    if (auto s = check_ledger(*cst, f.job, *config); !s) return s.error();
  auto wpc = load_wpc(f, config);
  if (!wpc) return wpc.error();
  policy::Call call;
  call.tool = f.tool;
  auto scopes = f.tool.empty() ? std::vector<std::string>{} : policy::needed_scopes(call);
  if (auto s = policy::check_cst_for_call(*cst, *wpc, f.job, scopes); !s) return s.error();
  if (!f.tool.empty())
    if (auto s = check_tool(f, *wpc, *cst); !s) return s.error();
  if (f.bind)
    if (auto s = policy::TokenLedger(config->state_dir).bind_jti(cst->jti, f.job, cst->exp); !s) return s.error();
  return cst;
}

void print_verdict(const CstFlags& f, const Result<policy::Cst>& r) {
  if (f.json) {
    Json out = r ? Json{{"result", "PASS"}, {"jti", r->jti}, {"sub", r->sub}, {"kid", r->kid}, {"exp", r->exp}}
                 : Json{{"result", "FAIL"}, {"reason_code", reason_name(r.reason())}, {"detail", r.error().detail}};
    std::cout << out.dump() << "\n";
  } else if (r) {
    std::cout << "PASS\n";
  } else {
    std::cout << "FAIL " << reason_name(r.reason()) << " " << r.error().detail << "\n";
  }
}

void verify(const CstFlags& f) {
  std::optional<Config> config;
  if (!f.config.empty()) config = load("cst verify", f.config);
  else std::cerr << "clawjail: cst verify: no --config: the token alone is checked (no revocation list, no jti ledger)\n";
  if (f.issuers.empty() && !config) die("cst verify", "give --issuer KID=DID or --config", 2);
  if (f.bind && !config) die("cst verify", "--bind needs --config (the ledger lives in its state_dir)", 2);
  auto r = verify_all(f, config);
  print_verdict(f, r);
  exit_with(r ? 0 : 1);
}

// ---- revoke ----

void revoke(const CstFlags& f) {
  if (f.jti.empty() == f.token_file.empty()) die("cst revoke", "give exactly one of --jti or --token-file", 2);
  auto config = load("cst revoke", f.config);
  policy::TokenLedger ledger(config.state_dir);
  std::string what = f.jti.empty() ? policy::sha256_b64u(read_token("cst revoke", f.token_file)) : f.jti;
  auto s = f.jti.empty() ? ledger.revoke_token_hash(what, f.why) : ledger.revoke_jti(what, f.why);
  if (!s) refuse("cst revoke", s.error());
  std::string kind = f.jti.empty() ? "token_sha256_b64u" : "jti";
  std::cout << (f.json ? Json{{"revoked", true}, {kind, what}}.dump() : "revoked " + kind + " " + what) << "\n";
  exit_with(0);
}

void add_issue(CLI::App* cst, const std::shared_ptr<CstFlags>& f) {
  auto* c = cst->add_subcommand("issue", "Issue a CST (clawscope's format) on stdout or, with --out, into a file "
                                         "replaced atomically (for a renewal timer: clawjail-cst@JOB.timer)");
  c->add_option("--key", f->key, "issuer secret key file")->required();
  c->add_option("--kid", f->kid, "key id written in the header")->required();
  c->add_option("--sub", f->sub, "subject: the agent's DID")->required();
  c->add_option("--job", f->job, "job id (the mission_id claim)")->required();
  c->add_option("--aud", f->auds, "audience (repeatable; default clawjail)");
  c->add_option("--scope", f->scopes, "scope entry (repeatable; default clawjail:call)");
  c->add_option("--policy", f->policy, "pin the WPC with this policy_hash_b64u");
  c->add_option("--ttl", f->ttl, "lifetime in seconds (default 3600)");
  auto* out = c->add_option("--out", f->out, "replace FILE with the token instead of printing it: a temporary "
                                             "file beside it, fsync, rename; FILE keeps its owner, group and "
                                             "mode (a new one is 0600); a symlink or directory is refused");
  c->add_option("--owner", f->owner,
                "USER[:GROUP] a new --out file belongs to; an existing one must already belong to USER")
      ->needs(out);
  c->add_flag("--json", f->json, "print {token} as JSON ({out, job, exp} with --out)");
  c->callback([f] { issue(*f); });
}

void add_verify(CLI::App* cst, const std::shared_ptr<CstFlags>& f) {
  auto* c = cst->add_subcommand("verify", "Verify a CST for a job under a WPC: PASS or FAIL <REASON_CODE> <detail>; "
                                          "exit 0 only on PASS");
  c->add_option("--token-file", f->token_file, "file holding the compact JWS")->required();
  c->add_option("--issuer", f->issuers, "trusted issuer KID=DID (repeatable; added to the configuration's)");
  c->add_option("--wpc", f->wpc, "the WPC (envelope or payload) the call runs under")->required();
  c->add_option("--job", f->job, "the job id of the call")->required();
  c->add_option("--tool", f->tool, "also decide this tool call (exec, read, write, …)");
  c->add_option("--aud", f->aud, "expected audience (default: the configuration's, else clawjail)");
  c->add_option("--config", f->config, "also check the revocation list and jti ledger of this configuration");
  c->add_flag("--bind", f->bind, "on PASS, record the jti under --job in the ledger, as the supervisor does on "
                                  "admission (needs --config)");
  c->add_flag("--json", f->json, "machine-readable verdict");
  c->callback([f] { verify(*f); });
}

void add_revoke(CLI::App* cst, const std::shared_ptr<CstFlags>& f) {
  auto* c = cst->add_subcommand("revoke", "Add a jti or a token to the supervisor's revocation list; running calls "
                                          "under it are stopped");
  auto* jti = c->add_option("--jti", f->jti, "the token's jti");
  auto* file = c->add_option("--token-file", f->token_file, "file holding the token (its SHA-256 is revoked)");
  jti->excludes(file);
  c->add_option("--reason", f->why, "why, kept in the ledger");
  c->add_option("--config", f->config, "configuration file (default: $CLAWJAIL_CONFIG, else /etc/clawjail/config.json)");
  c->add_flag("--json", f->json, "machine-readable result");
  c->callback([f] { revoke(*f); });
}

const CommandRegistrar kCst("cst", [](CLI::App& app) {
  auto f = std::make_shared<CstFlags>();
  auto* cst = app.add_subcommand("cst", "Capability-scoped tokens: issue, verify, revoke");
  cst->require_subcommand(1);
  add_issue(cst, f);
  add_verify(cst, f);
  add_revoke(cst, f);
});

}  // namespace
}  // namespace clawjail::cli
