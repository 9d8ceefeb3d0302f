// The fleet tests' control plane: tests/fleet/control_plane.mjs (registry, JWKS, revocation
// feed on loopback) run by node, driven by one JSON command a line on its stdin.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "policy/json.h"
#include "policy/keys.h"
#include "base/unique_fd.h"

namespace clawjail::test {

class ControlPlane {
 public:
  ControlPlane();  // starts it; ok() says whether it answered with its port
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;
  bool ok() const { return port_ > 0; }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string jwks_url() const { return base() + "/v1/jwks"; }
  std::string feed_url() const { return base() + "/v1/revocations/events"; }
  static constexpr const char* kFeedToken = "feed-secret";
  // One command (see control_plane.mjs); returns its answer, or {"ok": false, "error": …}.
  policy::Json command(const policy::Json& cmd);
  void publish(const policy::Json& envelope, const std::string& as = "");
  void set_jwks(const std::vector<policy::Json>& keys);
  void revoke_token(const std::string& token);  // by the hex SHA-256 of the token, as clawscope does
  void misbehave(const std::string& path, const std::string& mode, int ms = 0);

 private:
  std::string read_line();
  pid_t pid_ = -1;
  UniqueFd in_, out_;
  int port_ = 0;
  std::string buffered_;
};

// The JWK clawscope serves for `key` (OKP Ed25519).
policy::Json jwk_of(const policy::SecretKey& key, const std::string& kid);
// The lowercase hex SHA-256 of `text` (clawscope's token_hash).
std::string sha256_hex(const std::string& text);

}  // namespace clawjail::test
