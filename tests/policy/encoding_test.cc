// base64url/base64 and hash strings: a field that accepts two spellings of one value can be
// used to smuggle a second meaning past a signature.
#include <gtest/gtest.h>

#include "policy/encoding.h"

namespace clawjail::policy {
namespace {

TEST(Encoding, Base64UrlHasNoPaddingAndUrlAlphabet) {
  EXPECT_EQ(b64u_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(b64u_decode("-_8").value(), "\xfb\xff");
  EXPECT_EQ(b64u_encode(""), "");
}

TEST(Encoding, Base64UrlRefusesPaddingAndForeignCharacters) {
  EXPECT_EQ(b64u_decode("-_8=").reason(), Reason::BAD_ENCODING);
  EXPECT_EQ(b64u_decode("+/8").reason(), Reason::BAD_ENCODING);
  EXPECT_EQ(b64u_decode("ab c").reason(), Reason::BAD_ENCODING);
}

TEST(Encoding, Base64UrlRefusesNonCanonicalTrailingBits) {
  EXPECT_EQ(b64u_decode("-_9").reason(), Reason::BAD_ENCODING);  // same bytes as "-_8" if bits were ignored
}

TEST(Encoding, StandardBase64IsPadded) {
  EXPECT_EQ(b64_encode("ab"), "YWI=");
  EXPECT_EQ(b64_decode("YWI=").value(), "ab");
  EXPECT_EQ(b64_decode("YWI").reason(), Reason::BAD_ENCODING);
}

TEST(Encoding, Sha256OfEmptyString) {
  EXPECT_EQ(sha256_b64u(""), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
}

TEST(Encoding, HashNormalizationAcceptsSeedPrefixOnly) {
  std::string h = sha256_b64u("x");
  EXPECT_EQ(normalize_hash_b64u(h).value(), h);
  EXPECT_EQ(normalize_hash_b64u("b64u:" + h).value(), h);
  EXPECT_EQ(normalize_hash_b64u("b64:" + h).reason(), Reason::BAD_ENCODING);
  EXPECT_EQ(normalize_hash_b64u(h.substr(1)).reason(), Reason::BAD_ENCODING);
  EXPECT_EQ(normalize_hash_b64u(h.substr(1) + "=").reason(), Reason::BAD_ENCODING);
  EXPECT_EQ(normalize_hash_b64u("../../../../../../../../../../../etc/passwd").reason(), Reason::BAD_ENCODING);
}

}  // namespace
}  // namespace clawjail::policy
