#include "supervisor/demo/world.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "policy/cst.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "base/unique_fd.h"
#include "policy/wpc.h"
#include "policy/wpc_store.h"
#include "supervisor/common/config.h"

namespace clawjail::demo {
namespace {

using policy::Json;

Result<policy::SecretKey> new_key(const std::filesystem::path& dir, const std::string& name) {
  auto key = policy::SecretKey::generate();
  if (auto s = key.save(dir / (name + ".key")); !s) return s.error();
  if (auto s = policy::save_public_key(dir / (name + ".pub"), key.public_key()); !s) return s.error();
  return key;
}

Json config_json(const World& w, const WorldOptions& o) {
  Json config = {{"socket", w.socket.string()},
          {"state_dir", w.state_dir.string()},
          {"signing_key", (w.keys_dir / "supervisor.key").string()},
          {"wpc_signers", {w.signer_key->did()}},
          {"cst_issuers", {{{"kid", w.issuer_kid}, {"did", w.issuer_key->did()}}}},
          {"audience", "clawjail"},
          {"clients", {{"uids", o.client_uids}, {"gids", o.client_gids}}}};
  if (o.uid_range) config["jail"] = {{"uid_range", *o.uid_range}};
  return config;
}

}  // namespace

Status write_file(const std::filesystem::path& path, std::string_view content, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return fail(Reason::INTERNAL_ERROR, "cannot write " + path.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n <= 0) return fail(Reason::INTERNAL_ERROR, "cannot write " + path.string() + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

Result<World> create_world(const std::filesystem::path& root, const WorldOptions& options) {
  World w;
  w.root = root;
  w.keys_dir = root / "keys";
  w.state_dir = root / "state";
  w.workspace = root / "workspace";
  w.socket = root / "clawjail.sock";
  w.config_path = root / "config.json";
  std::error_code ec;
  for (const auto& dir : {root, w.keys_dir, w.state_dir, w.workspace}) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(Reason::INTERNAL_ERROR, "cannot create " + dir.string() + ": " + ec.message());
  }
  ::chmod(root.c_str(), 0711);  // the jail's uid must reach the workspace below it
  ::chmod(w.keys_dir.c_str(), 0700);
  ::chmod(w.state_dir.c_str(), 0700);
  for (auto [slot, name] : {std::pair{&w.supervisor_key, "supervisor"}, {&w.signer_key, "wpc-signer"},
                            {&w.issuer_key, "cst-issuer"}, {&w.agent_key, "agent"}}) {
    auto key = new_key(w.keys_dir, name);
    if (!key) return key.error();
    slot->emplace(std::move(key.value()));
  }
  if (auto s = write_file(w.config_path, config_json(w, options).dump(2) + "\n", 0644); !s) return s.error();
  return w;
}

Json wpc_payload(const World& w, const WpcOptions& o) {
  Json deny = {"docker_socket", "browser:host_control"};
  Json allow = {"read", "write:workspace"};
  (o.allow_exec ? allow : deny).push_back("exec");
  Json sandbox = {{"workspace_access", o.workspace_access}};
  if (o.timeout_ms) sandbox["limits"] = {{"timeout_ms", *o.timeout_ms}};
  return {{"wpc_version", "v1"},
          {"policy_id", o.policy_id},
          {"issuer_did", w.signer_key->did()},
          {"tools", {{"allow", allow}, {"deny", deny}, {"elevated", {{"enabled", o.elevated}}}}},
          {"tokens", {{"require_cst", true}, {"pin_wpc_hash", true}}},
          {"sandbox", sandbox}};
}

Result<std::string> install_wpc(const World& w, const Json& payload) {
  policy::PolicyStore store(w.state_dir, {w.signer_key->did()});
  return store.install(policy::sign_wpc(payload, *w.signer_key));
}

std::string issue_token(const World& w, const TokenOptions& o) {
  policy::CstIssueRequest r;
  r.kid = w.issuer_kid;
  r.sub = w.agent_key->did();
  r.job = o.bind_job ? o.job : "";
  r.policy_hash_b64u = o.policy_hash_b64u;
  r.ttl_s = o.ttl_s;
  r.now = o.now;
  return policy::issue_cst(*w.issuer_key, r);
}

}  // namespace clawjail::demo
