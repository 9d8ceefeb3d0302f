// RFC 8785 (JCS): content addresses are only portable if every byte matches the RFC's examples.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>

#include "policy/canonical_json.h"
#include "policy/json.h"
#include "policy/strict_json.h"

namespace clawjail::policy {
namespace {

Json parse(std::string_view text) {
  auto json = parse_strict_json(text, JsonLimits{.allow_floats = true});
  EXPECT_TRUE(json.ok()) << (json.ok() ? "" : json.error().detail);
  return json.ok() ? *json : Json();
}

std::string number(uint64_t bits) { return canonical_json(Json(std::bit_cast<double>(bits))); }

TEST(CanonicalJson, Rfc8785Section3_2_2Example) {
  auto input = parse(R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })");
  EXPECT_EQ(canonical_json(input),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(CanonicalJson, KeysSortByUtf16CodeUnitsNotCodePoints) {
  auto input = parse(R"({
    "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })");
  std::string out = canonical_json(input);
  std::vector<std::string> order = {"\\r", "\"1\"", "\xc2\x80", "\xc3\xb6", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                    "\xef\xac\xb3"};
  size_t pos = 0;
  for (const auto& key : order) {
    auto at = out.find(key, pos);
    ASSERT_NE(at, std::string::npos) << key << " out of order in " << out;
    pos = at;
  }
}

TEST(CanonicalJson, ControlCharactersUseLowercaseUnicodeEscapes) {
  Json v = std::string("\x01\x1f\b\t\n\f\r\"\\/\x7f", 11);
  EXPECT_EQ(canonical_json(v), "\"\\u0001\\u001f\\b\\t\\n\\f\\r\\\"\\\\/\x7f\"");
}

TEST(CanonicalJson, Rfc8785AppendixBNumbers) {
  const std::pair<uint64_t, const char*> table[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (auto [bits, want] : table) EXPECT_EQ(number(bits), want) << std::hex << bits;
}

TEST(CanonicalJson, NanAndInfinityCannotBeExpressed) {
  EXPECT_THROW(number(0x7fffffffffffffff), std::invalid_argument);
  EXPECT_THROW(number(0x7ff0000000000000), std::invalid_argument);
}

TEST(CanonicalJson, IntegersPrintExactlyUpTo2Pow53) {
  EXPECT_EQ(canonical_json(Json(int64_t{9007199254740992})), "9007199254740992");
  EXPECT_EQ(canonical_json(Json(int64_t{-42})), "-42");
  EXPECT_EQ(canonical_json(Json(uint64_t{18446744073709551615u})), "18446744073709552000");
}

TEST(CanonicalJson, NoWhitespaceAndNestedObjectsSorted) {
  EXPECT_EQ(canonical_json(parse(R"( { "b" : [ 1 , { "z":1, "a" : 2 } ], "a" : {} } )")),
            R"({"a":{},"b":[1,{"a":2,"z":1}]})");
}

TEST(CanonicalJson, InvalidUtf8BuiltInCodeIsRefused) {
  EXPECT_THROW(canonical_json(Json(std::string("\xff"))), std::invalid_argument);
}

TEST(CanonicalJson, GoldenVectorCanonicalForm) {
  auto g = parse_strict_json_file(std::string(CLAWJAIL_SOURCE_DIR) + "/tests/data/clawbureau/protocol-m-golden-vector.v1.json");
  ASSERT_TRUE(g.ok());
  Json envelope = (*g)["signature_envelope"];
  envelope["signature"] = "";
  EXPECT_EQ(canonical_json(envelope), (*g)["canonical_jcs"].get<std::string>());
}

}  // namespace
}  // namespace clawjail::policy
