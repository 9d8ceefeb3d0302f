// RFC 8785 (JCS): the byte form that content addresses (policy_hash_b64u, request and jail hashes)
// are computed over. Every producer must agree on these bytes to the last one, so each rule of the
// RFC is a function here: key order (UTF-16 code units), string escapes (ECMAScript
// JSON.stringify) and number form (ECMAScript Number.prototype.toString).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "policy/canonical_json.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/utf16.h"

namespace clawjail::policy {
namespace {

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

// ECMAScript Number::toString for a finite double: the shortest round-trip digits (to_chars),
// laid out by the exponent rules of ECMA-262 §6.1.6.1.20.
void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) throw std::invalid_argument("canonical_json: NaN or Infinity");
  if (v == 0) {
    out += '0';  // also -0
    return;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  if (sci[0] == '-') {
    out += '-';
    sci.erase(0, 1);
  }
  auto e = sci.find('e');
  std::string digits = sci.substr(0, e);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  int n = std::stoi(sci.substr(e + 1)) + 1;  // position of the decimal point
  int k = static_cast<int>(digits.size());
  // Appended piece by piece: GCC 12 at -O3 misreads `a + b` temporaries here as overlapping
  // copies (-Wrestrict), and a packager's Release build must compile clean.
  if (k <= n && n <= 21) {
    out.append(digits).append(n - k, '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, n).append(".").append(digits, n);
  } else if (-6 < n && n <= 0) {
    out.append("0.").append(-n, '0').append(digits);
  } else {
    out.append(digits, 0, 1);
    if (k > 1) out.append(".").append(digits, 1);
    out.append(n - 1 >= 0 ? "e+" : "e-").append(std::to_string(std::abs(n - 1)));
  }
}

// Strings built in code (not parsed) may hold bytes that are not UTF-8; JCS cannot express them.
void append_checked_string(std::string& out, const std::string& s) {
  to_utf16(s);
  append_string(out, s);
}

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53);

void append_value(std::string& out, const Json& v);

void append_object(std::string& out, const Json& v) {
  std::vector<std::pair<std::u16string, const std::string*>> keys;
  for (auto it = v.begin(); it != v.end(); ++it) keys.emplace_back(to_utf16(it.key()), &it.key());
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out.push_back('{');
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) out.push_back(',');
    append_string(out, *keys[i].second);
    out.push_back(':');
    append_value(out, v.at(*keys[i].second));
  }
  out.push_back('}');
}

void append_array(std::string& out, const Json& v) {
  out.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    append_value(out, v[i]);
  }
  out.push_back(']');
}

// Integers beyond 2^53 are not exact IEEE doubles; JCS serialises them as the double they become.
void append_integer(std::string& out, const Json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(kMaxSafeInteger)) out += std::to_string(u);
    else append_double(out, static_cast<double>(u));
    return;
  }
  auto i = v.get<int64_t>();
  if (i <= kMaxSafeInteger && i >= -kMaxSafeInteger) out += std::to_string(i);
  else append_double(out, static_cast<double>(i));
}

void append_value(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: out += "null"; break;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: append_integer(out, v); break;
    case Json::value_t::number_float: append_double(out, v.get<double>()); break;
    case Json::value_t::string: append_checked_string(out, v.get_ref<const std::string&>()); break;
    case Json::value_t::array: append_array(out, v); break;
    case Json::value_t::object: append_object(out, v); break;
    default: throw std::invalid_argument("canonical_json: value JCS cannot express");
  }
}

}  // namespace

// Decodes UTF-8 (already validated by the JSON parser, re-checked here) into UTF-16 code units.
std::u16string to_utf16(std::string_view s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : -1;
    if (extra < 0 || s.size() - i <= static_cast<size_t>(extra))
      throw std::invalid_argument("canonical_json: invalid UTF-8");
    uint32_t cp = extra == 0 ? c : c & (0x3f >> extra);
    for (int k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xc0) != 0x80) throw std::invalid_argument("canonical_json: invalid UTF-8");
      cp = (cp << 6) | (next & 0x3f);
    }
    i += extra + 1;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

bool utf16_less(const std::string& a, const std::string& b) { return to_utf16(a) < to_utf16(b); }

std::string canonical_json(const Json& value) {
  std::string out;
  append_value(out, value);
  return out;
}

std::string canonical_hash_b64u(const Json& value) { return sha256_b64u(canonical_json(value)); }

}  // namespace clawjail::policy
