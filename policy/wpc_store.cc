// <state_dir>/policies/<policy_hash_b64u>.json. A file is trusted for what it hashes to and who
// signed it, never for its name. A store holds one list of signers (a reload makes a new store),
// so the same bytes verify as they did: get() reads the file every time and parses and
// re-verifies it only when its bytes changed.
#include "policy/encoding.h"
#include "policy/file_cache.h"
#include "policy/file_io.h"
#include "policy/json.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "policy/wpc_store.h"

namespace clawjail::policy {

PolicyStore::PolicyStore(std::filesystem::path state_dir, std::vector<std::string> signers)
    : dir_(std::move(state_dir) / "policies"),
      signers_(std::move(signers)),
      verified_(std::make_shared<FileCache<VerifiedWpc>>()) {}

Result<std::string> PolicyStore::install(const Json& envelope) {
  auto verified = verify_wpc_envelope(envelope, signers_);
  if (!verified) return verified.error();
  const std::string& hash = verified->policy.hash_b64u;
  if (auto s = ensure_private_dir(dir_, Reason::WPC_STORE_CORRUPT); !s) return s.error();
  auto written = write_file_atomic(dir_ / (hash + ".json"), envelope.dump(2) + "\n", 0600,
                                   Reason::WPC_STORE_CORRUPT);
  if (!written) return written.error();
  return hash;
}

namespace {

Result<VerifiedWpc> verify_stored(const std::filesystem::path& path, const std::string& bytes, const std::string& hash,
                                  const std::vector<std::string>& signers) {
  auto json = parse_strict_json(bytes);
  if (!json) return fail(Reason::WPC_STORE_CORRUPT, path.string() + ": " + json.error().detail);
  auto actual = json->is_object() && json->contains("payload") ? wpc_hash((*json)["payload"])
                                                                : Result<std::string>(fail(Reason::WPC_INVALID, "no payload"));
  if (!actual) return fail(Reason::WPC_STORE_CORRUPT, path.string() + ": " + actual.error().detail);
  if (*actual != hash)
    return fail(Reason::WPC_STORE_CORRUPT, path.string() + ": content hashes to " + *actual + ", not its name");
  return verify_wpc_envelope(*json, signers);
}

}  // namespace

Result<VerifiedWpc> PolicyStore::get(std::string_view hash_b64u) const {
  // The name becomes a path: only the 43 base64url characters of a hash may reach the filesystem.
  auto hash = normalize_hash_b64u(hash_b64u);
  if (!hash) return fail(Reason::WPC_NOT_FOUND, "not a policy hash: " + std::string(hash_b64u));
  auto path = dir_ / (*hash + ".json");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return fail(Reason::WPC_NOT_FOUND, "no installed WPC " + *hash);
  auto verified = verified_->get(path, JsonLimits{}.max_bytes, Reason::WPC_STORE_CORRUPT,
                                [&](const std::string& bytes) { return verify_stored(path, bytes, *hash, signers_); });
  if (!verified) return verified.error();
  return **verified;
}

std::vector<std::string> PolicyStore::list() const {
  std::vector<std::string> hashes;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    auto name = entry.path().filename().string();
    if (entry.path().extension() != ".json") continue;
    name.resize(name.size() - 5);
    if (normalize_hash_b64u(name) && name.size() == 43) hashes.push_back(name);
  }
  std::sort(hashes.begin(), hashes.end());
  return hashes;
}

}  // namespace clawjail::policy
