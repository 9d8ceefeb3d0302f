// Keys and did:key against Protocol M's golden vector, and the key file's refusals.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "policy/policy.h"
#include "tests/policy/test_util.h"

namespace clawjail::policy {
namespace {

Json golden() {
  auto json = parse_strict_json_file(std::string(CLAWJAIL_SHARED_DIR) + "/clawbureau/fixtures/protocol-m-golden-vector.v1.json");
  EXPECT_TRUE(json.ok());
  return *json;
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::string to_hex(const std::array<uint8_t, 32>& bytes) {
  std::string out;
  char buf[3];
  for (auto b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

TEST(Keys, GoldenVectorSeedGivesPublicKeyAndDid) {
  auto g = golden();
  auto key = SecretKey::from_seed(from_hex(g["seed_hex"].get<std::string>()));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(to_hex(key->public_key()), g["public_key_hex"].get<std::string>());
  EXPECT_EQ(key->did(), g["did"].get<std::string>());
}

TEST(Keys, DidDecodesBackToGoldenPublicKey) {
  auto g = golden();
  auto pk = public_key_from_did(g["did"].get<std::string>());
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(to_hex(*pk), g["public_key_hex"].get<std::string>());
}

TEST(Keys, GoldenSignatureOverCanonicalEnvelopeVerifies) {
  auto g = golden();
  Json envelope = g["signature_envelope"];
  envelope["signature"] = "";
  std::string jcs = canonical_json(envelope);
  EXPECT_EQ(jcs, g["canonical_jcs"].get<std::string>());
  auto key = SecretKey::from_seed(from_hex(g["seed_hex"].get<std::string>()));
  auto sig = key->sign(jcs);
  EXPECT_EQ(b64_encode(sig), g["signature_base64"].get<std::string>());
  EXPECT_TRUE(ed25519_verify(key->public_key(), jcs, from_hex(g["signature_hex"].get<std::string>())));
  EXPECT_FALSE(ed25519_verify(key->public_key(), jcs + " ", sig));
}

TEST(Keys, GoldenArtifactSha256) {
  auto g = golden();
  auto h = sha256(g["test_artifact"]["file_bytes_utf8"].get<std::string>());
  EXPECT_EQ(to_hex(h), g["test_artifact"]["sha256_hex"].get<std::string>());
}

}  // namespace
}  // namespace clawjail::policy
