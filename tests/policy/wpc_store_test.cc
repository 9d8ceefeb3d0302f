// The policy store: a WPC is found by its hash and trusted only if it still hashes to its name and
// verifies against today's signers.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "policy/wpc.h"
#include "policy/wpc_store.h"
#include "tests/policy/test_util.h"
#include "tests/policy/wpc_fixtures.h"

namespace clawjail::policy {
namespace {

class WpcStore : public ::testing::Test {
 protected:
  testing::TempDir state;
  SecretKey signer = SecretKey::generate();
  PolicyStore store{state.path(), {signer.did()}};
  Json envelope = sign_wpc(testing::tool_wpc(), signer);

  std::filesystem::path file_of(const std::string& hash) { return state.path() / "policies" / (hash + ".json"); }
};

TEST_F(WpcStore, InstalledWpcIsFoundByItsHash) {
  auto hash = store.install(envelope);
  ASSERT_TRUE(hash.ok()) << hash.error().detail;
  EXPECT_TRUE(std::filesystem::exists(file_of(*hash)));
  auto got = store.get(*hash);
  ASSERT_TRUE(got.ok()) << got.error().detail;
  EXPECT_EQ(got->policy.policy_id, "build-bot");
  EXPECT_EQ(store.list(), std::vector<std::string>{*hash});
  EXPECT_TRUE(store.get("b64u:" + *hash).ok());
}

TEST_F(WpcStore, InstallRefusesAnUnverifiedEnvelopeAndWritesNothing) {
  PolicyStore other(state.path(), {SecretKey::generate().did()});
  EXPECT_EQ(other.install(envelope).reason(), Reason::WPC_SIGNER_NOT_ALLOWED);
  EXPECT_TRUE(other.list().empty());
}

TEST_F(WpcStore, UnknownHashIsNotFound) {
  EXPECT_EQ(store.get(sha256_b64u("nothing")).reason(), Reason::WPC_NOT_FOUND);
}

TEST_F(WpcStore, PathTraversalInTheHashIsRefused) {
  EXPECT_EQ(store.get("../../../../etc/passwd").reason(), Reason::WPC_NOT_FOUND);
  EXPECT_EQ(store.get("").reason(), Reason::WPC_NOT_FOUND);
}

TEST_F(WpcStore, FileRenamedToAnotherHashIsRefused) {
  auto a = store.install(envelope);
  Json p2 = testing::tool_wpc();
  p2["policy_id"] = "other";
  auto b = store.install(sign_wpc(p2, signer));
  ASSERT_TRUE(a.ok() && b.ok());
  std::filesystem::rename(file_of(*b), file_of(*a));  // a's name, b's content
  EXPECT_EQ(store.get(*a).reason(), Reason::WPC_STORE_CORRUPT);
}

TEST_F(WpcStore, EditedStoredPayloadIsRefused) {
  auto hash = store.install(envelope);
  Json tampered = envelope;
  tampered["payload"]["tools"]["allow"].push_back("exec");
  std::ofstream(file_of(*hash)) << tampered.dump();
  EXPECT_EQ(store.get(*hash).reason(), Reason::WPC_STORE_CORRUPT);
}

// get() keeps what it verified, but only for the same bytes: a same-size edit in place, in the
// same clock tick as the read before it, is still caught.
TEST_F(WpcStore, FileTamperedAfterItWasReadIsRefused) {
  auto hash = store.install(envelope);
  ASSERT_TRUE(hash.ok());
  ASSERT_TRUE(store.get(*hash).ok());
  std::string text;
  {
    std::ifstream in(file_of(*hash));
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto at = text.find("build-bot");
  ASSERT_NE(at, std::string::npos);
  text[at] = 'B';
  {
    std::fstream io(file_of(*hash), std::ios::in | std::ios::out);
    io.seekp(static_cast<std::streamoff>(at));
    io.put('B');
  }
  EXPECT_EQ(store.get(*hash).reason(), Reason::WPC_STORE_CORRUPT);
  {
    std::fstream io(file_of(*hash), std::ios::in | std::ios::out);
    io.seekp(static_cast<std::streamoff>(at));
    io.put('b');
  }
  EXPECT_TRUE(store.get(*hash).ok()) << "the original bytes verify again";
}

TEST_F(WpcStore, GarbageStoredFileIsCorrupt) {
  auto hash = store.install(envelope);
  std::ofstream(file_of(*hash)) << "{\"payload\":";
  EXPECT_EQ(store.get(*hash).reason(), Reason::WPC_STORE_CORRUPT);
}

TEST_F(WpcStore, SignerRemovedFromConfigRefusesItsStoredWpc) {
  auto hash = store.install(envelope);
  PolicyStore later(state.path(), {SecretKey::generate().did()});
  EXPECT_EQ(later.get(*hash).reason(), Reason::WPC_SIGNER_NOT_ALLOWED);
}

TEST_F(WpcStore, ReinstallReplacesAtomicallyWithoutTemporaryLeftovers) {
  ASSERT_TRUE(store.install(envelope).ok());
  ASSERT_TRUE(store.install(envelope).ok());
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(state.path() / "policies")) {
    ++files;
    EXPECT_EQ(e.path().extension(), ".json") << e.path();
  }
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace clawjail::policy
