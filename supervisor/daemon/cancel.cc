#include "supervisor/daemon/cancel.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace clawjail {

Status Ledger::bind_jti(std::string_view jti, std::string_view job, int64_t expires_at) {
  std::lock_guard lock(m_);
  return ledger_.bind_jti(jti, job, expires_at);
}

Status Ledger::check_not_revoked(const policy::Cst& cst) {
  std::lock_guard lock(m_);
  return ledger_.check_not_revoked(cst);
}

bool Ledger::job_stopped(std::string_view job) {
  std::lock_guard lock(m_);
  return ledger_.job_stopped(job);
}

std::vector<std::string> Ledger::jtis_of_job(std::string_view job) {
  std::lock_guard lock(m_);
  return ledger_.jtis_of_job(job);
}

Status Ledger::revoke_job(std::string_view job) {
  std::lock_guard lock(m_);
  return ledger_.revoke_job(job);
}

void Ledger::reload() {
  std::lock_guard lock(m_);
  ledger_.reload();
}

RunningCalls::Registration RunningCalls::add(const std::string& call_id, Entry entry) {
  std::lock_guard lock(m_);
  if (closed_ && !entry.killed) {
    entry.killed = closed_;
    if (entry.jail) entry.jail->kill();
    if (entry.fs_worker) entry.fs_worker->kill();
  }
  calls_[call_id] = std::move(entry);
  return Registration(this, call_id);
}

void RunningCalls::remove(const std::string& call_id) {
  std::lock_guard lock(m_);
  calls_.erase(call_id);
  changed_.notify_all();
}

void RunningCalls::kill(const std::string& call_id, KillReason why) {
  std::lock_guard lock(m_);
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  if (!it->second.killed) it->second.killed = std::move(why);
  if (it->second.jail) it->second.jail->kill();
  if (it->second.fs_worker) it->second.fs_worker->kill();
}

std::optional<KillReason> RunningCalls::killed(const std::string& call_id) const {
  std::lock_guard lock(m_);
  auto it = calls_.find(call_id);
  return it == calls_.end() ? std::nullopt : it->second.killed;
}

int RunningCalls::kill_if(const std::function<std::optional<KillReason>(const Entry&)>& why) {
  std::lock_guard lock(m_);
  int n = 0;
  for (auto& [id, entry] : calls_) {
    if (entry.killed) continue;
    auto reason = why(entry);
    if (!reason) continue;
    spdlog::warn("killing call {} of job {}: {}: {}", id, entry.job_id, reason_name(reason->reason), reason->detail);
    entry.killed = std::move(reason);
    if (entry.jail) entry.jail->kill();
    if (entry.fs_worker) entry.fs_worker->kill();
    ++n;
  }
  return n;
}

int RunningCalls::kill_job(std::string_view job_id, KillReason why) {
  return kill_if([&](const Entry& e) { return e.job_id == job_id ? std::optional(why) : std::nullopt; });
}

int RunningCalls::kill_all(KillReason why) {
  return kill_if([&](const Entry&) { return std::optional(why); });
}

int RunningCalls::close(KillReason why) {
  {
    std::lock_guard lock(m_);
    closed_ = why;
  }
  return kill_all(std::move(why));
}

size_t RunningCalls::size() const {
  std::lock_guard lock(m_);
  return calls_.size();
}

bool RunningCalls::wait_empty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(m_);
  return changed_.wait_until(lock, deadline, [&] { return calls_.empty(); });
}

bool RunningCalls::wait_job_ended(std::string_view job_id, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(m_);
  return changed_.wait_until(lock, deadline, [&] {
    return std::none_of(calls_.begin(), calls_.end(), [&](const auto& c) { return c.second.job_id == job_id; });
  });
}

std::optional<KillReason> ledger_refusal(Ledger& ledger, const std::string& job, const std::optional<policy::Cst>& cst) {
  if (ledger.job_stopped(job)) return KillReason{Reason::JOB_STOPPED, "job " + job + " was stopped"};
  if (cst)
    if (auto s = ledger.check_not_revoked(*cst); !s) return KillReason{s.reason(), s.error().detail};
  return std::nullopt;
}

void LedgerWatcher::check_now() {
  if (calls_.size() == 0) return;
  ledger_.reload();
  calls_.kill_if([&](const RunningCalls::Entry& e) { return ledger_refusal(ledger_, e.job_id, e.cst); });
}

}  // namespace clawjail
