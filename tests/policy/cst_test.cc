// CST verification (docs/formats.md §3): every forged, stale, misdirected or replayed token is refused
// with its own reason. The clock is passed in; nothing sleeps.
#include <gtest/gtest.h>

#include <regex>
#include <tuple>

#include "policy/canonical_json.h"
#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "policy/wpc.h"
#include "tests/policy/test_util.h"
#include "tests/policy/wpc_fixtures.h"

namespace clawjail::policy {
namespace {

using testing::at;
constexpr int64_t kNow = 1800000000;

std::string mint(const Json& header, const Json& claims, const SecretKey& key) {
  std::string input = b64u_encode(header.dump()) + "." + b64u_encode(claims.dump());
  return input + "." + b64u_encode(key.sign(input));
}

class CstTest : public ::testing::Test {
 protected:
  SecretKey issuer = SecretKey::generate();
  CstVerifyOptions options{.issuers = {{"scope-1", issuer.did()}}, .now = at(kNow)};
  Json header = {{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", "scope-1"}};
  Json claims = {{"token_version", "1"}, {"sub", "did:key:zAgent"}, {"aud", "clawjail"},
                 {"scope", {"clawjail:call"}}, {"iat", kNow - 10}, {"exp", kNow + 600},
                 {"jti", "jti-1"}, {"nonce", "n"}, {"mission_id", "job-1"}};

  Result<Cst> verify(const Json& c) { return verify_cst(mint(header, c, issuer), options); }
  Reason reason_of(const Json& c) { return verify(c).reason(); }
};

TEST_F(CstTest, ValidTokenVerifiesAndExposesItsClaims) {
  auto cst = verify(claims);
  ASSERT_TRUE(cst.ok()) << cst.error().detail;
  EXPECT_EQ(cst->kid, "scope-1");
  EXPECT_EQ(cst->sub, "did:key:zAgent");
  EXPECT_EQ(cst->aud, std::vector<std::string>{"clawjail"});
  EXPECT_EQ(cst->mission_id, "job-1");
  EXPECT_EQ(cst->token_sha256_b64u(), sha256_b64u(cst->token));
}

TEST_F(CstTest, AlgNoneIsRejected) {
  header["alg"] = "none";
  std::string token = b64u_encode(header.dump()) + "." + b64u_encode(claims.dump()) + ".";
  EXPECT_EQ(verify_cst(token, options).reason(), Reason::CST_ALG_REJECTED);
}

TEST_F(CstTest, Hs256IsRejectedEvenWithTheIssuerPublicKeyAsSecret) {
  header["alg"] = "HS256";
  EXPECT_EQ(reason_of(claims), Reason::CST_ALG_REJECTED);
  header.erase("alg");
  EXPECT_EQ(reason_of(claims), Reason::CST_ALG_REJECTED);
}

TEST_F(CstTest, SignatureByAnotherKeyIsRejected) {
  auto other = SecretKey::generate();
  EXPECT_EQ(verify_cst(mint(header, claims, other), options).reason(), Reason::CST_SIGNATURE_INVALID);
}

TEST_F(CstTest, UnknownKidIsRejected) {
  header["kid"] = "scope-2";
  EXPECT_EQ(reason_of(claims), Reason::CST_UNKNOWN_KID);
  header.erase("kid");
  EXPECT_EQ(reason_of(claims), Reason::CST_UNKNOWN_KID);
}

TEST_F(CstTest, TamperedClaimBreaksTheSignature) {
  std::string token = mint(header, claims, issuer);
  Json widened = claims;
  widened["scope"] = {"*"};
  auto dot1 = token.find('.'), dot2 = token.rfind('.');
  std::string forged = token.substr(0, dot1 + 1) + b64u_encode(widened.dump()) + token.substr(dot2);
  EXPECT_EQ(verify_cst(forged, options).reason(), Reason::CST_SIGNATURE_INVALID);
}

// A signature that verified is not verified again for the same key and bytes: that must never
// let anything else through once the genuine token has been seen, nor outlive a key change.
TEST_F(CstTest, AVerifiedTokenMakesNoForgeryOrOtherKeyPass) {
  std::string token = mint(header, claims, issuer);
  ASSERT_TRUE(verify_cst(token, options).ok());
  ASSERT_TRUE(verify_cst(token, options).ok());
  auto dot1 = token.find('.'), dot2 = token.rfind('.');
  Json widened = claims;
  widened["scope"] = {"*"};
  std::string forged = token.substr(0, dot1 + 1) + b64u_encode(widened.dump()) + token.substr(dot2);
  EXPECT_EQ(verify_cst(forged, options).reason(), Reason::CST_SIGNATURE_INVALID);
  std::string bad_sig = token;
  char& c = bad_sig[bad_sig.size() - 10];  // a whole 6 bits of the signature, not padding
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify_cst(bad_sig, options).reason(), Reason::CST_SIGNATURE_INVALID);
  auto rotated = SecretKey::generate();
  CstVerifyOptions after_rotation{.issuers = {{"scope-1", rotated.did()}}, .now = at(kNow)};
  EXPECT_EQ(verify_cst(token, after_rotation).reason(), Reason::CST_SIGNATURE_INVALID);
  CstVerifyOptions later{.issuers = options.issuers, .now = at(kNow + 3600)};
  EXPECT_EQ(verify_cst(token, later).reason(), Reason::CST_EXPIRED) << "claims are checked on every call";
}

TEST_F(CstTest, MalformedTokensAreRejected) {
  EXPECT_EQ(verify_cst("", options).reason(), Reason::CST_MISSING);
  EXPECT_EQ(verify_cst("a.b", options).reason(), Reason::CST_MALFORMED);
  EXPECT_EQ(verify_cst("a.b.c.d", options).reason(), Reason::CST_MALFORMED);
  EXPECT_EQ(verify_cst("!!.b.c", options).reason(), Reason::CST_MALFORMED);
  EXPECT_EQ(verify_cst(std::string(20000, 'a'), options).reason(), Reason::CST_MALFORMED);
  header["crit"] = {"b64"};
  EXPECT_EQ(reason_of(claims), Reason::CST_MALFORMED);
}

TEST_F(CstTest, WrongTokenVersionIsRejected) {
  claims["token_version"] = "2";
  EXPECT_EQ(reason_of(claims), Reason::CST_VERSION);
}

TEST_F(CstTest, UnknownOrMistypedClaimsAreRejected) {
  Json c = claims;
  c["admin"] = true;
  EXPECT_EQ(reason_of(c), Reason::CST_CLAIMS_INVALID);
  c = claims;
  c["exp"] = "soon";
  EXPECT_EQ(reason_of(c), Reason::CST_CLAIMS_INVALID);
  c = claims;
  c.erase("jti");
  EXPECT_EQ(reason_of(c), Reason::CST_CLAIMS_INVALID);
  c = claims;
  c["scope"] = Json::array();
  EXPECT_EQ(reason_of(c), Reason::CST_CLAIMS_INVALID);
  c = claims;
  c["agent_did"] = "not a did";
  EXPECT_EQ(reason_of(c), Reason::CST_CLAIMS_INVALID);
}

// The claims' string patterns are clawscope's schema regexes, checked by hand: every candidate
// is accepted exactly when the schema's regex matches it.
TEST_F(CstTest, ClaimPatternsAcceptExactlyWhatTheSchemasRegexesMatch) {
  const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> cases = {
      {"delegator_did", "^did:[a-z0-9]+:[a-zA-Z0-9._%-]+$",
       {"did:key:z6MkAgent", "did:web:example.com", "did:k3y:a%20b-c_d.e", "did:Key:x", "did::x", "did:key:",
        "did:key:a:b", "did:key:a b", "xdid:key:a", "did:key", "DID:key:a", "did:key:\xc3\xbc", ""}},
      {"delegation_policy_hash_b64u", "^[A-Za-z0-9_-]{43}$",
       {std::string(43, 'A'), std::string(42, 'a') + "_", std::string(42, 'a'), std::string(44, 'a'),
        std::string(42, 'a') + "=", std::string(42, 'a') + "+", std::string(42, 'a') + "/", ""}},
      {"delegation_spend_cap_minor", "^[0-9]+$", {"0", "1234567890", "", "12a", "-1", " 1", "1.5"}},
  };
  for (const auto& [claim, pattern, candidates] : cases)
    for (const auto& value : candidates) {
      Json c = claims;
      c[claim] = value;
      const bool schema_says = std::regex_match(value, std::regex(pattern));
      EXPECT_EQ(reason_of(c) == Reason::CST_CLAIMS_INVALID, !schema_says) << claim << " = \"" << value << "\"";
    }
}

TEST_F(CstTest, WrongAudienceIsRejected) {
  claims["aud"] = {"clawproxy", "other"};
  EXPECT_EQ(reason_of(claims), Reason::CST_AUDIENCE);
  claims["aud"] = {"other", "clawjail"};
  EXPECT_TRUE(verify(claims).ok());
}

TEST_F(CstTest, ExpiredTokenIsRejectedWithoutLeeway) {
  claims["exp"] = kNow;
  EXPECT_EQ(reason_of(claims), Reason::CST_EXPIRED);
  claims["exp"] = kNow + 1;
  EXPECT_TRUE(verify(claims).ok());
}

TEST_F(CstTest, TokenIssuedInTheFutureIsRejected) {
  claims["iat"] = kNow + 61;
  claims["exp"] = kNow + 600;
  EXPECT_EQ(reason_of(claims), Reason::CST_NOT_YET_VALID);
  claims["iat"] = kNow + 60;
  EXPECT_TRUE(verify(claims).ok());
}

TEST_F(CstTest, LifetimeLongerThanConfiguredIsRejected) {
  claims["iat"] = kNow - 10;
  claims["exp"] = kNow - 10 + 3601;
  EXPECT_EQ(reason_of(claims), Reason::CST_LIFETIME_TOO_LONG);
}

TEST_F(CstTest, WrongTokenScopeHashIsRejected) {
  claims["token_scope_hash_b64u"] = token_scope_hash_b64u(claims);
  EXPECT_TRUE(verify(claims).ok());
  Json c = claims;
  c["scope"] = {"clawjail:call", "tool:exec"};  // scope changed, hash not
  EXPECT_EQ(reason_of(c), Reason::CST_SCOPE_HASH_MISMATCH);
}

TEST_F(CstTest, TokenScopeHashNormalisesAndIgnoresReissueClaims) {
  Json a = claims;
  Json b = claims;
  b["aud"] = {" clawjail ", "clawjail", ""};
  b["sub"] = " did:key:zAgent ";
  b["iat"] = 1;
  b["exp"] = 2;
  b["jti"] = "other";
  b["nonce"] = "other";
  EXPECT_EQ(token_scope_hash_b64u(a), token_scope_hash_b64u(b));
  b["mission_id"] = "job-2";
  EXPECT_NE(token_scope_hash_b64u(a), token_scope_hash_b64u(b));
  // The hash is SHA-256 of JCS of exactly these fields (docs/formats.md §3 check 7).
  Json basis = {{"token_version", "1"}, {"sub", "did:key:zAgent"}, {"aud", {"clawjail"}},
                {"scope", {"clawjail:call"}}, {"mission_id", "job-1"}};
  EXPECT_EQ(token_scope_hash_b64u(a), sha256_b64u(canonical_json(basis)));
}

TEST_F(CstTest, TokenScopeHashSortsLikeJavaScript) {
  // U+1F600 is D83D DE00 in UTF-16 and sorts before U+FB33, unlike in UTF-8 byte order.
  const std::string emoji = "\xf0\x9f\x98\x80", dalet = "\xef\xac\xb3";
  Json c = claims;
  c["scope"] = {dalet, emoji};
  Json basis = {{"token_version", "1"}, {"sub", "did:key:zAgent"}, {"aud", {"clawjail"}},
                {"scope", {emoji, dalet}}, {"mission_id", "job-1"}};
  EXPECT_EQ(token_scope_hash_b64u(c), sha256_b64u(canonical_json(basis)));
}

TEST_F(CstTest, IssuedTokenVerifies) {
  CstIssueRequest req;
  req.kid = "scope-1";
  req.sub = "did:key:zAgent";
  req.job = "job-1";
  req.now = at(kNow);
  auto cst = verify_cst(issue_cst(issuer, req), options);
  ASSERT_TRUE(cst.ok()) << cst.error().detail;
  EXPECT_EQ(cst->mission_id, "job-1");
  EXPECT_EQ(cst->exp - cst->iat, 3600);
  EXPECT_EQ(cst->token_scope_hash_b64u, token_scope_hash_b64u(cst->claims));
  EXPECT_NE(verify_cst(issue_cst(issuer, req), options)->jti, cst->jti);
}

class CstForCall : public CstTest {
 protected:
  Policy wpc = parse_wpc_payload(testing::tool_wpc()).value();
  Result<Cst> token(const Json& c) { return verify(c); }
};

TEST_F(CstForCall, MatchingTokenIsAdmitted) {
  claims["policy_hash_b64u"] = wpc.hash_b64u;
  auto cst = token(claims);
  ASSERT_TRUE(cst.ok());
  EXPECT_TRUE(check_cst_for_call(*cst, wpc, "job-1", {"read"}).ok());
}

TEST_F(CstForCall, MissionMismatchIsRejected) {
  claims["policy_hash_b64u"] = wpc.hash_b64u;
  claims["mission_id"] = "job-2";
  EXPECT_EQ(check_cst_for_call(*token(claims), wpc, "job-2", {"read"}).reason(), Reason::CST_JOB_MISMATCH);
  wpc.job_id.reset();
  EXPECT_EQ(check_cst_for_call(*token(claims), wpc, "job-1", {"read"}).reason(), Reason::CST_JOB_MISMATCH);
}

TEST_F(CstForCall, MissingMissionIsRejectedWhenTheWpcBindsJobs) {
  claims["policy_hash_b64u"] = wpc.hash_b64u;
  claims.erase("mission_id");
  EXPECT_EQ(check_cst_for_call(*token(claims), wpc, "job-1", {"read"}).reason(), Reason::CST_MISSION_REQUIRED);
}

TEST_F(CstForCall, PolicyHashOfAnotherWpcIsRejected) {
  claims["policy_hash_b64u"] = sha256_b64u("another policy");
  EXPECT_EQ(check_cst_for_call(*token(claims), wpc, "job-1", {"read"}).reason(), Reason::CST_POLICY_MISMATCH);
}

TEST_F(CstForCall, UnpinnedTokenIsRejectedWhenTheWpcPins) {
  EXPECT_EQ(check_cst_for_call(*token(claims), wpc, "job-1", {"read"}).reason(), Reason::CST_POLICY_PIN_REQUIRED);
}

TEST_F(CstForCall, TokenScopeHashMustEqualTheWpcsCstScopeHash) {
  claims["policy_hash_b64u"] = wpc.hash_b64u;
  wpc.cst_scope_hash_b64u = sha256_b64u("expected scope");
  EXPECT_EQ(check_cst_for_call(*token(claims), wpc, "job-1", {"read"}).reason(), Reason::CST_SCOPE_HASH_MISMATCH);
  wpc.cst_scope_hash_b64u = token_scope_hash_b64u(claims);
  EXPECT_TRUE(check_cst_for_call(*token(claims), wpc, "job-1", {"read"}).ok());
}

TEST_F(CstForCall, ScopeWithoutCallGrantOrWithNarrowerToolsIsRejected) {
  claims["policy_hash_b64u"] = wpc.hash_b64u;
  claims["scope"] = {"clawjail:read-only"};
  EXPECT_EQ(check_cst_for_call(*token(claims), wpc, "job-1", {"read"}).reason(), Reason::CST_SCOPE_DENIED);
  claims["scope"] = {"clawjail:call", "tool:read"};
  EXPECT_TRUE(check_cst_for_call(*token(claims), wpc, "job-1", {"read"}).ok());
  EXPECT_EQ(check_cst_for_call(*token(claims), wpc, "job-1", {"write:workspace"}).reason(), Reason::CST_SCOPE_DENIED);
  claims["scope"] = {"*"};
  EXPECT_TRUE(check_cst_for_call(*token(claims), wpc, "job-1", {"write:workspace"}).ok());
}

}  // namespace
}  // namespace clawjail::policy
