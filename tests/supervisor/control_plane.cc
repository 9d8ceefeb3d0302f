#include "control_plane.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>

#include "policy/encoding.h"
#include "supervisor/common/subprocess.h"

extern char** environ;

namespace clawjail::test {

using policy::Json;

ControlPlane::ControlPlane() {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::string script = std::string(CLAWJAIL_SOURCE_DIR) + "/tests/fleet/control_plane.mjs";
  std::string token = kFeedToken;
  std::vector<char*> argv = {const_cast<char*>("node"), script.data(), const_cast<char*>("--feed-token"),
                             token.data(), nullptr};
  int rc = ::posix_spawnp(&pid_, "node", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  in_.reset(in[1]);
  out_.reset(out[0]);
  if (rc != 0) {
    pid_ = -1;
    return;
  }
  auto first = read_line();
  try {
    port_ = Json::parse(first).at("port").get<int>();
  } catch (const std::exception&) {
    port_ = 0;
  }
}

ControlPlane::~ControlPlane() {
  in_.reset();  // it exits when its stdin closes
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    wait_exit_code(pid_);
  }
}

std::string ControlPlane::read_line() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    auto nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd p{out_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    char buf[4096];
    ssize_t n = ::read(out_.get(), buf, sizeof buf);
    if (n <= 0) return "";
    buffered_.append(buf, static_cast<size_t>(n));
  }
}

Json ControlPlane::command(const Json& cmd) {
  std::string line = cmd.dump() + "\n";
  if (::write(in_.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    return {{"ok", false}, {"error", "write to the control plane failed"}};
  auto answer = read_line();
  try {
    return Json::parse(answer);
  } catch (const std::exception&) {
    return {{"ok", false}, {"error", "no answer: " + answer}};
  }
}

void ControlPlane::publish(const Json& envelope, const std::string& as) {
  Json cmd = {{"cmd", "publish_wpc"}, {"envelope", envelope}};
  if (!as.empty()) cmd["as"] = as;
  command(cmd);
}

void ControlPlane::set_jwks(const std::vector<Json>& keys) { command({{"cmd", "set_jwks"}, {"keys", Json(keys)}}); }

void ControlPlane::revoke_token(const std::string& token) {
  command({{"cmd", "revoke"}, {"token_hash", sha256_hex(token)}});
}

void ControlPlane::misbehave(const std::string& path, const std::string& mode, int ms) {
  command({{"cmd", "misbehave"}, {"path", path}, {"mode", mode}, {"ms", ms}});
}

Json jwk_of(const policy::SecretKey& key, const std::string& kid) {
  auto pk = key.public_key();
  return {{"kty", "OKP"}, {"crv", "Ed25519"},
          {"x", policy::b64u_encode({reinterpret_cast<const char*>(pk.data()), pk.size()})},
          {"kid", kid},   {"alg", "EdDSA"},   {"use", "sig"}};
}

std::string sha256_hex(const std::string& text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (uint8_t b : policy::sha256(text)) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

}  // namespace clawjail::test
