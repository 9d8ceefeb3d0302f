// Outside JSON is read one way only: duplicates, floats, depth, size and garbage are refused and
// each refusal names where.
#include <gtest/gtest.h>

#include "policy/json.h"
#include "policy/strict_json.h"

namespace clawjail::policy {
namespace {

TEST(StrictJson, DuplicateKeyIsRefusedWithItsPath) {
  auto r = parse_strict_json(R"({"tools":{"allow":["read"],"allow":["exec"]}})");
  ASSERT_EQ(r.reason(), Reason::DUPLICATE_KEY);
  EXPECT_NE(r.error().detail.find("$.tools.allow"), std::string::npos) << r.error().detail;
}

TEST(StrictJson, DuplicateKeyInsideArrayElementNamesIndex) {
  auto r = parse_strict_json(R"({"binds":[{"src":"/a"},{"src":"/b","src":"/c"}]})");
  ASSERT_EQ(r.reason(), Reason::DUPLICATE_KEY);
  EXPECT_NE(r.error().detail.find("$.binds[1].src"), std::string::npos) << r.error().detail;
}

TEST(StrictJson, SameKeyInSiblingObjectsIsFine) {
  EXPECT_TRUE(parse_strict_json(R"({"a":{"k":1},"b":{"k":2}})").ok());
}

TEST(StrictJson, FloatIsRefusedUnlessAllowed) {
  auto r = parse_strict_json(R"({"limits":{"memory_mb":1.5}})");
  ASSERT_EQ(r.reason(), Reason::FLOAT_NOT_ALLOWED);
  EXPECT_NE(r.error().detail.find("$.limits.memory_mb"), std::string::npos) << r.error().detail;
  EXPECT_TRUE(parse_strict_json(R"({"x":1.5})", JsonLimits{.allow_floats = true}).ok());
  EXPECT_EQ(parse_strict_json(R"({"x":1e3})").reason(), Reason::FLOAT_NOT_ALLOWED);
}

TEST(StrictJson, NanInfinityAndTrailingGarbageAreBadJson) {
  EXPECT_EQ(parse_strict_json(R"({"x":NaN})").reason(), Reason::BAD_JSON);
  EXPECT_EQ(parse_strict_json(R"({"x":Infinity})").reason(), Reason::BAD_JSON);
  EXPECT_EQ(parse_strict_json(R"({"x":1} {})").reason(), Reason::BAD_JSON);
  EXPECT_EQ(parse_strict_json(R"({"x":1,})").reason(), Reason::BAD_JSON);
  EXPECT_EQ(parse_strict_json("").reason(), Reason::BAD_JSON);
  EXPECT_EQ(parse_strict_json("{\"x\":\"\xff\"}").reason(), Reason::BAD_JSON);
}

TEST(StrictJson, DepthOver64IsRefused) {
  std::string ok = std::string(64, '[') + std::string(64, ']');
  std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_TRUE(parse_strict_json(ok).ok());
  EXPECT_EQ(parse_strict_json(deep).reason(), Reason::DOCUMENT_TOO_DEEP);
  std::string very_deep = std::string(100000, '[');
  EXPECT_EQ(parse_strict_json(very_deep).reason(), Reason::DOCUMENT_TOO_DEEP);
}

TEST(StrictJson, OversizeIsRefusedBeforeParsing) {
  std::string big = "\"" + std::string(1 << 20, 'a') + "\"";
  EXPECT_EQ(parse_strict_json(big).reason(), Reason::DOCUMENT_TOO_LARGE);
  EXPECT_EQ(parse_strict_json("[1,2,3]", JsonLimits{.max_bytes = 4}).reason(), Reason::DOCUMENT_TOO_LARGE);
}

TEST(StrictJson, ParsedValuesAreKept) {
  auto r = parse_strict_json(R"({"a":[1,-2,"x",true,null,{"b":{}}],"big":18446744073709551615})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["a"][1], -2);
  EXPECT_EQ((*r)["a"][5]["b"], Json::object());
  EXPECT_EQ((*r)["big"].get<uint64_t>(), 18446744073709551615u);
}

}  // namespace
}  // namespace clawjail::policy
