// Byte encodings and hashes of docs/formats.md §1. libsodium does the work; this file only fixes which
// variant each field uses and refuses everything that is not exactly that variant.
#include <sodium.h>

#include <cstdlib>

#include "policy/encoding.h"
#include "policy/sodium.h"

namespace clawjail::policy {

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();
}

namespace {

std::string encode(std::string_view bytes, int variant) {
  ensure_sodium();
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1);  // the encoded length counts the terminating NUL
  return out;
}

// libsodium refuses non-canonical trailing bits; we additionally refuse anything left unparsed.
Result<std::string> decode(std::string_view text, int variant) {
  ensure_sodium();
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  int rc = sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                             text.size(), nullptr, &len, &end, variant);
  if (rc != 0 || end != text.data() + text.size())
    return fail(Reason::BAD_ENCODING, "not valid base64");
  out.resize(len);
  return out;
}

bool is_b64u_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::string b64u_encode(std::string_view bytes) {
  return encode(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

Result<std::string> b64u_decode(std::string_view text) {
  return decode(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::string b64_encode(std::string_view bytes) { return encode(bytes, sodium_base64_VARIANT_ORIGINAL); }

Result<std::string> b64_decode(std::string_view text) {
  return decode(text, sodium_base64_VARIANT_ORIGINAL);
}

std::array<uint8_t, 32> sha256(std::string_view bytes) {
  ensure_sodium();
  std::array<uint8_t, 32> out{};
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return out;
}

std::string sha256_b64u(std::string_view bytes) {
  auto h = sha256(bytes);
  return b64u_encode(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

Result<std::string> normalize_hash_b64u(std::string_view text) {
  if (text.starts_with("b64u:")) text.remove_prefix(5);
  if (text.size() != 43) return fail(Reason::BAD_ENCODING, "hash must be 43 base64url characters");
  for (char c : text)
    if (!is_b64u_char(c)) return fail(Reason::BAD_ENCODING, "hash has a non-base64url character");
  if (!b64u_decode(text)) return fail(Reason::BAD_ENCODING, "hash is not canonical base64url");
  return std::string(text);
}

}  // namespace clawjail::policy
