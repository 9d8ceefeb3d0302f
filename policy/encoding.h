// Base64 (RFC 4648) and SHA-256, as every signed format here spells them.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/reason.h"

namespace clawjail::policy {

std::string b64u_encode(std::string_view bytes);            // RFC 4648 §5, no padding
Result<std::string> b64u_decode(std::string_view text);     // refuses padding and bad chars
std::string b64_encode(std::string_view bytes);             // standard, padded (DSSE payload)
Result<std::string> b64_decode(std::string_view text);
std::array<uint8_t, 32> sha256(std::string_view bytes);
std::string sha256_b64u(std::string_view bytes);            // 43 characters
// Accepts "<43>" or the seed's "b64u:<43>" and returns the 43 characters, or an error.
Result<std::string> normalize_hash_b64u(std::string_view text);

}  // namespace clawjail::policy
