// The token ledger: <state_dir>/tokens/ledger.json holds which job each jti was first used under,
// the revoked jtis and token hashes, and the stopped jobs. Writers serialise on an flock of a
// separate lock file and replace the ledger by atomic rename, so readers never see a torn file and
// a crash loses nothing that was acknowledged. A ledger that cannot be read refuses (fail closed).
#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/file_cache.h"
#include "policy/file_io.h"
#include "policy/json.h"
#include "policy/ledger.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "base/unique_fd.h"

namespace clawjail::policy {
namespace {

constexpr size_t kMaxLedgerBytes = 256 << 20;

Json empty_ledger() {
  return {{"ledger_version", "1"},
          {"jtis", Json::object()},
          {"revoked_jtis", Json::object()},
          {"revoked_tokens", Json::object()},
          {"stopped_jobs", Json::object()}};
}

Result<Json> parse_ledger(const std::filesystem::path& file, const std::string& bytes) {
  auto json = parse_strict_json(bytes, JsonLimits{.max_bytes = kMaxLedgerBytes, .max_depth = 8});
  if (!json) return fail(Reason::CST_LEDGER_FAILED, file.string() + ": " + json.error().detail);
  for (const char* key : {"jtis", "revoked_jtis", "revoked_tokens", "stopped_jobs"})
    if (!json->contains(key) || !(*json)[key].is_object())
      return fail(Reason::CST_LEDGER_FAILED, file.string() + ": " + key + " is missing");
  return json;
}

// Holds an exclusive flock on <dir>/ledger.lock for its lifetime.
class LedgerLock {
 public:
  static Result<LedgerLock> acquire(const std::filesystem::path& dir) {
    if (auto s = ensure_private_dir(dir, Reason::CST_LEDGER_FAILED); !s) return s.error();
    UniqueFd fd(::open((dir / "ledger.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return fail(Reason::CST_LEDGER_FAILED, (dir / "ledger.lock").string() + ": " + std::strerror(errno));
    while (::flock(fd.get(), LOCK_EX) != 0)
      if (errno != EINTR) return fail(Reason::CST_LEDGER_FAILED, std::string("flock: ") + std::strerror(errno));
    return LedgerLock(std::move(fd));
  }

 private:
  explicit LedgerLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing the fd releases the lock
};

}  // namespace

TokenLedger::TokenLedger(std::filesystem::path state_dir)
    : dir_(std::move(state_dir) / "tokens"), parsed_(std::make_shared<FileCache<Json>>()) {}

// Every query reads the durable file, so a revocation is seen by the next one; it is parsed
// again only when its bytes changed (a call asks about three times).
Result<std::shared_ptr<const Json>> TokenLedger::read() const {
  const auto path = file();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::make_shared<const Json>(empty_ledger());
  return parsed_->get(path, kMaxLedgerBytes, Reason::CST_LEDGER_FAILED,
                      [&](const std::string& bytes) { return parse_ledger(path, bytes); });
}

// Read, change, write back, all under the lock. `change` returns false when nothing changed.
Status TokenLedger::update(const std::function<Result<bool>(Json&)>& change) {
  auto lock = LedgerLock::acquire(dir_);
  if (!lock) return lock.error();
  auto ledger = read();
  if (!ledger) return ledger.error();
  Json copy = **ledger;
  auto changed = change(copy);
  if (!changed) return changed.error();
  if (!*changed) return ok_status();
  return write_file_atomic(file(), copy.dump(1) + "\n", 0600, Reason::CST_LEDGER_FAILED);
}

std::filesystem::path TokenLedger::file() const { return dir_ / "ledger.json"; }

// Every query reads the durable file (changed bytes are parsed again), so there is nothing to
// refresh; kept for callers that want to say when they expect outside changes.
void TokenLedger::reload() {}

namespace {
// Whether jti may be used under job_id: false if it is new, true if already bound to it.
Result<bool> jti_bound_to(const Json& ledger, std::string_view jti, std::string_view job_id) {
  if (ledger["stopped_jobs"].contains(job_id))
    return fail(Reason::JOB_STOPPED, "job " + std::string(job_id) + " was stopped");
  auto it = ledger["jtis"].find(jti);
  if (it == ledger["jtis"].end()) return false;
  if (*it != job_id)
    return fail(Reason::CST_JTI_REPLAYED, "jti " + std::string(jti) + " was first used under job " +
                                              it->dump() + ", not " + std::string(job_id));
  return true;
}
}  // namespace

namespace {
// An expired token fails check 4 before the ledger is asked, so its binding protects nothing once
// it is dead. The day of margin keeps a clock stepped back from reviving a token whose binding
// is already gone.
constexpr int64_t kForgetAfterExpiry = 24 * 3600;

void forget_expired_jtis(Json& ledger) {
  if (!ledger.contains("jti_expires") || !ledger["jti_expires"].is_object()) return;
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  auto& expires = ledger["jti_expires"];
  for (auto it = expires.begin(); it != expires.end();) {
    if (it->is_number_integer() && it->get<int64_t>() + kForgetAfterExpiry < now) {
      ledger["jtis"].erase(it.key());
      it = expires.erase(it);
    } else {
      ++it;
    }
  }
}
}  // namespace

Status TokenLedger::bind_jti(std::string_view jti, std::string_view job_id, int64_t expires_at) {
  // Every call of a job carries the token its first call bound: that is answered from the file
  // as read, without the lock and the copy of the whole ledger a change needs.
  auto current = read();
  if (!current) return current.error();
  auto already = jti_bound_to(**current, jti, job_id);
  if (!already) return already.error();
  if (*already) return ok_status();
  return update([&](Json& l) -> Result<bool> {
    auto bound = jti_bound_to(l, jti, job_id);
    if (!bound) return bound.error();
    if (*bound) return false;
    forget_expired_jtis(l);
    l["jtis"][std::string(jti)] = job_id;
    if (expires_at > 0) l["jti_expires"][std::string(jti)] = expires_at;
    return true;
  });
}

Status TokenLedger::check_jti(std::string_view jti, std::string_view job_id) const {
  auto ledger = read();
  if (!ledger) return ledger.error();
  auto bound = jti_bound_to(**ledger, jti, job_id);
  if (!bound) return bound.error();
  return ok_status();
}

Status TokenLedger::check_not_revoked(const Cst& cst) const {
  auto ledger = read();
  if (!ledger) return ledger.error();
  if ((**ledger)["revoked_jtis"].contains(cst.jti)) return fail(Reason::CST_REVOKED, "jti " + cst.jti + " is revoked");
  auto hash = cst.token_sha256_b64u();
  if ((**ledger)["revoked_tokens"].contains(hash)) return fail(Reason::CST_REVOKED, "token " + hash + " is revoked");
  return ok_status();
}

Status TokenLedger::revoke_jti(std::string_view jti, std::string_view why) {
  return update([&](Json& l) -> Result<bool> {
    l["revoked_jtis"][std::string(jti)] = why;
    return true;
  });
}

Status TokenLedger::revoke_token_hash(std::string_view sha256_b64u, std::string_view why) {
  auto hash = normalize_hash_b64u(sha256_b64u);
  if (!hash) return hash.error();
  return update([&](Json& l) -> Result<bool> {
    l["revoked_tokens"][*hash] = why;
    return true;
  });
}

Status TokenLedger::revoke_job(std::string_view job_id) {
  return update([&](Json& l) -> Result<bool> {
    for (auto& [jti, job] : l["jtis"].items())
      if (job == job_id) l["revoked_jtis"][jti] = "job " + std::string(job_id) + " stopped";
    l["stopped_jobs"][std::string(job_id)] = true;
    return true;
  });
}

bool TokenLedger::job_stopped(std::string_view job_id) const {
  auto ledger = read();
  return !ledger || (**ledger)["stopped_jobs"].contains(job_id);  // unreadable: treat as stopped
}

std::vector<std::string> TokenLedger::jtis_of_job(std::string_view job_id) const {
  std::vector<std::string> out;
  auto ledger = read();
  if (!ledger) return out;
  for (auto& [jti, job] : (**ledger)["jtis"].items())
    if (job == job_id) out.push_back(jti);
  return out;
}

}  // namespace clawjail::policy
