// A throw-away clawjail installation in one directory: keys, configuration, WPCs, CSTs.
// `clawjail demo` builds one; the supervisor's tests build theirs the same way.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "policy/json.h"
#include "policy/keys.h"

namespace clawjail::demo {

struct World {
  std::filesystem::path root, state_dir, socket, config_path, keys_dir, workspace;
  std::string issuer_kid = "demo-issuer";
  std::optional<policy::SecretKey> supervisor_key, signer_key, issuer_key, agent_key;
};

struct WorldOptions {
  std::vector<uid_t> client_uids;
  std::vector<gid_t> client_gids;
  std::optional<std::string> uid_range;  // jail.uid_range, FIRST:COUNT (else the default)
};
// Creates `root` (0700) with keys/, state/, workspace/ and config.json.
Result<World> create_world(const std::filesystem::path& root, const WorldOptions& options = {});

struct WpcOptions {
  std::string policy_id = "demo";
  bool allow_exec = true;
  bool elevated = false;
  std::string workspace_access = "rw";
  std::optional<int64_t> timeout_ms = std::nullopt;
};
policy::Json wpc_payload(const World& world, const WpcOptions& options);
// Signs with the world's WPC signer and installs into its store; returns policy_hash_b64u.
Result<std::string> install_wpc(const World& world, const policy::Json& payload);

struct TokenOptions {
  std::string job = "";
  std::optional<std::string> policy_hash_b64u = std::nullopt;
  int64_t ttl_s = 3600;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  bool bind_job = true;  // mission_id = job
};
std::string issue_token(const World& world, const TokenOptions& options);

Status write_file(const std::filesystem::path& path, std::string_view content, mode_t mode = 0600);

}  // namespace clawjail::demo
