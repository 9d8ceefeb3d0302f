// Private to policy/: ECMAScript compares strings by UTF-16 code units; JCS key order and
// clawscope's sorted aud/scope lists both depend on it.
#pragma once
#include <string>
#include <string_view>

namespace clawjail::policy {
// Throws std::invalid_argument for bytes that are not UTF-8 (canonical_json.cc).
std::u16string to_utf16(std::string_view utf8);
bool utf16_less(const std::string& a, const std::string& b);
}  // namespace clawjail::policy
