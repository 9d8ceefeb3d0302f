// Outside bytes as text (policy/text.cc): the forms docs/protocol.md "Bytes that are not text" names.
#include <gtest/gtest.h>

#include "policy/json.h"
#include "policy/text.h"

namespace clawjail::policy {
namespace {

TEST(Text, Utf8IsKeptAndOtherBytesAreWrittenAsHex) {
  EXPECT_EQ(utf8_text("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(utf8_text("x\xff"), "x\\xff");
  EXPECT_EQ(utf8_text("\xc0\xaf"), "\\xc0\\xaf") << "overlong";
  EXPECT_EQ(utf8_text("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "surrogate";
  EXPECT_EQ(utf8_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80") << "above U+10FFFF";
  EXPECT_EQ(utf8_text("\xe2\x82"), "\\xe2\\x82") << "cut short";
  EXPECT_FALSE(is_utf8("\xff"));
  EXPECT_TRUE(is_utf8("\xf0\x9f\x98\x80"));
}

TEST(Text, PrintableEscapesWhatATerminalWouldActOn) {
  EXPECT_EQ(printable("t\x1b]0;x\x07"), "t\\x1b]0;x\\x07");
  EXPECT_EQ(printable("a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
  EXPECT_EQ(printable("\xc2\x9b" "1m"), "\\u{009b}1m") << "C1 CSI as UTF-8";
  EXPECT_EQ(printable("\x9b"), "\\x9b") << "C1 CSI as a lone byte";
  EXPECT_EQ(printable("evil\xe2\x80\xaetxt.exe"), "evil\\u{202e}txt.exe") << "right-to-left override";
  EXPECT_EQ(printable("caf\xc3\xa9 ok"), "caf\xc3\xa9 ok");
}

TEST(Text, NamesRoundTripThroughJson) {
  for (std::string bytes : {std::string("plain"), std::string("x\xff"), std::string("\x1b[2J\x80"), std::string()}) {
    Json entry = Json::object();
    put_name(entry, bytes);
    Json back = Json::parse(entry.dump());
    EXPECT_EQ(name_bytes(back), bytes);
    EXPECT_EQ(back.contains("name_b64"), !is_utf8(bytes)) << back.dump();
  }
  Json lossy = Json::object();
  put_name(lossy, "x\xff");
  EXPECT_EQ(lossy["name"], "x\xef\xbf\xbd");
  EXPECT_EQ(lossy["name_b64"], "eP8=");
}

TEST(Text, AnyJsonBecomesSerialisable) {
  Json bad = {{"k\xff", Json::array({"v\xfe", {{"n", "\x80"}}})}};
  EXPECT_THROW((void)bad.dump(), Json::type_error);
  EXPECT_EQ(utf8_json(bad).dump(), R"({"k\\xff":["v\\xfe",{"n":"\\x80"}]})");
}

}  // namespace
}  // namespace clawjail::policy
