// The token ledger: which job each jti belongs to, and what was revoked. Durable.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"

namespace clawjail::policy {

template <class T>
class FileCache;  // policy/file_cache.h

// Durable state under <state_dir>: jti -> first job, and revoked jtis / token hashes.
// Safe against concurrent writers (flock + atomic rename) and survives restarts.
class TokenLedger {
 public:
  explicit TokenLedger(std::filesystem::path state_dir);
  // Check 9 (second half): records the first job of a jti; refuses it under another job.
  // `expires_at` (the token's exp, seconds) lets the ledger forget the binding a day after the
  // token died, so the ledger does not grow for ever; 0 keeps it for good.
  Status bind_jti(std::string_view jti, std::string_view job_id, int64_t expires_at = 0);
  // Check 5.
  Status check_not_revoked(const Cst& cst) const;
  Status revoke_jti(std::string_view jti, std::string_view why);
  Status revoke_token_hash(std::string_view sha256_b64u, std::string_view why);
  Status revoke_job(std::string_view job_id);  // every jti bound to the job, and the job itself
  bool job_stopped(std::string_view job_id) const;
  std::vector<std::string> jtis_of_job(std::string_view job_id) const;
  // Read-only form of check 9's second half: CST_JTI_REPLAYED if the jti is bound to another job,
  // JOB_STOPPED if the job was stopped; records nothing.
  Status check_jti(std::string_view jti, std::string_view job_id) const;
  void reload();
  // The durable file (<state_dir>/tokens/ledger.json): watch it to learn of revocations.
  std::filesystem::path file() const;
 private:
  Result<std::shared_ptr<const Json>> read() const;
  Status update(const std::function<Result<bool>(Json&)>& change);
  std::filesystem::path dir_;
  std::shared_ptr<FileCache<Json>> parsed_;  // the file as last parsed, by file version
};

}  // namespace clawjail::policy
