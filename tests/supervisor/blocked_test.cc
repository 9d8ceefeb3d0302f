// Refused calls: exit 126, the reason code on stderr, one blocked receipt saying the same.
#include "fixture.h"
#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/keys.h"

namespace clawjail::test {
namespace {

class BlockedCall : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
  void expect_blocked(const Captured& c, const std::string& job, const std::string& code) {
    EXPECT_EQ(c.exit_code, 126) << c.err;
    EXPECT_NE(c.err.find("clawjail: blocked: " + code + ": "), std::string::npos) << c.err;
    auto r = receipts(job);
    ASSERT_FALSE(r.empty()) << "no receipt for " << job;
    EXPECT_EQ(r.back()["phase"], "blocked");
    EXPECT_EQ(r.back()["decision"], "blocked");
    EXPECT_EQ(r.back()["reason_code"], code);
  }
};

TEST_F(BlockedCall, ExecDeniedByTheWpc) {
  demo::WpcOptions options;
  options.policy_id = "no-exec";
  options.allow_exec = false;
  auto hash = demo::install_wpc(world, demo::wpc_payload(world, options));
  ASSERT_TRUE(hash.ok());
  auto cst = token_file("noexec", {.job = "job-noexec", .policy_hash_b64u = *hash});
  auto c = clawjail(run_args("job-noexec", cst, {"--", "/bin/touch", "/workspace/should-not-exist"}));
  EXPECT_EQ(c.exit_code, 126);
  EXPECT_FALSE(fs::exists(world.workspace / "should-not-exist"));
  auto r = receipts("job-noexec");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["phase"], "blocked");
  EXPECT_EQ(r[0]["policy_hash_b64u"], *hash);
  std::string code = r[0]["reason_code"];
  EXPECT_EQ(code, "EXEC_DENIED");  // decide() names exec plainly, never the generic TOOL_DENIED
  EXPECT_NE(c.err.find("clawjail: blocked: " + code), std::string::npos) << c.err;
}

TEST_F(BlockedCall, GarbageToken) {
  auto path = root / "garbage.cst";
  ASSERT_TRUE(demo::write_file(path, "not.a.token").ok());
  auto c = clawjail(run_args("job-garbage", path, {"--wpc", main_wpc, "--", "/bin/true"}));
  EXPECT_EQ(c.exit_code, 126) << c.err;
  auto r = receipts("job-garbage");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["phase"], "blocked");
  EXPECT_EQ(r[0]["reason_code"].get<std::string>().rfind("CST_", 0), 0u) << r[0]["reason_code"];
}

TEST_F(BlockedCall, TokenSignedByAnUnknownIssuer) {
  auto stranger = policy::SecretKey::generate();
  policy::CstIssueRequest req;
  req.kid = world.issuer_kid;
  req.sub = world.agent_key->did();
  req.job = "job-forged";
  req.policy_hash_b64u = main_wpc;
  auto path = root / "forged.cst";
  ASSERT_TRUE(demo::write_file(path, policy::issue_cst(stranger, req)).ok());
  expect_blocked(clawjail(run_args("job-forged", path, {"--", "/bin/true"})), "job-forged", "CST_SIGNATURE_INVALID");
}

TEST_F(BlockedCall, ExpiredToken) {
  auto cst = token_file("expired", {.job = "job-expired", .policy_hash_b64u = main_wpc, .ttl_s = 60,
                                    .now = std::chrono::system_clock::now() - std::chrono::hours(1)});
  expect_blocked(clawjail(run_args("job-expired", cst, {"--", "/bin/true"})), "job-expired", "CST_EXPIRED");
}

TEST_F(BlockedCall, JtiReplayedUnderAnotherJob) {
  auto cst = token_file("unbound", {.job = "", .policy_hash_b64u = main_wpc, .bind_job = false});
  auto first = clawjail(run_args("job-first", cst, {"--", "/bin/true"}));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  expect_blocked(clawjail(run_args("job-second", cst, {"--", "/bin/true"})), "job-second", "CST_JTI_REPLAYED");
}

TEST_F(BlockedCall, TokenOfAnotherJob) {
  auto cst = job_token("job-a");
  expect_blocked(clawjail(run_args("job-b", cst, {"--", "/bin/true"})), "job-b", "CST_JOB_MISMATCH");
}

TEST_F(BlockedCall, UnknownWpcHash) {
  auto cst = job_token("job-unknown-wpc");
  auto other = policy::sha256_b64u("no such policy");
  auto c = clawjail(run_args("job-unknown-wpc", cst, {"--wpc", other, "--", "/bin/true"}));
  expect_blocked(c, "job-unknown-wpc", "WPC_NOT_FOUND");
}

TEST_F(BlockedCall, ElevatedDenied) {
  auto cst = job_token("job-elevated");
  expect_blocked(clawjail(run_args("job-elevated", cst, {"--elevated", "--", "/bin/true"})), "job-elevated",
                 "ELEVATED_DENIED");
}

}  // namespace
}  // namespace clawjail::test
