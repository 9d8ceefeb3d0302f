// Ed25519 secret keys. The secret lives only in libsodium's guarded, mlock'ed memory and is zeroed
// on destruction (sodium_free); file bytes pass through a stack buffer that is zeroed too.
//
// Secret key file format (text, mode 0600, two lines):
//   clawjail-ed25519-seed-v1
//   <the 32-byte Ed25519 seed, base64url without padding: 43 characters>
// The public key file (NAME.pub) is one line: the key's did:key.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "policy/file_io.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/sodium.h"
#include "base/unique_fd.h"

namespace clawjail::policy {
namespace {
constexpr std::string_view kKeyHeader = "clawjail-ed25519-seed-v1\n";
constexpr size_t kMaxKeyFile = 256;

std::string errno_text(const std::filesystem::path& path) {
  return path.string() + ": " + std::strerror(errno);
}

// Zeroes a stack buffer on every exit path.
struct WipedBuffer {
  char bytes[kMaxKeyFile + 1] = {};
  ~WipedBuffer() { sodium_memzero(bytes, sizeof bytes); }
};

Result<UniqueFd> open_key_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd && errno == ENOENT) return fail(Reason::KEY_MISSING, path.string() + ": no such file");
  if (!fd) return fail(Reason::KEY_INVALID, errno_text(path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(Reason::KEY_INVALID, errno_text(path));
  if (!S_ISREG(st.st_mode)) return fail(Reason::KEY_INVALID, path.string() + ": not a regular file");
  if (st.st_mode & 077)
    return fail(Reason::KEY_PERMISSIONS, path.string() + ": readable or writable by group or others "
                                                         "(chmod 600 it)");
  return fd;
}

}  // namespace

struct SecretKey::Locked {
  unsigned char* sk = nullptr;  // crypto_sign_SECRETKEYBYTES, sodium_malloc'ed
  Locked() {
    ensure_sodium();
    sk = static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
    if (!sk) throw std::bad_alloc();
  }
  ~Locked() { sodium_free(sk); }
  Locked(const Locked&) = delete;
  Locked& operator=(const Locked&) = delete;
};

SecretKey::SecretKey() : k_(std::make_unique<Locked>()) {}
SecretKey::SecretKey(SecretKey&&) noexcept = default;
SecretKey& SecretKey::operator=(SecretKey&&) noexcept = default;
SecretKey::~SecretKey() = default;

SecretKey SecretKey::generate() {
  SecretKey key;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_keypair(pk, key.k_->sk);
  return key;
}

Result<SecretKey> SecretKey::from_seed(std::string_view seed32) {
  if (seed32.size() != crypto_sign_SEEDBYTES) return fail(Reason::KEY_INVALID, "seed must be 32 bytes");
  SecretKey key;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(pk, key.k_->sk, reinterpret_cast<const unsigned char*>(seed32.data()));
  return key;
}

Result<SecretKey> SecretKey::load(const std::filesystem::path& path) {
  auto fd = open_key_file(path);
  if (!fd) return fd.error();
  WipedBuffer buf;
  ssize_t n = ::read(fd->get(), buf.bytes, sizeof buf.bytes);
  if (n < 0) return fail(Reason::KEY_INVALID, errno_text(path));
  std::string_view text(buf.bytes, static_cast<size_t>(n));
  if (text.size() > kMaxKeyFile || !text.starts_with(kKeyHeader))
    return fail(Reason::KEY_INVALID, path.string() + ": not a clawjail secret key file");
  text.remove_prefix(kKeyHeader.size());
  if (text.ends_with('\n')) text.remove_suffix(1);
  unsigned char seed[crypto_sign_SEEDBYTES];
  size_t len = 0;
  const char* end = nullptr;
  int rc = sodium_base642bin(seed, sizeof seed, text.data(), text.size(), nullptr, &len, &end,
                             sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  bool good = rc == 0 && len == sizeof seed && end == text.data() + text.size();
  auto key = good ? from_seed(std::string_view(reinterpret_cast<char*>(seed), sizeof seed))
                  : Result<SecretKey>(fail(Reason::KEY_INVALID, path.string() + ": malformed seed"));
  sodium_memzero(seed, sizeof seed);
  return key;
}

Status SecretKey::save(const std::filesystem::path& path) const {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail(Reason::INTERNAL_ERROR, errno_text(path));
  // crypto_sign's secret key is seed ‖ public key: the first 32 bytes are the seed.
  WipedBuffer buf;
  size_t used = kKeyHeader.copy(buf.bytes, kKeyHeader.size());
  sodium_bin2base64(buf.bytes + used, sizeof buf.bytes - used, k_->sk, crypto_sign_SEEDBYTES,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  used = std::strlen(buf.bytes);
  buf.bytes[used++] = '\n';
  if (auto s = write_all(fd.get(), std::string_view(buf.bytes, used), path, Reason::INTERNAL_ERROR); !s) return s;
  if (::fchmod(fd.get(), 0600) != 0 || ::fsync(fd.get()) != 0)
    return fail(Reason::INTERNAL_ERROR, errno_text(path));
  return ok_status();
}

std::array<uint8_t, 32> SecretKey::public_key() const {
  std::array<uint8_t, 32> pk{};
  crypto_sign_ed25519_sk_to_pk(pk.data(), k_->sk);
  return pk;
}

std::string SecretKey::did() const { return did_from_public_key(public_key()); }

std::string SecretKey::sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), k_->sk);
  return sig;
}

bool ed25519_verify(const std::array<uint8_t, 32>& pk, std::string_view message,
                    std::string_view signature64) {
  ensure_sodium();
  if (signature64.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature64.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), pk.data()) == 0;
}

Status save_public_key(const std::filesystem::path& path, const std::array<uint8_t, 32>& pk) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return fail(Reason::INTERNAL_ERROR, errno_text(path));
  if (auto s = write_all(fd.get(), did_from_public_key(pk) + "\n", path, Reason::INTERNAL_ERROR); !s) return s;
  if (::fsync(fd.get()) != 0) return fail(Reason::INTERNAL_ERROR, errno_text(path));
  return ok_status();
}

}  // namespace clawjail::policy
