// Ed25519 keys: the secret key in locked memory, did:key names, signature checks.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/reason.h"

namespace clawjail::policy {

// An Ed25519 secret key in memory that libsodium locks and zeroes on destruction.
class SecretKey {
 public:
  static SecretKey generate();
  static Result<SecretKey> from_seed(std::string_view seed32);
  // Refuses a missing file (KEY_MISSING), one readable by group or others (KEY_PERMISSIONS),
  // and a malformed one (KEY_INVALID). File format: see keys.cc (documented in README).
  static Result<SecretKey> load(const std::filesystem::path& path);
  Status save(const std::filesystem::path& path) const;  // mode 0600, O_EXCL
  SecretKey(SecretKey&&) noexcept;
  SecretKey& operator=(SecretKey&&) noexcept;
  ~SecretKey();
  std::array<uint8_t, 32> public_key() const;
  std::string did() const;                            // did:key:z6Mk…
  std::string sign(std::string_view message) const;   // 64 raw bytes
 private:
  SecretKey();
  struct Locked;
  std::unique_ptr<Locked> k_;
};

std::string did_from_public_key(const std::array<uint8_t, 32>& pk);
Result<std::array<uint8_t, 32>> public_key_from_did(std::string_view did);
Status save_public_key(const std::filesystem::path& path, const std::array<uint8_t, 32>& pk);
bool ed25519_verify(const std::array<uint8_t, 32>& pk, std::string_view message,
                    std::string_view signature64);

}  // namespace clawjail::policy
