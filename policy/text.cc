// Outside bytes as text (docs/protocol.md "Bytes that are not text"). A file name the jail made,
// a path a client sent, a message quoting either: none is promised to be UTF-8, and nlohmann
// throws when it serialises a string that is not. Every such string is turned into text here, in
// one of three explicit forms, before it reaches JSON, a terminal or a log line.
#include <cstdio>

#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/text.h"

namespace clawjail::policy {
namespace {

constexpr uint32_t kInvalid = 0xffffffff;

// The code point starting at s[i] and its length in bytes, or {kInvalid, 1} when the bytes there
// are not a well-formed UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, <= U+10FFFF).
std::pair<uint32_t, size_t> decode_at(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return {b0, 1};
  size_t len = b0 >= 0xf0 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc0 ? 2 : 0;
  if (len == 0 || b0 > 0xf4 || i + len > s.size()) return {kInvalid, 1};
  uint32_t cp = b0 & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return {kInvalid, 1};
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {kInvalid, 1};
  return {cp, len};
}

void append_hex_byte(std::string& out, unsigned char b) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "\\x%02x", b);
  out += buf;
}

// Characters a terminal acts on rather than shows, or that reorder what it shows.
bool unprintable(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

template <class Each>
std::string transform(std::string_view bytes, Each each) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    auto [cp, len] = decode_at(bytes, i);
    each(out, bytes.substr(i, len), cp);
    i += len;
  }
  return out;
}

}  // namespace

bool is_utf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    auto [cp, len] = decode_at(bytes, i);
    if (cp == kInvalid) return false;
    i += len;
  }
  return true;
}

std::string utf8_text(std::string_view bytes) {
  if (is_utf8(bytes)) return std::string(bytes);
  return transform(bytes, [](std::string& out, std::string_view seq, uint32_t cp) {
    if (cp == kInvalid) append_hex_byte(out, static_cast<unsigned char>(seq[0]));
    else out += seq;
  });
}

std::string printable(std::string_view bytes) {
  return transform(bytes, [](std::string& out, std::string_view seq, uint32_t cp) {
    if (cp == kInvalid || (cp < 0x80 && unprintable(cp))) {
      append_hex_byte(out, static_cast<unsigned char>(seq[0]));
    } else if (unprintable(cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u{%04x}", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out += seq;
    }
  });
}

Json utf8_json(Json value) {
  if (value.is_string()) return utf8_text(value.get_ref<const std::string&>());
  if (value.is_array()) {
    for (auto& v : value) v = utf8_json(std::move(v));
    return value;
  }
  if (!value.is_object()) return value;
  Json out = Json::object();
  for (auto& [key, v] : value.items()) out[utf8_text(key)] = utf8_json(std::move(v));
  return out;
}

void put_name(Json& object, std::string_view bytes) {
  if (is_utf8(bytes)) {
    object["name"] = std::string(bytes);
    return;
  }
  object["name"] = transform(bytes, [](std::string& out, std::string_view seq, uint32_t cp) {
    out += cp == kInvalid ? std::string_view("\xef\xbf\xbd") : seq;  // U+FFFD
  });
  object["name_b64"] = b64_encode(bytes);
}

std::optional<std::string> name_bytes(const Json& object) {
  if (!object.is_object()) return std::nullopt;
  if (object.contains("name_b64")) {
    if (!object["name_b64"].is_string()) return std::nullopt;
    auto bytes = b64_decode(object["name_b64"].get<std::string>());
    return bytes ? std::optional<std::string>(*bytes) : std::nullopt;
  }
  if (!object.contains("name") || !object["name"].is_string()) return std::nullopt;
  return object["name"].get<std::string>();
}

}  // namespace clawjail::policy
