// Shared fixtures for the receipts suite: unique state directories, keys, a stored WPC, drafts.
#pragma once
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "receipts/receipts.h"

namespace clawjail::receipts::testing {

namespace fs = std::filesystem;
using policy::Json;
using policy::SecretKey;

inline std::string unique_name(std::string_view prefix) {
  std::random_device rd;
  return std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

// A fresh directory removed at scope exit. Under /var/tmp (a real disk), never /tmp's tmpfs,
// so that fdatasync does real work in the group-commit test.
class TempDir {
 public:
  TempDir() : path_(fs::path("/var/tmp") / unique_name("clawjail-receipts")) { fs::create_directories(path_); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
 private:
  fs::path path_;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

inline std::string hash_of(std::string_view text) { return policy::sha256_b64u(text); }

// A signed WPC stored where export_bundle finds it; returns its hash.
inline std::string install_wpc(const fs::path& state_dir, const SecretKey& signer,
                               const std::string& policy_id = "receipts-test") {
  Json payload = {{"wpc_version", "v1"},
                  {"policy_id", policy_id},
                  {"issuer_did", signer.did()},
                  {"tools", {{"allow", {"exec", "read"}}, {"deny", {"process"}}}}};
  Json envelope = policy::sign_wpc(payload, signer);
  auto hash = policy::wpc_hash(envelope);
  EXPECT_TRUE(hash.ok());
  fs::create_directories(state_dir / "policies");
  spit(state_dir / "policies" / (*hash + ".json"), envelope.dump());
  return *hash;
}

inline Draft draft(const std::string& phase, const std::string& job, const std::string& call,
                   const std::string& policy_hash) {
  Draft d;
  d.phase = clawjail::from_name<clawjail::ReceiptPhase>(phase).value();
  d.job_id = job;
  d.call_id = call;
  d.tool = "exec";
  d.scopes = {"exec"};
  d.reason = phase == "blocked" ? Reason::EXEC_DENIED : Reason::OK;
  d.reason_detail = phase == "blocked" ? "exec is denied by the WPC" : "";
  d.agent_did = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw";
  d.policy_hash_b64u = policy_hash;
  d.request_hash_b64u = hash_of("request " + call);
  d.jail_hash_b64u = hash_of("jail");
  d.cst_jti = "jti-" + call;
  if (phase == "finished")
    d.result = Json{{"status", "success"}, {"exit_code", 0}, {"signal", 0}, {"duration_ms", 3},
                    {"stdout_hash_b64u", hash_of("out")}, {"stdout_bytes", 3},
                    {"stderr_hash_b64u", hash_of("")}, {"stderr_bytes", 0},
                    {"violations", Json::array({Json{{"syscall", "ptrace"}, {"count", 1}}})}};
  return d;
}

// Keys come from fixed seeds so that a test can hold the store's key and a copy for signing.
inline SecretKey key_from(char fill) {
  auto k = SecretKey::from_seed(std::string(32, fill));
  EXPECT_TRUE(k.ok());
  return std::move(*k);
}

inline std::unique_ptr<ReceiptStore> open_store(const fs::path& state_dir, char seed_fill,
                                                bool journal = false) {
  StoreOptions o;
  o.journal = journal;
  auto store = ReceiptStore::open(state_dir, key_from(seed_fill), std::move(o));
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().detail);
  return store.ok() ? std::move(*store) : nullptr;
}

// Runs argv, returns (exit status, stdout). Used for journalctl and node.
inline std::pair<int, std::string> run_capture(const std::vector<std::string>& argv) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return {-1, ""};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace clawjail::receipts::testing
