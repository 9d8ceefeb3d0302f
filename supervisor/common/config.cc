#include "supervisor/common/config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "policy/cst.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/strict_json.h"

namespace clawjail {
namespace {

using policy::Json;

Status only_known_keys(const Json& obj, const std::set<std::string>& known, std::string_view where) {
  for (const auto& [key, _] : obj.items())
    if (!known.count(key)) return fail(Reason::UNKNOWN_FIELD, std::string(where) + key);
  return ok_status();
}

template <class T>
Status read_field(const Json& obj, const char* key, T& out, std::string_view where) {
  if (!obj.contains(key)) return ok_status();
  if (!policy::holds_exactly<T>(obj.at(key))) return fail(Reason::BAD_FIELD, std::string(where) + key + ": wrong type");
  try {
    out = obj.at(key).get<T>();
  } catch (const Json::exception&) {
    return fail(Reason::BAD_FIELD, std::string(where) + key + ": wrong type");
  }
  return ok_status();
}

Result<sandbox::UidRange> parse_uid_range(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos) return fail(Reason::BAD_FIELD, "jail.uid_range: want FIRST:COUNT");
  try {
    sandbox::UidRange r;
    r.first = static_cast<uid_t>(std::stoul(text.substr(0, colon)));
    r.count = static_cast<uint32_t>(std::stoul(text.substr(colon + 1)));
    if (r.first == 0 || r.count == 0) return fail(Reason::BAD_FIELD, "jail.uid_range: must not include uid 0");
    return r;
  } catch (const std::exception&) {
    return fail(Reason::BAD_FIELD, "jail.uid_range: want FIRST:COUNT");
  }
}

// http only to this machine: a JWKS or a feed token read over plain http on a network would let
// anyone on the path choose the issuer keys or read the credential. The whole authority is a
// loopback host and a port: "http://localhost:80@host/" names `host` (the rest is a user name).
Status check_control_plane_url(const std::string& url, std::string_view where) {
  if (url.rfind("https://", 0) == 0 && url.size() > 8) return ok_status();
  if (url.rfind("http://", 0) == 0) {
    const std::string_view rest = std::string_view(url).substr(7);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    for (std::string_view host : {"127.0.0.1", "localhost", "[::1]"}) {
      if (!authority.starts_with(host)) continue;
      const std::string_view port = authority.substr(host.size());
      if (port.empty() || (port[0] == ':' && std::all_of(port.begin() + 1, port.end(), ::isdigit))) return ok_status();
    }
  }
  return fail(Reason::BAD_FIELD, std::string(where) + ": want an https:// URL (http:// only on loopback): " + url);
}

Status parse_issuers(const Json& j, Config& c) {
  if (!j.is_array()) return fail(Reason::BAD_FIELD, "cst_issuers: must be an array");
  for (const auto& item : j) {
    if (!item.is_object()) return fail(Reason::BAD_FIELD, "cst_issuers[]: must be objects");
    if (item.contains("jwks_url")) {
      if (auto s = only_known_keys(item, {"jwks_url"}, "cst_issuers[]."); !s) return s;
      if (!item["jwks_url"].is_string()) return fail(Reason::BAD_FIELD, "cst_issuers[].jwks_url: must be a string");
      auto url = item["jwks_url"].get<std::string>();
      if (auto s = check_control_plane_url(url, "cst_issuers[].jwks_url"); !s) return s;
      c.jwks_urls.push_back(url);
      continue;
    }
    if (auto s = only_known_keys(item, {"kid", "did"}, "cst_issuers[]."); !s) return s;
    policy::CstIssuer issuer;
    if (!item.contains("kid") || !item.contains("did") || !item["kid"].is_string() ||
        !item["did"].is_string())
      return fail(Reason::MISSING_FIELD, "cst_issuers[]: each needs kid and did strings");
    issuer.kid = item["kid"].get<std::string>();
    issuer.did = item["did"].get<std::string>();
    if (!policy::public_key_from_did(issuer.did)) return fail(Reason::BAD_DID, "cst_issuers[].did: " + issuer.did);
    c.cst_issuers.push_back(issuer);
  }
  return ok_status();
}

Status parse_feed(const Json& j, Config& c) {
  if (!j.is_object()) return fail(Reason::BAD_FIELD, "revocation_feed: must be an object");
  if (auto s = only_known_keys(j, {"url", "token_file", "poll_s", "max_staleness_s"}, "revocation_feed."); !s) return s;
  RevocationFeedConfig f;
  std::string token_file;
  for (auto s : {read_field(j, "url", f.url, "revocation_feed."), read_field(j, "token_file", token_file, "revocation_feed."),
                 read_field(j, "poll_s", f.poll_s, "revocation_feed."),
                 read_field(j, "max_staleness_s", f.max_staleness_s, "revocation_feed.")})
    if (!s) return s;
  if (auto s = check_control_plane_url(f.url, "revocation_feed.url"); !s) return s;
  if (token_file.empty()) return fail(Reason::MISSING_FIELD, "revocation_feed.token_file: the feed wants a bearer token");
  if (f.poll_s < 1) return fail(Reason::BAD_FIELD, "revocation_feed.poll_s: at least 1");
  if (f.max_staleness_s < f.poll_s)
    return fail(Reason::BAD_FIELD, "revocation_feed.max_staleness_s: at least poll_s, or every call would be refused");
  f.token_file = token_file;
  c.revocation_feed = f;
  return ok_status();
}

Status parse_control_plane(const Json& j, Config& c) {
  for (auto s : {read_field(j, "wpc_registry", c.wpc_registry, ""), read_field(j, "jwks_refresh_s", c.jwks_refresh_s, ""),
                 read_field(j, "control_plane_timeout_ms", c.control_plane_timeout_ms, "")})
    if (!s) return s;
  if (!c.wpc_registry.empty())
    if (auto s = check_control_plane_url(c.wpc_registry, "wpc_registry"); !s) return s;
  if (c.jwks_refresh_s < 1) return fail(Reason::BAD_FIELD, "jwks_refresh_s: at least 1");
  if (c.control_plane_timeout_ms < 100 || c.control_plane_timeout_ms > 60000)
    return fail(Reason::BAD_FIELD, "control_plane_timeout_ms: between 100 and 60000");
  if (j.contains("revocation_feed")) return parse_feed(j["revocation_feed"], c);
  return ok_status();
}

Status parse_clients(const Json& j, Config& c) {
  if (!j.is_object()) return fail(Reason::BAD_FIELD, "clients: must be an object");
  if (auto s = only_known_keys(j, {"uids", "gids"}, "clients."); !s) return s;
  if (auto s = read_field(j, "uids", c.client_uids, "clients."); !s) return s;
  return read_field(j, "gids", c.client_gids, "clients.");
}

Status parse_jail(const Json& j, Config& c) {
  if (!j.is_object()) return fail(Reason::BAD_FIELD, "jail: must be an object");
  if (auto s = only_known_keys(j, {"uid_range", "rootfs_binds"}, "jail."); !s) return s;
  if (j.contains("uid_range")) {
    if (!j["uid_range"].is_string()) return fail(Reason::BAD_FIELD, "jail.uid_range: must be a string");
    auto r = parse_uid_range(j["uid_range"].get<std::string>());
    if (!r) return r.error();
    c.uid_range = r.value();
  }
  return read_field(j, "rootfs_binds", c.rootfs_binds, "jail.");
}

}  // namespace

std::filesystem::path default_config_path() {
  if (const char* env = std::getenv("CLAWJAIL_CONFIG"); env && *env) return env;
  return "/etc/clawjail/config.json";
}

Result<Config> parse_config(const Json& j, const std::filesystem::path& path) {
  if (!j.is_object()) return fail(Reason::CONFIG_INVALID, "the configuration must be a JSON object");
  static const std::set<std::string> known = {"socket", "state_dir", "signing_key", "wpc_signers",
                                              "cst_issuers", "audience", "cst_max_lifetime_s",
                                              "clients", "jail", "pinned_wpc_hashes", "log_level",
                                              "gateway_receipt_signers", "wpc_registry", "jwks_refresh_s",
                                              "revocation_feed", "control_plane_timeout_ms", "max_calls_per_job"};
  Config c;
  c.path = path;
  std::string socket = c.socket, state = c.state_dir, key = c.signing_key;
  for (auto s : {only_known_keys(j, known, ""), read_field(j, "socket", socket, ""),
                 read_field(j, "state_dir", state, ""), read_field(j, "signing_key", key, ""),
                 read_field(j, "wpc_signers", c.wpc_signers, ""), read_field(j, "audience", c.audience, ""),
                 read_field(j, "cst_max_lifetime_s", c.cst_max_lifetime_s, ""),
                 read_field(j, "pinned_wpc_hashes", c.pinned_wpc_hashes, ""),
                 read_field(j, "gateway_receipt_signers", c.gateway_receipt_signers, ""),
                 read_field(j, "log_level", c.log_level, ""),
                 read_field(j, "max_calls_per_job", c.max_calls_per_job, "")})
    if (!s) return s.error();
  if (c.max_calls_per_job < 1 || c.max_calls_per_job > 4096)
    return fail(Reason::BAD_FIELD, "max_calls_per_job: between 1 and 4096");
  c.socket = socket;
  c.state_dir = state;
  c.signing_key = key;
  for (const auto& did : c.wpc_signers)
    if (!policy::public_key_from_did(did)) return fail(Reason::BAD_DID, "wpc_signers: " + did);
  for (const auto& did : c.gateway_receipt_signers)
    if (!policy::public_key_from_did(did)) return fail(Reason::BAD_DID, "gateway_receipt_signers: " + did);
  if (j.contains("cst_issuers"))
    if (auto s = parse_issuers(j["cst_issuers"], c); !s) return s.error();
  if (auto s = parse_control_plane(j, c); !s) return s.error();
  if (j.contains("clients"))
    if (auto s = parse_clients(j["clients"], c); !s) return s.error();
  if (j.contains("jail"))
    if (auto s = parse_jail(j["jail"], c); !s) return s.error();
  return c;
}

std::vector<std::filesystem::path> protected_paths(const Config& config) {
  return {config.state_dir, config.socket, config.signing_key, config.path};
}

Result<Config> load_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return fail(Reason::CONFIG_INVALID, "cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  auto json = policy::parse_strict_json(text.str(), {.max_bytes = 1 << 20, .max_depth = 16, .allow_floats = false});
  if (!json) return fail(Reason::CONFIG_INVALID, path.string() + ": " + json.error().detail);
  auto config = parse_config(json.value(), path);
  if (!config) return fail(config.error().reason, path.string() + ": " + config.error().detail);
  return config;
}

Json config_to_json(const Config& c) {
  Json issuers = Json::array();
  for (const auto& i : c.cst_issuers) issuers.push_back({{"kid", i.kid}, {"did", i.did}});
  for (const auto& url : c.jwks_urls) issuers.push_back({{"jwks_url", url}});
  Json out = {{"socket", c.socket.string()},
          {"state_dir", c.state_dir.string()},
          {"signing_key", c.signing_key.string()},
          {"wpc_signers", c.wpc_signers},
          {"cst_issuers", issuers},
          {"audience", c.audience},
          {"cst_max_lifetime_s", c.cst_max_lifetime_s},
          {"clients", {{"uids", c.client_uids}, {"gids", c.client_gids}}},
          {"jail", {{"uid_range", std::to_string(c.uid_range.first) + ":" + std::to_string(c.uid_range.count)},
                    {"rootfs_binds", c.rootfs_binds}}},
          {"pinned_wpc_hashes", c.pinned_wpc_hashes},
          {"gateway_receipt_signers", c.gateway_receipt_signers},
          {"log_level", c.log_level},
          {"jwks_refresh_s", c.jwks_refresh_s},
          {"control_plane_timeout_ms", c.control_plane_timeout_ms},
          {"max_calls_per_job", c.max_calls_per_job}};
  if (!c.wpc_registry.empty()) out["wpc_registry"] = c.wpc_registry;
  if (const auto& f = c.revocation_feed)
    out["revocation_feed"] = {{"url", f->url}, {"token_file", f->token_file.string()}, {"poll_s", f->poll_s},
                              {"max_staleness_s", f->max_staleness_s}};
  return out;
}

}  // namespace clawjail
