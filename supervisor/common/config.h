// The supervisor's configuration file (docs/cli.md "Configuration"). Strict: unknown keys are errors.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "policy/cst.h"
#include "policy/json.h"
#include "sandbox/jail.h"

namespace clawjail {

// The fleet's control plane (docs/operations.md "Fleet"): where the supervisor fetches what it
// cannot know alone. Every URL is https, or http on loopback only.
struct RevocationFeedConfig {
  std::string url;                  // clawscope's GET /v1/revocations/events
  std::filesystem::path token_file;  // the bearer token the feed wants
  int64_t poll_s = 5;
  int64_t max_staleness_s = 300;    // unread this long: new calls are refused
  bool operator==(const RevocationFeedConfig&) const = default;
};

struct Config {
  std::filesystem::path path;  // where it was read from
  std::filesystem::path socket = "/run/clawjail/clawjail.sock";
  std::filesystem::path state_dir = "/var/lib/clawjail";
  std::filesystem::path signing_key = "/var/lib/clawjail/keys/supervisor.key";
  std::vector<std::string> wpc_signers;
  std::vector<policy::CstIssuer> cst_issuers;
  std::string audience = "clawjail";
  int64_t cst_max_lifetime_s = 3600;
  std::vector<uid_t> client_uids;
  std::vector<gid_t> client_gids;
  sandbox::UidRange uid_range;
  std::vector<std::string> rootfs_binds{"/usr", "/bin", "/lib", "/lib64", "/etc/ssl"};
  // Freeze at last known-good: when non-empty, only these WPC hashes are accepted.
  std::vector<std::string> pinned_wpc_hashes;
  // The gateways (clawproxy's did:key) whose gateway receipts `bundle export --gateway-receipts`
  // imports for model calls (docs/claw-bundles.md); empty: none is.
  std::vector<std::string> gateway_receipt_signers;
  std::string log_level = "info";
  std::string wpc_registry;            // clawcontrols base URL: GET <it>/v1/wpc/<hash>
  std::vector<std::string> jwks_urls;  // cst_issuers entries {"jwks_url": …} (clawscope GET /v1/jwks)
  int64_t jwks_refresh_s = 300;
  std::optional<RevocationFeedConfig> revocation_feed;
  int64_t control_plane_timeout_ms = 5000;  // each request to the registry, a JWKS or the feed
  int64_t max_calls_per_job = 64;           // running at once; past it a call is refused JOB_CALL_LIMIT
};

// $CLAWJAIL_CONFIG, else /etc/clawjail/config.json — unless `explicit_path` is given.
std::filesystem::path default_config_path();
Result<Config> load_config(const std::filesystem::path& path);
Result<Config> parse_config(const policy::Json& json, const std::filesystem::path& path);
// The supervisor's own files, which no jail may see nor contain (JailSpec::protected_paths):
// the state directory, the socket, the signing key, the configuration file.
std::vector<std::filesystem::path> protected_paths(const Config& config);
policy::Json config_to_json(const Config& config);

}  // namespace clawjail
