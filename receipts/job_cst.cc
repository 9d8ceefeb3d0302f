// The CST seen for each job, kept for its proof bundle: <state_dir>/jobs/<job>.cst.json.
// The file holds the raw token (a bearer credential) and is therefore 0600 in a root-only
// directory; bundles carry only its claims and hash unless export asks for --include-token.
#include <sys/stat.h>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/file_io.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "receipts/internal.h"

namespace clawjail::receipts {
namespace {

std::filesystem::path cst_path(const std::filesystem::path& state_dir, std::string_view job_id) {
  return state_dir / "jobs" / (std::string(job_id) + ".cst.json");
}

Error corrupt(const std::filesystem::path& path, std::string_view why) {
  return fail(Reason::BAD_FIELD, path.string() + ": " + std::string(why));
}

}  // namespace

Status record_job_cst(const std::filesystem::path& state_dir, std::string_view job_id,
                      const policy::Cst& cst) {
  if (auto s = check_job_id(job_id); !s.ok()) return s;
  auto path = cst_path(state_dir, job_id);
  std::string token_hash = cst.token_sha256_b64u();
  if (auto existing = read_job_cst(state_dir, job_id); existing.ok() && existing->has_value() &&
                                                       (*existing)->token_sha256_b64u == token_hash)
    return ok_status();
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  ::chmod(path.parent_path().c_str(), 0700);
  Json record = {{"claims", cst.claims},
                 {"token_sha256_b64u", token_hash},
                 {"issuer_kid", cst.kid},
                 {"token", cst.token}};
  return policy::write_file_atomic(path, detail::compact_json(record) + "\n", 0600, Reason::RECEIPT_STORE_FAILED);
}

Result<std::optional<JobCst>> read_job_cst(const std::filesystem::path& state_dir,
                                           std::string_view job_id) {
  if (auto s = check_job_id(job_id); !s.ok()) return s.error();
  auto path = cst_path(state_dir, job_id);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<JobCst>();
  auto bytes = policy::read_file_limited(path, 1 << 20);
  if (!bytes.ok()) return bytes.error();
  auto j = policy::parse_strict_json(*bytes);
  if (!j.ok()) return corrupt(path, j.error().detail);
  try {
    JobCst c;
    c.claims = j->at("claims");
    c.token_sha256_b64u = j->at("token_sha256_b64u").get<std::string>();
    c.issuer_kid = j->at("issuer_kid").get<std::string>();
    c.token = j->at("token").get<std::string>();
    if (!c.claims.is_object()) return corrupt(path, "claims is not an object");
    if (policy::sha256_b64u(c.token) != c.token_sha256_b64u)
      return corrupt(path, "token does not match its hash");
    return std::optional<JobCst>(std::move(c));
  } catch (const Json::exception&) {
    return corrupt(path, "not a job CST record");
  }
}

}  // namespace clawjail::receipts
