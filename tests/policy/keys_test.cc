// Keys and did:key against Protocol M's golden vector, and the key file's refusals.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "policy/canonical_json.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "policy/strict_json.h"
#include "tests/policy/test_util.h"

namespace clawjail::policy {
namespace {

Json golden() {
  auto json = parse_strict_json_file(std::string(CLAWJAIL_SOURCE_DIR) + "/tests/data/clawbureau/protocol-m-golden-vector.v1.json");
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

TEST(Keys, SavedKeyLoadsBackWithTheSameIdentity) {
  testing::TempDir dir;
  auto key = SecretKey::generate();
  ASSERT_TRUE(key.save(dir.path() / "a.key").ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "a.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = SecretKey::load(dir.path() / "a.key");
  ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
  EXPECT_EQ(loaded->did(), key.did());
  EXPECT_EQ(loaded->sign("m"), key.sign("m"));
}

TEST(Keys, SaveNeverOverwritesAnExistingFile) {
  testing::TempDir dir;
  auto key = SecretKey::generate();
  ASSERT_TRUE(key.save(dir.path() / "a.key").ok());
  EXPECT_FALSE(SecretKey::generate().save(dir.path() / "a.key").ok());
  EXPECT_EQ(SecretKey::load(dir.path() / "a.key")->did(), key.did());
}

TEST(Keys, GroupReadableKeyIsRefused) {
  testing::TempDir dir;
  ASSERT_TRUE(SecretKey::generate().save(dir.path() / "a.key").ok());
  ::chmod((dir.path() / "a.key").c_str(), 0640);
  EXPECT_EQ(SecretKey::load(dir.path() / "a.key").reason(), Reason::KEY_PERMISSIONS);
  ::chmod((dir.path() / "a.key").c_str(), 0604);
  EXPECT_EQ(SecretKey::load(dir.path() / "a.key").reason(), Reason::KEY_PERMISSIONS);
}

TEST(Keys, MissingKeyIsKeyMissing) {
  testing::TempDir dir;
  EXPECT_EQ(SecretKey::load(dir.path() / "none.key").reason(), Reason::KEY_MISSING);
}

TEST(Keys, MalformedKeyFilesAreKeyInvalid) {
  testing::TempDir dir;
  const char* bodies[] = {"", "garbage\n", "clawjail-ed25519-seed-v1\nshort\n",
                          "clawjail-ed25519-seed-v1\n47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=\n"};
  int i = 0;
  for (const char* body : bodies) {
    auto path = dir.path() / ("k" + std::to_string(i++));
    std::ofstream(path) << body;
    ::chmod(path.c_str(), 0600);
    EXPECT_EQ(SecretKey::load(path).reason(), Reason::KEY_INVALID) << body;
  }
  ::symlink("/etc/hostname", (dir.path() / "link").c_str());
  EXPECT_EQ(SecretKey::load(dir.path() / "link").reason(), Reason::KEY_INVALID);
}

TEST(Keys, PublicKeyFileHoldsTheDid) {
  testing::TempDir dir;
  auto key = SecretKey::generate();
  ASSERT_TRUE(save_public_key(dir.path() / "a.pub", key.public_key()).ok());
  std::ifstream in(dir.path() / "a.pub");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, key.did());
}

TEST(Keys, MalformedDidsAreRefused) {
  auto did = SecretKey::generate().did();
  EXPECT_EQ(public_key_from_did("did:web:example.com").reason(), Reason::BAD_DID);
  EXPECT_EQ(public_key_from_did(did + "1").reason(), Reason::BAD_DID);
  EXPECT_EQ(public_key_from_did(did.substr(0, did.size() - 1) + "0").reason(), Reason::BAD_DID);  // 0 is not base58
  EXPECT_EQ(public_key_from_did("did:key:z1" + did.substr(9)).reason(), Reason::BAD_DID);  // non-canonical
  EXPECT_EQ(public_key_from_did("did:key:z").reason(), Reason::BAD_DID);
}

TEST(Keys, SignatureByAnotherKeyDoesNotVerify) {
  auto a = SecretKey::generate();
  auto b = SecretKey::generate();
  EXPECT_FALSE(ed25519_verify(b.public_key(), "m", a.sign("m")));
  EXPECT_FALSE(ed25519_verify(a.public_key(), "m", a.sign("m").substr(1)));
}

}  // namespace
}  // namespace clawjail::policy
