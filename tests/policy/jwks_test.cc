// JWKS parsing (policy/jwks.h): clawscope's Ed25519 keys become issuers, kid -> did:key, and a key
// set that is not fully understood is refused.
#include <gtest/gtest.h>

#include <string>

#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/jwks.h"
#include "policy/keys.h"

namespace clawjail::policy {
namespace {

Json jwk(const SecretKey& key, const std::string& kid) {
  auto pk = key.public_key();
  return {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", b64u_encode({reinterpret_cast<const char*>(pk.data()), pk.size()})},
          {"kid", kid},   {"alg", "EdDSA"},   {"use", "sig"},
          {"ext", true}};
}

TEST(Jwks, ClawscopeKeysBecomeIssuersByKid) {
  auto a = SecretKey::generate(), b = SecretKey::generate();
  Json set = {{"keys", {jwk(a, "k1"), jwk(b, "k2")}}};
  auto issuers = parse_jwks(set.dump());
  ASSERT_TRUE(issuers.ok()) << issuers.error().detail;
  ASSERT_EQ(issuers->size(), 2u);
  EXPECT_EQ((*issuers)[0].kid, "k1");
  EXPECT_EQ((*issuers)[0].did, a.did());
  EXPECT_EQ((*issuers)[1].kid, "k2");
  EXPECT_EQ((*issuers)[1].did, b.did());
}

TEST(Jwks, OtherKeyTypesAndUsesAreLeftOut) {
  auto a = SecretKey::generate();
  Json rsa = {{"kty", "RSA"}, {"kid", "r1"}, {"n", "AQAB"}, {"e", "AQAB"}};
  Json enc = jwk(a, "enc1");
  enc["use"] = "enc";
  Json x25519 = jwk(a, "x1");
  x25519["crv"] = "X25519";
  auto issuers = parse_jwks(Json{{"keys", {rsa, enc, x25519, jwk(a, "k1")}}}.dump());
  ASSERT_TRUE(issuers.ok()) << issuers.error().detail;
  ASSERT_EQ(issuers->size(), 1u);
  EXPECT_EQ((*issuers)[0].kid, "k1");
}

TEST(Jwks, EmptySetIsNoIssuers) {
  auto issuers = parse_jwks(R"({"keys":[]})");
  ASSERT_TRUE(issuers.ok());
  EXPECT_TRUE(issuers->empty());
}

TEST(Jwks, MalformedEd25519KeyRefusesTheSet) {
  auto a = SecretKey::generate();
  Json short_x = jwk(a, "k2");
  short_x["x"] = b64u_encode("only sixteen byt");
  Json no_kid = jwk(a, "k3");
  no_kid.erase("kid");
  Json bad_alg = jwk(a, "k4");
  bad_alg["alg"] = "ES256";
  Json not_b64 = jwk(a, "k5");
  not_b64["x"] = "not base64url!";
  for (const auto& bad : {short_x, no_kid, bad_alg, not_b64}) {
    auto issuers = parse_jwks(Json{{"keys", {jwk(a, "k1"), bad}}}.dump());
    EXPECT_FALSE(issuers.ok()) << bad.dump();
  }
}

TEST(Jwks, RepeatedKidRefusesTheSet) {
  auto a = SecretKey::generate(), b = SecretKey::generate();
  auto issuers = parse_jwks(Json{{"keys", {jwk(a, "k1"), jwk(b, "k1")}}}.dump());
  ASSERT_FALSE(issuers.ok());
  EXPECT_NE(issuers.error().detail.find("twice"), std::string::npos);
}

TEST(Jwks, NotAKeySetIsRefused) {
  for (const char* body : {"", "[]", R"({"keys":{}})", R"({"nokeys":[]})", R"({"keys":[1]})", R"({"keys":[] ,)",
                           R"({"keys":[],"keys":[]})"})
    EXPECT_FALSE(parse_jwks(body).ok()) << body;
}

}  // namespace
}  // namespace clawjail::policy
