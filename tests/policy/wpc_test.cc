// WPC parsing and envelopes (docs/formats.md §2): a policy is read one way or refused, and each refusal
// names the field an operator must fix.
#include <gtest/gtest.h>

#include "policy/canonical_json.h"
#include "policy/decision.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "policy/paths.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "tests/policy/wpc_fixtures.h"

namespace clawjail::policy {
namespace {

using testing::claw_v2_wpc;
using testing::tool_wpc;

void expect_refused(const Json& payload, Reason reason, std::string_view field) {
  auto r = parse_wpc_payload(payload);
  ASSERT_FALSE(r.ok()) << "accepted: " << payload.dump();
  EXPECT_EQ(r.reason(), reason) << r.error().detail;
  EXPECT_NE(r.error().detail.find(field), std::string::npos) << "detail does not name " << field << ": " << r.error().detail;
}

TEST(Wpc, ToolWpcParsesIntoPolicy) {
  auto r = parse_wpc_payload(tool_wpc());
  ASSERT_TRUE(r.ok()) << r.error().detail;
  const Policy& p = *r;
  EXPECT_EQ(p.shape, "wpc_v1");
  EXPECT_EQ(p.policy_id, "build-bot");
  EXPECT_EQ(p.job_id, "job-1");
  EXPECT_TRUE(p.bind_job_scoped_cst);
  EXPECT_EQ(p.allow, (std::vector<std::string>{"read", "write:workspace", "http:approved_hosts"}));
  EXPECT_EQ(p.deny.size(), 4u);
  EXPECT_FALSE(p.elevated_enabled);
  EXPECT_TRUE(p.require_cst);
  EXPECT_TRUE(p.pin_wpc_hash);
  EXPECT_EQ(p.sandbox.workspace_access, WorkspaceAccess::rw);
  EXPECT_EQ(p.sandbox.approved_hosts, std::vector<std::string>{"api.github.com"});
  EXPECT_EQ(p.sandbox.limits.memory_mb, 256);
  EXPECT_EQ(p.sandbox.limits.cpu_seconds, 60);  // default kept
  ASSERT_EQ(p.sandbox.binds.size(), 1u);
  EXPECT_FALSE(p.sandbox.binds[0].writable);
  EXPECT_EQ(p.sandbox.env_pass, (std::vector<std::string>{"LANG", "TZ"}));
  EXPECT_EQ(p.hash_b64u, canonical_hash_b64u(tool_wpc()));
}

TEST(Wpc, MinimalToolWpcGetsSafeDefaults) {
  auto r = parse_wpc_payload(Json{{"wpc_version", "v1"}, {"policy_id", "p"}, {"issuer_did", "did:key:x"}});
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_TRUE(r->allow.empty());
  EXPECT_TRUE(r->require_cst);
  EXPECT_EQ(r->sandbox.workspace_access, WorkspaceAccess::none);
  EXPECT_TRUE(r->sandbox.approved_hosts.empty());
  EXPECT_EQ(r->sandbox.limits.timeout_ms, 60000);
  EXPECT_EQ(r->sandbox.background_ms, 600000);
}

// sandbox.limits.background_ms: a background call's lifetime, read in both shapes, bounded like
// timeout_ms (1 ms to 24 h), an integer, and part of the WPC's identity.
TEST(Wpc, BackgroundLifetimeIsReadAndBounded) {
  Json p = tool_wpc();
  p["sandbox"]["limits"]["background_ms"] = 7200000;
  auto r = parse_wpc_payload(p);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->sandbox.background_ms, 7200000);
  EXPECT_EQ(r->sandbox.limits.timeout_ms, 30000);  // the foreground limit is its own
  EXPECT_NE(r->hash_b64u, parse_wpc_payload(tool_wpc())->hash_b64u);
  EXPECT_EQ(parse_wpc_payload(tool_wpc())->sandbox.background_ms, 600000);
  for (Json bad : {Json(0), Json(-1), Json(86400001), Json("600000"), Json(true)}) {
    p["sandbox"]["limits"]["background_ms"] = bad;
    expect_refused(p, Reason::BAD_FIELD, "sandbox.limits.background_ms");
  }
  p["sandbox"]["limits"]["background_ms"] = 1.5;
  expect_refused(p, Reason::FLOAT_NOT_ALLOWED, "sandbox.limits.background_ms");
  p["sandbox"]["limits"].erase("background_ms");
  p["sandbox"]["limits"]["backgound_ms"] = 1000;
  expect_refused(p, Reason::UNKNOWN_FIELD, "sandbox.limits.backgound_ms");
  Json v2 = claw_v2_wpc();
  v2["metadata"]["clawjail"]["limits"] = {{"background_ms", 5000}};
  auto r2 = parse_wpc_payload(v2);
  ASSERT_TRUE(r2.ok()) << r2.error().detail;
  EXPECT_EQ(r2->sandbox.background_ms, 5000);
}

TEST(Wpc, ClawV2StatementsMapToTheSamePolicy) {
  auto r = parse_wpc_payload(claw_v2_wpc());
  ASSERT_TRUE(r.ok()) << r.error().detail;
  const Policy& p = *r;
  EXPECT_EQ(p.shape, "claw_v2");
  EXPECT_EQ(p.allow, (std::vector<std::string>{"read", "write:workspace", "exec", "http:approved_hosts"}));
  EXPECT_EQ(p.deny, std::vector<std::string>{"exec"});
  EXPECT_EQ(p.sandbox.workspace_access, WorkspaceAccess::ro);
  EXPECT_EQ(p.sandbox.approved_hosts, std::vector<std::string>{"api.github.com"});  // Deny *secrets* removed one
  EXPECT_TRUE(path_allowed(p, "src/main.cc", true));
  EXPECT_FALSE(path_allowed(p, "docs/x.md", true));
  EXPECT_FALSE(path_allowed(p, "src/secrets.txt", true));
  EXPECT_FALSE(path_allowed(p, "config/secrets.json", false));
  EXPECT_TRUE(path_allowed(p, "README.md", false));
  EXPECT_EQ(std::count(p.allow.begin(), p.allow.end(), "browser"), 0);  // conditional Allow grants nothing
}

TEST(Wpc, UnknownKeyAnywhereIsRefusedExceptUnderMetadata) {
  Json p = tool_wpc();
  p["toolz"] = Json::object();
  expect_refused(p, Reason::UNKNOWN_FIELD, "toolz");
  p = tool_wpc();
  p["tools"]["alow"] = Json::array();
  expect_refused(p, Reason::UNKNOWN_FIELD, "tools.alow");
  p = tool_wpc();
  p["sandbox"]["limits"]["memroy_mb"] = 1;
  expect_refused(p, Reason::UNKNOWN_FIELD, "sandbox.limits.memroy_mb");
  p = tool_wpc();
  p["sandbox"]["binds"][0]["options"] = "suid";
  expect_refused(p, Reason::UNKNOWN_FIELD, "sandbox.binds[0].options");
  p = claw_v2_wpc();
  p["statements"][1]["principal"] = "*";
  expect_refused(p, Reason::UNKNOWN_FIELD, "statements[1].principal");
  p = claw_v2_wpc();
  p["metadata"]["clawjail"]["privileged"] = true;
  expect_refused(p, Reason::UNKNOWN_FIELD, "metadata.clawjail.privileged");
}

TEST(Wpc, DuplicateKeyInPolicyBytesIsRefused) {
  auto r = parse_strict_json(R"({"wpc_version":"v1","policy_id":"a","policy_id":"b","issuer_did":"did:key:x"})");
  EXPECT_EQ(r.reason(), Reason::DUPLICATE_KEY);
  EXPECT_NE(r.error().detail.find("policy_id"), std::string::npos);
}

TEST(Wpc, FloatAnywhereIsRefused) {
  Json p = tool_wpc();
  p["sandbox"]["limits"]["memory_mb"] = 1.5;
  expect_refused(p, Reason::FLOAT_NOT_ALLOWED, "sandbox.limits.memory_mb");
  p = tool_wpc();
  p["metadata"]["ratio"] = 0.5;
  expect_refused(p, Reason::FLOAT_NOT_ALLOWED, "metadata.ratio");
}

TEST(Wpc, OversizeAndOverDeepPoliciesAreRefused) {
  Json p = tool_wpc();
  p["metadata"]["blob"] = std::string(1 << 20, 'a');
  expect_refused(p, Reason::DOCUMENT_TOO_LARGE, "payload");
  p = tool_wpc();
  Json deep = Json::array();
  for (int i = 0; i < 70; ++i) deep = Json::array({deep});
  p["metadata"]["deep"] = deep;
  expect_refused(p, Reason::DOCUMENT_TOO_DEEP, "payload");
}

TEST(Wpc, EmbeddedPolicyHashMustEqualTheComputedHash) {
  Json p = tool_wpc();
  std::string hash = canonical_hash_b64u(p);
  p["policy_hash"] = "b64u:" + hash;
  auto r = parse_wpc_payload(p);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->hash_b64u, hash);  // policy_hash is left out of the JCS input
  p["policy_hash"] = sha256_b64u("other");
  expect_refused(p, Reason::WPC_HASH_MISMATCH, "policy_hash");
  p["policy_hash"] = "nonsense";
  expect_refused(p, Reason::BAD_FIELD, "policy_hash");
}

TEST(Wpc, WrongTypesAndValuesNameTheField) {
  const std::pair<const char*, Json> cases[] = {
      {"/tools/elevated/enabled", "yes"},   {"/sandbox/workspace_access", "all"},
      {"/sandbox/limits/pids", 0},          {"/sandbox/limits/timeout_ms", -1},
      {"/sandbox/binds/0/src", "relative"}, {"/sandbox/binds/0/dst", "/opt/../etc"},
      {"/sandbox/binds/0/mode", "suid"},    {"/sandbox/env/pass/0", "LD PRELOAD"},
      {"/sandbox/network/approved_hosts/0", "http://x"}, {"/tools/allow/0", "exec;rm"},
      {"/tools/deny", "exec"},              {"/tokens/cst_scope_hash", "short"},
      {"/job/id", 5},                       {"/policy_id", ""},
  };
  for (const auto& [pointer, value] : cases) {
    Json p = tool_wpc();
    p[Json::json_pointer(pointer)] = value;
    std::string field = std::string(pointer + 1);
    std::replace(field.begin(), field.end(), '/', '.');
    field = field.substr(0, field.find(".0"));
    auto r = parse_wpc_payload(p);
    ASSERT_FALSE(r.ok()) << pointer;
    EXPECT_TRUE(r.reason() == Reason::BAD_FIELD) << pointer << ": " << reason_name(r.reason());
    EXPECT_NE(r.error().detail.find(field), std::string::npos) << pointer << ": " << r.error().detail;
  }
}

TEST(Wpc, MissingRequiredFieldsAndUnknownShapes) {
  Json p = tool_wpc();
  p.erase("policy_id");
  expect_refused(p, Reason::MISSING_FIELD, "policy_id");
  p = claw_v2_wpc();
  p.erase("statements");
  expect_refused(p, Reason::MISSING_FIELD, "statements");
  p = tool_wpc();
  p["wpc_version"] = "v2";
  expect_refused(p, Reason::BAD_FIELD, "wpc_version");
  // Claw's WPC v1 is a shape of its own (ClawWpcV1.*): v2's statements are not among its keys.
  expect_refused(Json{{"policy_version", "1"}, {"policy_id", "x"}, {"issuer_did", "did:x"}, {"statements", Json::array()}},
                 Reason::UNKNOWN_FIELD, "statements");
  expect_refused(Json{{"policy_version", "3"}, {"policy_id", "x"}, {"issuer_did", "did:x"}, {"statements", Json::array()}},
                 Reason::BAD_FIELD, "policy_version");
  expect_refused(Json{{"policy_id", "x"}}, Reason::WPC_INVALID, "wpc_version");
  p = claw_v2_wpc();
  p["inherits"] = "parent";
  expect_refused(p, Reason::WPC_INVALID, "inherits");
  p = claw_v2_wpc();
  p["statements"][0]["effect"] = "allow";
  expect_refused(p, Reason::BAD_FIELD, "statements[0].effect");
}

class WpcEnvelope : public ::testing::Test {
 protected:
  SecretKey signer = SecretKey::generate();
  std::vector<std::string> allow = {signer.did()};
  Json envelope = sign_wpc(tool_wpc(), signer);
};

TEST_F(WpcEnvelope, SignedEnvelopeVerifiesAndSignatureCoversTheHashString) {
  auto r = verify_wpc_envelope(envelope, allow);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->signer_did, signer.did());
  EXPECT_EQ(r->policy.hash_b64u, envelope["payload_hash_b64u"]);
  auto sig = b64u_decode(envelope["signature_b64u"].get<std::string>());
  EXPECT_TRUE(ed25519_verify(signer.public_key(), envelope["payload_hash_b64u"].get<std::string>(), *sig));
  EXPECT_EQ(wpc_hash(envelope).value(), r->policy.hash_b64u);
  EXPECT_EQ(wpc_hash(tool_wpc()).value(), r->policy.hash_b64u);
}

TEST_F(WpcEnvelope, NoConfiguredSignersRefusesEveryWpc) {
  EXPECT_EQ(verify_wpc_envelope(envelope, {}).reason(), Reason::WPC_NO_SIGNERS);
}

TEST_F(WpcEnvelope, SignerOutsideTheAllowlistIsRefused) {
  EXPECT_EQ(verify_wpc_envelope(envelope, {SecretKey::generate().did()}).reason(), Reason::WPC_SIGNER_NOT_ALLOWED);
}

TEST_F(WpcEnvelope, TamperedPayloadNoLongerMatchesItsHash) {
  envelope["payload"]["tools"]["allow"].push_back("exec");
  EXPECT_EQ(verify_wpc_envelope(envelope, allow).reason(), Reason::WPC_HASH_MISMATCH);
}

TEST_F(WpcEnvelope, RehashedTamperedPayloadFailsTheSignature) {
  envelope["payload"]["tools"]["allow"].push_back("exec");
  envelope["payload_hash_b64u"] = canonical_hash_b64u(envelope["payload"]);
  EXPECT_EQ(verify_wpc_envelope(envelope, allow).reason(), Reason::WPC_SIGNATURE_INVALID);
}

TEST_F(WpcEnvelope, ForgedSignerDidWithOtherKeysSignatureIsRefused) {
  auto attacker = SecretKey::generate();
  Json forged = sign_wpc(tool_wpc(), attacker);
  forged["signer_did"] = signer.did();
  EXPECT_EQ(verify_wpc_envelope(forged, allow).reason(), Reason::WPC_SIGNATURE_INVALID);
}

TEST_F(WpcEnvelope, EnvelopeFieldsAreStrict) {
  Json e = envelope;
  e["extra"] = 1;
  EXPECT_EQ(verify_wpc_envelope(e, allow).reason(), Reason::UNKNOWN_FIELD);
  e = envelope;
  e["algorithm"] = "RS256";
  EXPECT_EQ(verify_wpc_envelope(e, allow).reason(), Reason::BAD_FIELD);
  e = envelope;
  e.erase("signature_b64u");
  EXPECT_EQ(verify_wpc_envelope(e, allow).reason(), Reason::MISSING_FIELD);
  e = envelope;
  e["signature_b64u"] = "AAAA";
  EXPECT_EQ(verify_wpc_envelope(e, allow).reason(), Reason::WPC_SIGNATURE_INVALID);
}

}  // namespace
}  // namespace clawjail::policy
