// Three supervisors on this machine, each with its own configuration and state directory, share
// one control plane (tests/fleet/control_plane.mjs): a WPC published once runs on all three,
// their issuer key comes from the JWKS, and a token revoked once at the feed is refused on all
// three and its running calls are killed within the bound docs/operations.md "Fleet" states
// (poll_s + the ledger watcher's 200 ms + the kill). Prints the propagation times it measured.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <array>
#include <fstream>
#include <iostream>
#include <thread>

#include "control_plane.h"
#include "fixture.h"
#include "policy/encoding.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "receipts/receipts.h"
#include "supervisor/client/client.h"

namespace clawjail::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int kHosts = 3;
constexpr int kPollS = 1;

long ms_since(steady_clock::time_point t0) {
  return static_cast<long>(std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0).count());
}

class ThreeSupervisors : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();  // hosts_[0] borrows nothing from it but the temporary root
    ASSERT_TRUE(cp.ok());
    // One issuer and one WPC signer for the fleet: host 0's keys; the other hosts only hear of
    // them through their configuration (signer) and the JWKS (issuer).
    cp.set_jwks({jwk_of(*world.issuer_key, world.issuer_kid)});
    ASSERT_TRUE(demo::write_file(root / "feed.token", std::string(ControlPlane::kFeedToken) + "\n").ok());
    for (int i = 0; i < kHosts; ++i) {
      auto w = demo::create_world(root / ("host" + std::to_string(i)));
      ASSERT_TRUE(w.ok()) << w.error().detail;
      hosts_[i] = std::move(w.value());
      Json config = policy::parse_strict_json_file(hosts_[i].config_path).value();
      config["wpc_signers"] = {world.signer_key->did()};
      config["cst_issuers"] = {{{"jwks_url", cp.jwks_url()}}};
      config["wpc_registry"] = cp.base();
      config["revocation_feed"] = {{"url", cp.feed_url()}, {"token_file", (root / "feed.token").string()},
                                   {"poll_s", kPollS}, {"max_staleness_s", 30}};
      ASSERT_TRUE(demo::write_file(hosts_[i].config_path, config.dump(2)).ok());
    }
  }
  void TearDown() override {
    for (auto& pid : pids_)
      if (pid > 0) {
        ::kill(pid, SIGTERM);
        wait_exit_code(pid);
        pid = -1;
      }
    if (HasFailure())
      for (int i = 0; i < kHosts; ++i) std::cerr << "host" << i << " log:\n" << host_log(i) << "\n";
    SupervisorTest::TearDown();
  }
  std::string host_log(int i) {
    std::ifstream in(root / ("host" + std::to_string(i) + ".log"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void start_host(int i) {
    UniqueFd log(::open((root / ("host" + std::to_string(i) + ".log")).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    auto pid = spawn_logged({CLAWJAIL_BINARY, "serve", "--config", hosts_[i].config_path.string()}, log.get());
    ASSERT_TRUE(pid.ok());
    pids_[i] = *pid;
    for (int n = 0; n < 200; ++n) {
      if (client::connect_unix(hosts_[i].socket)) return;
      std::this_thread::sleep_for(milliseconds(50));
    }
    FAIL() << "host " << i << " never answered: " << host_log(i);
  }
  std::vector<std::string> run_on(int i, const std::string& job, const fs::path& cst, std::vector<std::string> cmd) {
    std::vector<std::string> a = {"run", "--socket", hosts_[i].socket.string(), "--job", job, "--cst-file",
                                  cst.string(), "--workspace", hosts_[i].workspace.string(), "--"};
    a.insert(a.end(), cmd.begin(), cmd.end());
    return a;
  }
  std::vector<Json> host_receipts(int i, const std::string& job) {
    std::vector<Json> out;
    auto log = receipts::read_job_log(hosts_[i].state_dir, job);
    if (!log) return out;
    for (const auto& e : log->envelopes)
      if (auto bytes = policy::b64_decode(e.value("payload", ""))) out.push_back(Json::parse(*bytes));
    return out;
  }
  ControlPlane cp;
  std::array<demo::World, kHosts> hosts_;
  std::array<pid_t, kHosts> pids_{-1, -1, -1};
};

TEST_F(ThreeSupervisors, OneControlPlanePublishesAndRevokesForAll) {
  for (int i = 0; i < kHosts; ++i) start_host(i);
  // A WPC published once, installed nowhere.
  Json env = policy::sign_wpc(demo::wpc_payload(world, {.policy_id = "fleet-wide"}), *world.signer_key);
  const std::string hash = policy::wpc_hash(env).value();
  cp.publish(env);
  const std::string job = "job-fleet";
  auto cst = token_file("fleet", {.job = job, .policy_hash_b64u = hash});
  for (int i = 0; i < kHosts; ++i) {
    ASSERT_FALSE(fs::exists(hosts_[i].state_dir / "policies" / (hash + ".json")));
    auto t0 = steady_clock::now();
    auto first = clawjail(run_on(i, job, cst, {"/bin/echo", "host" + std::to_string(i)}));
    long first_ms = ms_since(t0);
    EXPECT_EQ(first.exit_code, 0) << "host" << i << ": " << first.err;
    EXPECT_EQ(first.out, "host" + std::to_string(i) + "\n");
    t0 = steady_clock::now();
    EXPECT_EQ(clawjail(run_on(i, job, cst, {"/bin/true"})).exit_code, 0);
    std::cout << "host" << i << ": first call (WPC fetched from the registry) " << first_ms
              << " ms, next call (stored) " << ms_since(t0) << " ms\n";
  }
  // A long call of the token on every host.
  std::array<Client, kHosts> running;
  for (int i = 0; i < kHosts; ++i)
    running[i] = start_client(run_on(i, job, cst, {"/bin/sh", "-c", "sleep 60; : marker-fleet-" + std::to_string(i)}));
  for (int i = 0; i < kHosts; ++i) {
    for (int n = 0; n < 250 && !process_with_marker_exists("marker-fleet-" + std::to_string(i)); ++n)
      std::this_thread::sleep_for(milliseconds(20));
    ASSERT_TRUE(process_with_marker_exists("marker-fleet-" + std::to_string(i))) << "host" << i;
  }
  std::ifstream in(cst);
  std::string token;
  std::getline(in, token);
  // Revoked once, at the issuer's feed.
  auto t0 = steady_clock::now();
  cp.revoke_token(token);
  std::array<long, kHosts> killed_ms{-1, -1, -1};
  std::array<int, kHosts> codes{};
  for (int left = kHosts; left > 0 && ms_since(t0) < 10000;) {
    for (int i = 0; i < kHosts; ++i) {
      int status;
      if (killed_ms[i] < 0 && ::waitpid(running[i].pid, &status, WNOHANG) == running[i].pid) {
        killed_ms[i] = ms_since(t0);
        codes[i] = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        --left;
      }
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  const long bound_ms = kPollS * 1000 + 200 + 1500;  // poll_s + the ledger watcher + the kill (margin for loaded runs)
  for (int i = 0; i < kHosts; ++i) {
    SCOPED_TRACE("host" + std::to_string(i));
    EXPECT_GE(killed_ms[i], 0) << "the running call was not killed";
    EXPECT_LE(killed_ms[i], bound_ms);
    EXPECT_EQ(codes[i], 128 + SIGKILL);
    EXPECT_FALSE(process_with_marker_exists("marker-fleet-" + std::to_string(i)));
    auto t1 = steady_clock::now();
    auto refused = clawjail(run_on(i, job, cst, {"/bin/true"}));
    EXPECT_EQ(refused.exit_code, 126);
    EXPECT_NE(refused.err.find("blocked: CST_REVOKED"), std::string::npos) << refused.err;
    auto r = host_receipts(i, job);
    ASSERT_GE(r.size(), 2u);
    EXPECT_EQ(r.back()["phase"], "blocked");
    EXPECT_EQ(r.back()["reason_code"], "CST_REVOKED");
    std::cout << "host" << i << ": revocation at the feed killed the running call after " << killed_ms[i]
              << " ms (bound " << bound_ms << " ms); the next call was refused in " << ms_since(t1) << " ms\n";
  }
}

}  // namespace
}  // namespace clawjail::test
