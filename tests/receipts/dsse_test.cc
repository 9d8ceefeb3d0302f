#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "test_util.h"

namespace clawjail::receipts::testing {
namespace {

TEST(Dsse, PaeIsTheSpecsByteString) {
  EXPECT_EQ(pae("application/x", "hello"), "DSSEv1 13 application/x 5 hello");
  EXPECT_EQ(pae("", ""), "DSSEv1 0  0 ");
}

TEST(Dsse, SignsPaeWithEd25519AndVerifiesTheExactPayloadBytes) {
  auto key = key_from('\x01');
  // Deliberately non-canonical JSON: the verifier must hand back these bytes, not a re-dump.
  std::string payload = "{ \"b\":1,  \"a\" : 2 }";
  Json env = dsse_sign(key, kReceiptPayloadType, payload);
  EXPECT_EQ(env["payloadType"], kReceiptPayloadType);
  EXPECT_EQ(env["payload"], policy::b64_encode(payload));
  ASSERT_EQ(env["signatures"].size(), 1u);
  EXPECT_EQ(env["signatures"][0]["keyid"], key.did());
  auto sig = policy::b64u_decode(env["signatures"][0]["sig"].get<std::string>());
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(policy::ed25519_verify(key.public_key(), pae(kReceiptPayloadType, payload), *sig));

  auto verified = dsse_verify(env, kReceiptPayloadType, {key.did()});
  ASSERT_TRUE(verified.ok()) << verified.error().detail;
  EXPECT_EQ(*verified, payload);
}

TEST(Dsse, RefusesAnEmptyTrustList) {
  auto key = key_from('\x01');
  auto r = dsse_verify(dsse_sign(key, kReceiptPayloadType, "{}"), kReceiptPayloadType, {});
  EXPECT_EQ(r.reason(), Reason::TRUST_REQUIRED);
}

TEST(Dsse, RefusesASignerOutsideTheTrustList) {
  auto key = key_from('\x01');
  auto other = key_from('\x02');
  auto r = dsse_verify(dsse_sign(key, kReceiptPayloadType, "{}"), kReceiptPayloadType, {other.did()});
  EXPECT_EQ(r.reason(), Reason::RECEIPT_UNTRUSTED_KEY);
}

TEST(Dsse, RefusesASignatureThatClaimsATrustedKeyItWasNotMadeWith) {
  auto key = key_from('\x01');
  auto forger = key_from('\x02');
  Json env = dsse_sign(forger, kReceiptPayloadType, "{}");
  env["signatures"][0]["keyid"] = key.did();
  EXPECT_EQ(dsse_verify(env, kReceiptPayloadType, {key.did()}).reason(), Reason::RECEIPT_SIGNATURE_INVALID);
}

TEST(Dsse, RefusesAChangedPayloadByte) {
  auto key = key_from('\x01');
  Json env = dsse_sign(key, kReceiptPayloadType, "{\"seq\":1}");
  env["payload"] = policy::b64_encode("{\"seq\":2}");
  EXPECT_EQ(dsse_verify(env, kReceiptPayloadType, {key.did()}).reason(), Reason::RECEIPT_SIGNATURE_INVALID);
}

TEST(Dsse, RefusesAnotherPayloadTypeBecausePaeBindsIt) {
  auto key = key_from('\x01');
  Json env = dsse_sign(key, kBundlePayloadType, "{}");
  EXPECT_FALSE(dsse_verify(env, kReceiptPayloadType, {key.did()}).ok());
  env["payloadType"] = kReceiptPayloadType;  // relabelled: the signature covered the other type
  EXPECT_EQ(dsse_verify(env, kReceiptPayloadType, {key.did()}).reason(), Reason::RECEIPT_SIGNATURE_INVALID);
}

TEST(Dsse, RefusesMalformedEnvelopes) {
  auto key = key_from('\x01');
  std::vector<std::string> trusted{key.did()};
  EXPECT_FALSE(dsse_verify(Json::array(), kReceiptPayloadType, trusted).ok());
  Json env = dsse_sign(key, kReceiptPayloadType, "{}");
  Json no_sigs = env;
  no_sigs.erase("signatures");
  EXPECT_FALSE(dsse_verify(no_sigs, kReceiptPayloadType, trusted).ok());
  Json bad_b64 = env;
  bad_b64["payload"] = "***";
  EXPECT_FALSE(dsse_verify(bad_b64, kReceiptPayloadType, trusted).ok());
  Json extra = env;
  extra["note"] = "x";
  EXPECT_FALSE(dsse_verify(extra, kReceiptPayloadType, trusted).ok());
  Json short_sig = env;
  short_sig["signatures"][0]["sig"] = "AAAA";
  EXPECT_EQ(dsse_verify(short_sig, kReceiptPayloadType, trusted).reason(), Reason::RECEIPT_SIGNATURE_INVALID);
}

TEST(Dsse, AcceptsAnyTrustedSignatureAmongSeveral) {
  auto old_key = key_from('\x01');
  auto new_key = key_from('\x02');
  Json env = dsse_sign(new_key, kReceiptPayloadType, "{}");
  env["signatures"].push_back(dsse_sign(old_key, kReceiptPayloadType, "{}")["signatures"][0]);
  EXPECT_TRUE(dsse_verify(env, kReceiptPayloadType, {old_key.did()}).ok());
  EXPECT_TRUE(dsse_verify(env, kReceiptPayloadType, {new_key.did()}).ok());
}

}  // namespace
}  // namespace clawjail::receipts::testing
