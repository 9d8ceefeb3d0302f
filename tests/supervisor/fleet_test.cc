// The fleet's control plane against a real supervisor and a real HTTP server on loopback
// (tests/fleet/control_plane.mjs): WPCs fetched by hash, issuer keys from a JWKS, revocations
// from the feed, and every way each can fail closed with its reason and a `blocked` receipt.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "control_plane.h"
#include "fixture.h"
#include "policy/encoding.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"

namespace clawjail::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class Fleet : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    ASSERT_TRUE(cp.ok()) << "the control plane (node tests/fleet/control_plane.mjs) did not start";
  }
  // Merges `changes` into the world's configuration (RFC 7386).
  void configure(const Json& changes) {
    auto config = policy::parse_strict_json_file(world.config_path);
    ASSERT_TRUE(config.ok());
    config->merge_patch(changes);
    ASSERT_TRUE(demo::write_file(world.config_path, config->dump(2)).ok());
  }
  void configure_feed(int poll_s, int max_staleness_s, const std::string& token = ControlPlane::kFeedToken) {
    ASSERT_TRUE(demo::write_file(root / "feed.token", token + "\n").ok());
    configure({{"revocation_feed", {{"url", cp.feed_url()}, {"token_file", (root / "feed.token").string()},
                                    {"poll_s", poll_s}, {"max_staleness_s", max_staleness_s}}}});
  }
  // A WPC signed by `signer` (the world's WPC signer by default), installed nowhere.
  Json envelope(const std::string& policy_id, const policy::SecretKey* signer = nullptr) {
    return policy::sign_wpc(demo::wpc_payload(world, {.policy_id = policy_id}), signer ? *signer : *world.signer_key);
  }
  static std::string hash_of(const Json& env) { return policy::wpc_hash(env).value(); }
  fs::path stored(const std::string& hash) { return world.state_dir / "policies" / (hash + ".json"); }
  Captured run_under(const std::string& job, const std::string& wpc_hash, std::vector<std::string> cmd) {
    auto cst = token_file(job, {.job = job, .policy_hash_b64u = wpc_hash});
    cmd.insert(cmd.begin(), "--");
    return clawjail(run_args(job, cst, cmd));
  }
  // The call was refused with `reason`, said on stderr and in its one `blocked` receipt.
  void expect_blocked(const Captured& c, const std::string& job, const std::string& reason) {
    EXPECT_EQ(c.exit_code, 126) << c.err;
    EXPECT_NE(c.err.find("blocked: " + reason), std::string::npos) << c.err;
    auto r = receipts(job);
    ASSERT_EQ(r.size(), 1u) << job;
    EXPECT_EQ(r[0]["phase"], "blocked");
    EXPECT_EQ(r[0]["reason_code"], reason) << r[0].dump();
  }
  ControlPlane cp;
};

// ---- configuration ----

// Plain http off loopback would hand the issuer keys and the feed's token to the network; a feed
// without a token, or whose staleness limit is below its poll period, could never work.
TEST_F(Fleet, BadControlPlaneConfigurationIsAStartUpError) {
  const std::string token = (root / "feed.token").string();
  auto feed = [&](Json f) { return Json{{"revocation_feed", std::move(f)}}; };
  Json jwks_http = Json::object(), jwks_and_kid = Json::object();
  jwks_http["cst_issuers"] = Json::array({Json{{"jwks_url", "http://10.0.0.1/v1/jwks"}}});
  jwks_and_kid["cst_issuers"] = Json::array({Json{{"jwks_url", cp.jwks_url()}, {"kid", "k"}}});
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json{{"wpc_registry", "http://registry.example"}}, "wpc_registry: want an https:// URL"},
      {Json{{"wpc_registry", "ftp://127.0.0.1/"}}, "wpc_registry: want an https:// URL"},
      // A loopback name as the user part: the host is the one after '@'.
      {Json{{"wpc_registry", "http://127.0.0.1:1@registry.example/"}}, "wpc_registry: want an https:// URL"},
      {Json{{"wpc_registry", "http://localhost:80@10.0.0.1/"}}, "wpc_registry: want an https:// URL"},
      {Json{{"wpc_registry", "http://[::1]:@registry.example/"}}, "wpc_registry: want an https:// URL"},
      {jwks_http, "cst_issuers[].jwks_url: want an https:// URL"},
      {jwks_and_kid, "cst_issuers[].kid"},
      {feed(Json{{"url", "http://feed.example/v1/revocations/events"}, {"token_file", token}}),
       "revocation_feed.url: want an https:// URL"},
      {feed(Json{{"url", cp.feed_url()}}), "revocation_feed.token_file"},
      {feed(Json{{"url", cp.feed_url()}, {"token_file", token}, {"poll_s", 10}, {"max_staleness_s", 5}}),
       "revocation_feed.max_staleness_s"},
      {Json{{"control_plane_timeout_ms", 0}}, "control_plane_timeout_ms"},
      {Json{{"jwks_refresh_s", 0}}, "jwks_refresh_s"},
  };
  const auto original = policy::parse_strict_json_file(world.config_path).value();
  for (const auto& [changes, said] : cases) {
    SCOPED_TRACE(changes.dump());
    ASSERT_TRUE(demo::write_file(world.config_path, original.dump(2)).ok());
    configure(changes);
    auto c = clawjail({"serve", "--config", world.config_path.string()});
    EXPECT_EQ(c.exit_code, 1);
    EXPECT_NE(c.err.find(said), std::string::npos) << c.err;
  }
}

// ---- WPCs by hash ----

TEST_F(Fleet, RegistryWpcRunsWithoutLocalInstall) {
  configure({{"wpc_registry", cp.base()}});
  start_supervisor();
  auto env = envelope("from-registry");
  auto hash = hash_of(env);
  ASSERT_FALSE(fs::exists(stored(hash)));
  cp.publish(env);
  auto c = run_under("job-registry", hash, {"/bin/echo", "fetched"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "fetched\n");
  EXPECT_TRUE(fs::exists(stored(hash))) << "the fetched WPC is in the local store";
  auto r = receipts("job-registry");
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0]["policy_hash_b64u"], hash);
}

TEST_F(Fleet, RegistryMisbehaviourBlocksWithItsReasonAndStoresNothing) {
  configure({{"wpc_registry", cp.base()}, {"control_plane_timeout_ms", 1000}});
  start_supervisor();
  auto stranger = policy::SecretKey::generate();
  struct Case {
    std::string name, reason;
    std::function<void(const Json& env, const std::string& hash)> serve;
  };
  std::vector<Case> cases = {
      {"404", "WPC_FETCH_FAILED", [](const Json&, const std::string&) {}},
      {"500", "WPC_FETCH_FAILED", [&](const Json& env, const std::string&) { cp.publish(env); cp.misbehave("/v1/wpc/", "500"); }},
      {"slow", "WPC_FETCH_FAILED", [&](const Json& env, const std::string&) { cp.publish(env); cp.misbehave("/v1/wpc/", "slow", 10000); }},
      {"truncated", "WPC_FETCH_FAILED", [&](const Json& env, const std::string&) { cp.publish(env); cp.misbehave("/v1/wpc/", "truncated"); }},
      {"huge", "WPC_FETCH_FAILED", [&](const Json& env, const std::string&) { cp.publish(env); cp.misbehave("/v1/wpc/", "huge"); }},
      {"garbage", "WPC_FETCH_FAILED", [&](const Json& env, const std::string&) { cp.publish(env); cp.misbehave("/v1/wpc/", "garbage"); }},
      {"wrong-hash", "WPC_HASH_MISMATCH",
       [&](const Json&, const std::string& hash) { cp.publish(envelope("another-policy"), hash); }},
      {"wrong-signer", "WPC_SIGNER_NOT_ALLOWED", [&](const Json&, const std::string& hash) {
         // The same payload, so the same hash, signed by a key no wpc_signers entry names.
         cp.publish(envelope("wrong-signer", &stranger), hash);
       }},
      {"bad-signature", "WPC_SIGNATURE_INVALID", [&](const Json& env, const std::string& hash) {
         Json forged = env;
         forged["signature_b64u"] = policy::b64u_encode(std::string(64, 'x'));
         cp.publish(forged, hash);
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto env = envelope(c.name);
    auto hash = hash_of(env);
    c.serve(env, hash);
    auto t0 = steady_clock::now();
    auto call = run_under("job-" + c.name, hash, {"/bin/echo", "must not run"});
    EXPECT_LT(steady_clock::now() - t0, milliseconds(4000)) << "the fetch is bounded by control_plane_timeout_ms (1 s; the slow answer takes 10 s)";
    EXPECT_EQ(call.out, "");
    expect_blocked(call, "job-" + c.name, c.reason);
    EXPECT_FALSE(fs::exists(stored(hash))) << "nothing from a misbehaving registry is stored";
    cp.misbehave("/v1/wpc/", "ok");
  }
}

int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST_F(Fleet, UnreachableRegistryBlocks) {
  configure({{"wpc_registry", "http://127.0.0.1:" + std::to_string(closed_port())}});
  start_supervisor();
  auto env = envelope("unreachable");
  auto call = run_under("job-unreachable", hash_of(env), {"/bin/true"});
  expect_blocked(call, "job-unreachable", "WPC_FETCH_FAILED");
  // A locally installed WPC does not need the registry.
  auto local = clawjail(run_args("job-local", job_token("job-local"), {"--", "/bin/true"}));
  EXPECT_EQ(local.exit_code, 0) << local.err;
}

TEST_F(Fleet, PinnedHashesStillApplyToRegistryWpcs) {
  configure({{"wpc_registry", cp.base()}, {"pinned_wpc_hashes", {main_wpc}}});
  start_supervisor();
  auto env = envelope("not-pinned");
  cp.publish(env);
  auto call = run_under("job-unpinned", hash_of(env), {"/bin/true"});
  expect_blocked(call, "job-unpinned", "WPC_NOT_PINNED");
  EXPECT_EQ(cp.command({{"cmd", "stats"}})["stats"].value("/v1/wpc", 0), 0) << "an unpinned hash is not even fetched";
}

TEST_F(Fleet, CliWpcFetchVerifiesAndStores) {
  configure({{"wpc_registry", cp.base()}});
  auto env = envelope("cli-fetch");
  auto hash = hash_of(env);
  cp.publish(env);
  auto ok = clawjail({"wpc", "fetch", "--config", world.config_path.string(), hash});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, hash + "\n");
  EXPECT_TRUE(fs::exists(stored(hash)));
  auto other = envelope("cli-wrong-hash");
  auto other_hash = hash_of(other);
  cp.publish(env, other_hash);
  auto bad = clawjail({"wpc", "fetch", "--config", world.config_path.string(), other_hash});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("clawjail: wpc fetch: WPC_HASH_MISMATCH"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(stored(other_hash)));
}

// ---- issuer keys from a JWKS ----

class FleetJwks : public Fleet {
 protected:
  void use_jwks(int refresh_s) {
    configure({{"cst_issuers", {{{"jwks_url", cp.jwks_url()}}}}, {"jwks_refresh_s", refresh_s}});
  }
  Captured call(const std::string& job) { return clawjail(run_args(job, job_token(job), {"--", "/bin/echo", "ok"})); }
};

TEST_F(FleetJwks, KeyFromJwksAdmitsAndItsRemovalRefusesAfterRefresh) {
  cp.set_jwks({jwk_of(*world.issuer_key, world.issuer_kid)});
  use_jwks(1);
  start_supervisor();
  auto before = call("job-jwks-1");
  EXPECT_EQ(before.exit_code, 0) << before.err;
  cp.set_jwks({});
  std::this_thread::sleep_for(milliseconds(2500));  // jwks_refresh_s 1, and a margin
  expect_blocked(call("job-jwks-2"), "job-jwks-2", "CST_UNKNOWN_KID");
}

TEST_F(FleetJwks, UnknownKidRefreshesAtOnceAndIsRateLimited) {
  auto old_key = policy::SecretKey::generate();
  cp.set_jwks({jwk_of(old_key, "old")});
  use_jwks(3600);
  start_supervisor();
  // The issuer rotates its key in; the supervisor has not refreshed for an hour.
  cp.set_jwks({jwk_of(old_key, "old"), jwk_of(*world.issuer_key, world.issuer_kid)});
  auto rotated = call("job-rotated");
  EXPECT_EQ(rotated.exit_code, 0) << rotated.err;
  // Tokens naming kids nobody has cause at most one more fetch in the interval.
  auto fetches = [&] { return cp.command({{"cmd", "stats"}})["stats"].value("/v1/jwks", 0); };
  int n0 = fetches();
  world.issuer_kid = "no-such-kid";
  for (int i = 0; i < 5; ++i) expect_blocked(call("job-unknown-" + std::to_string(i)), "job-unknown-" + std::to_string(i), "CST_UNKNOWN_KID");
  EXPECT_LE(fetches() - n0, 1);
}

TEST_F(FleetJwks, DownAtStartUsesTheCopyOnDisk) {
  cp.set_jwks({jwk_of(*world.issuer_key, world.issuer_kid)});
  use_jwks(3600);
  start_supervisor();
  EXPECT_EQ(call("job-cache-1").exit_code, 0);
  stop_supervisor();
  cp.misbehave("/v1/jwks", "500");
  start_supervisor();
  auto cached = call("job-cache-2");
  EXPECT_EQ(cached.exit_code, 0) << cached.err;
  // Without the copy and with the endpoint down there is no key at all.
  stop_supervisor();
  fs::remove_all(world.state_dir / "fleet");
  start_supervisor();
  expect_blocked(call("job-cache-3"), "job-cache-3", "CST_UNKNOWN_KID");
}

TEST_F(FleetJwks, BrokenAnswersKeepTheLastGoodKeys) {
  cp.set_jwks({jwk_of(*world.issuer_key, world.issuer_kid)});
  configure({{"control_plane_timeout_ms", 500}});
  use_jwks(1);
  start_supervisor();
  // The keys are in before the endpoint breaks (under a sanitizer the first fetch at start may
  // outlast the short timeout; the unknown kid then refetches while the endpoint still answers).
  auto good = call("job-before-broken");
  ASSERT_EQ(good.exit_code, 0) << good.err;
  for (const char* mode : {"garbage", "truncated", "500", "slow", "huge"}) {
    SCOPED_TRACE(mode);
    cp.misbehave("/v1/jwks", mode, 2000);
    std::this_thread::sleep_for(milliseconds(1500));
    auto c = call(std::string("job-broken-") + mode);
    EXPECT_EQ(c.exit_code, 0) << c.err;
  }
}

// ---- the revocation feed ----

TEST_F(Fleet, FeedRevocationRefusesTheTokenAndKillsItsRunningCall) {
  configure_feed(1, 30);
  start_supervisor();
  const std::string job = "job-feed";
  auto cst = job_token(job);
  auto c = start_client(run_args(job, cst, {"--", "/bin/sh", "-c", "sleep 30; : marker-feed"}));
  ASSERT_TRUE(wait_receipts(job, 1));
  for (int i = 0; i < 500 && !process_with_marker_exists("marker-feed"); ++i) std::this_thread::sleep_for(milliseconds(20));
  std::ifstream in(cst);
  std::string token;
  std::getline(in, token);
  auto t0 = steady_clock::now();
  cp.revoke_token(token);
  EXPECT_EQ(wait_exit_code(c.pid), 128 + SIGKILL);
  auto killed_after = steady_clock::now() - t0;
  EXPECT_LT(killed_after, milliseconds(1000 + 200 + 1500)) << "poll_s 1 + the ledger watcher + the kill";
  ASSERT_TRUE(wait_receipts(job, 2));
  EXPECT_EQ(receipts(job)[1]["reason_code"], "CST_REVOKED");
  EXPECT_FALSE(process_with_marker_exists("marker-feed"));
  auto again = clawjail(run_args(job, cst, {"--", "/bin/true"}));
  EXPECT_EQ(again.exit_code, 126);
  EXPECT_NE(again.err.find("blocked: CST_REVOKED"), std::string::npos) << again.err;
  std::cout << "feed revocation killed the running call after "
            << std::chrono::duration_cast<milliseconds>(killed_after).count() << " ms (poll_s 1)\n";
}

TEST_F(Fleet, StaleFeedRefusesNewCallsUntilReadAgain) {
  configure_feed(1, 2);
  start_supervisor();
  EXPECT_EQ(clawjail(run_args("job-fresh", job_token("job-fresh"), {"--", "/bin/true"})).exit_code, 0);
  cp.misbehave("/v1/revocations/events", "500");
  std::this_thread::sleep_for(milliseconds(3500));  // max_staleness_s 2, and a poll
  auto stale = clawjail(run_args("job-stale", job_token("job-stale"), {"--", "/bin/true"}));
  expect_blocked(stale, "job-stale", "REVOCATION_FEED_STALE");
  EXPECT_NE(stale.err.find("HTTP 500"), std::string::npos) << stale.err;
  cp.misbehave("/v1/revocations/events", "ok");
  std::this_thread::sleep_for(milliseconds(1500));
  auto back = clawjail(run_args("job-back", job_token("job-back"), {"--", "/bin/true"}));
  EXPECT_EQ(back.exit_code, 0) << back.err;
}

TEST_F(Fleet, FeedRefusingOurTokenIsStaleFromStart) {
  configure_feed(1, 30, "not-the-feed-token");
  start_supervisor();
  auto call = clawjail(run_args("job-401", job_token("job-401"), {"--", "/bin/true"}));
  expect_blocked(call, "job-401", "REVOCATION_FEED_STALE");
  EXPECT_NE(call.err.find("HTTP 401"), std::string::npos) << call.err;
}

TEST_F(Fleet, FeedCursorIsDurableAndARestartResumesFromIt) {
  configure_feed(1, 30);
  cp.revoke_token("some other token");
  cp.revoke_token("and another");
  // The first read happens before the supervisor accepts a connection: once a call is answered,
  // it is done.
  auto started = [&](const std::string& job) {
    start_supervisor();
    EXPECT_EQ(clawjail(run_args(job, job_token(job), {"--", "/bin/true"})).exit_code, 0);
  };
  started("job-cursor-1");
  auto ledger = [&] { return policy::parse_strict_json_file(world.state_dir / "tokens" / "ledger.json").value(); };
  EXPECT_EQ(ledger()["feed"]["cursor"], "2");
  EXPECT_EQ(ledger()["revoked_tokens"].size(), 2u);
  stop_supervisor();
  cp.revoke_token("a third");
  started("job-cursor-2");
  auto queries = cp.command({{"cmd", "stats"}})["queries"];
  bool resumed = false;
  for (const auto& q : queries) resumed |= q.get<std::string>().find("cursor=2") != std::string::npos;
  EXPECT_TRUE(resumed) << queries.dump();
  EXPECT_EQ(ledger()["feed"]["cursor"], "3");
  EXPECT_EQ(ledger()["revoked_tokens"].size(), 3u);
}

}  // namespace
}  // namespace clawjail::test
