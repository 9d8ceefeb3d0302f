// did:key for Ed25519: "did:key:z" + base58btc(0xed 0x01 ‖ public key). base58 is an encoding, not
// crypto, and no Debian package offers it, so it is written here in full.
#include "policy/json.h"
#include "policy/keys.h"

namespace clawjail::policy {
namespace {
constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kDidPrefix = "did:key:z";
constexpr uint8_t kEd25519Multicodec[] = {0xed, 0x01};

// Big-number division by 58, digit by digit: quadratic, fine for 34 bytes.
std::string base58_encode(const Bytes& in) {
  size_t zeros = 0;
  while (zeros < in.size() && in[zeros] == 0) ++zeros;
  std::vector<uint8_t> digits;  // base58, least significant first
  for (size_t i = zeros; i < in.size(); ++i) {
    int carry = in[i];
    for (auto& d : digits) {
      carry += 256 * d;
      d = static_cast<uint8_t>(carry % 58);
      carry /= 58;
    }
    for (; carry; carry /= 58) digits.push_back(static_cast<uint8_t>(carry % 58));
  }
  std::string out(zeros, '1');
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kAlphabet[*it]);
  return out;
}

std::optional<Bytes> base58_decode(std::string_view in) {
  size_t ones = 0;
  while (ones < in.size() && in[ones] == '1') ++ones;
  std::vector<uint8_t> bytes;  // base256, least significant first
  for (size_t i = ones; i < in.size(); ++i) {
    auto pos = kAlphabet.find(in[i]);
    if (pos == std::string_view::npos) return std::nullopt;
    int carry = static_cast<int>(pos);
    for (auto& b : bytes) {
      carry += 58 * b;
      b = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    for (; carry; carry >>= 8) bytes.push_back(static_cast<uint8_t>(carry & 0xff));
  }
  Bytes out(ones, 0);
  out.insert(out.end(), bytes.rbegin(), bytes.rend());
  return out;
}

}  // namespace

std::string did_from_public_key(const std::array<uint8_t, 32>& pk) {
  // Sized up front: GCC 12's -Warray-bounds misfires on insert() after a 2-byte range ctor at -O2.
  Bytes raw(sizeof(kEd25519Multicodec) + pk.size());
  std::copy(std::begin(kEd25519Multicodec), std::end(kEd25519Multicodec), raw.begin());
  std::copy(pk.begin(), pk.end(), raw.begin() + sizeof(kEd25519Multicodec));
  return std::string(kDidPrefix) + base58_encode(raw);
}

Result<std::array<uint8_t, 32>> public_key_from_did(std::string_view did) {
  if (!did.starts_with(kDidPrefix)) return fail(Reason::BAD_DID, "not a did:key with base58btc: " + std::string(did));
  if (did.size() > 128) return fail(Reason::BAD_DID, "did:key too long");
  auto raw = base58_decode(did.substr(kDidPrefix.size()));
  if (!raw) return fail(Reason::BAD_DID, "did:key has a non-base58 character");
  if (raw->size() != 34 || (*raw)[0] != kEd25519Multicodec[0] || (*raw)[1] != kEd25519Multicodec[1])
    return fail(Reason::BAD_DID, "did:key is not an Ed25519 public key");
  std::array<uint8_t, 32> pk{};
  std::copy(raw->begin() + 2, raw->end(), pk.begin());
  // Refuse non-canonical spellings (e.g. extra leading '1's) so one key has one did.
  if (did_from_public_key(pk) != did) return fail(Reason::BAD_DID, "did:key is not canonical");
  return pk;
}

}  // namespace clawjail::policy
