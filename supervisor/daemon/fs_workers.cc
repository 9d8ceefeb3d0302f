#include "supervisor/daemon/fs_workers.h"

#include <spdlog/spdlog.h>

namespace clawjail {

struct FsWorkers::Entry {
  std::string job;
  std::optional<policy::Cst> cst;  // of the operation that last used it: revoked, the worker goes
  std::unique_ptr<sandbox::FsWorker> worker;
  bool busy = false;
  bool dropped = false;  // the job was stopped while an operation ran: not given back
  std::chrono::steady_clock::time_point last_used;
};

FsWorkers::Lease::~Lease() {
  if (owner_ && entry_) owner_->give_back(entry_);
}

sandbox::FsWorker& FsWorkers::Lease::worker() { return *entry_->worker; }

FsWorkers::FsWorkers(Ledger& ledger, std::chrono::milliseconds idle, size_t max_operations)
    : ledger_(ledger), idle_(idle), max_operations_(max_operations) {
  // Idle workers, and those of a stopped job or a revoked token, are dropped within a second.
  reaper_.emplace(std::min<std::chrono::milliseconds>(idle_, std::chrono::seconds(1)), [this] { reap(); });
}

FsWorkers::~FsWorkers() {
  reaper_.reset();
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  clear();
}

Result<std::optional<FsWorkers::Lease>> FsWorkers::take(const std::string& job, const std::optional<policy::Cst>& cst,
                                                         const sandbox::JailSpec& spec) {
  std::vector<std::shared_ptr<Entry>> stale;  // dropped outside the lock: dropping waits for the jail
  {
    std::lock_guard lock(m_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      auto& e = *it;
      if (e->job != job || e->busy) {
        ++it;
        continue;
      }
      if (!e->worker->serves(spec)) {  // dead, or built for another spec or workspace
        stale.push_back(e);
        it = entries_.erase(it);
        continue;
      }
      e->busy = true;
      e->cst = cst;
      return std::optional<Lease>(Lease(this, e));
    }
    for (const auto& e : entries_)
      if (e->job == job && e->busy) return std::optional<Lease>();
  }
  stale.clear();
  auto worker = sandbox::FsWorker::start(spec);
  if (!worker) return worker.error();
  auto e = std::make_shared<Entry>();
  e->job = job;
  e->cst = cst;
  e->worker = std::move(worker.value());
  e->busy = true;
  std::lock_guard lock(m_);
  entries_.push_back(e);
  return std::optional<Lease>(Lease(this, e));
}

void FsWorkers::give_back(const std::shared_ptr<Entry>& entry) {
  std::shared_ptr<Entry> gone;
  {
    std::lock_guard lock(m_);
    entry->busy = false;
    entry->last_used = std::chrono::steady_clock::now();
    if (!entry->dropped && !stopping_ && entry->worker->alive() && entry->worker->operations() < max_operations_) return;
    entries_.remove(entry);
    gone = entry;
  }
}

void FsWorkers::drop_job(const std::string& job) {
  std::vector<std::shared_ptr<Entry>> gone;
  {
    std::lock_guard lock(m_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if ((*it)->job != job) {
        ++it;
        continue;
      }
      (*it)->dropped = true;
      (*it)->worker->kill();
      gone.push_back(*it);
      it = entries_.erase(it);
    }
  }
}

// A worker in use finishes its operation (a reload or a drain does not cancel calls) and is
// dropped when given back; the idle ones go now.
void FsWorkers::clear() {
  std::list<std::shared_ptr<Entry>> gone;
  std::lock_guard lock(m_);
  for (auto& e : entries_) e->dropped = true;
  gone.swap(entries_);
}

size_t FsWorkers::size() const {
  std::lock_guard lock(m_);
  return entries_.size();
}

void FsWorkers::reap() {
  std::vector<std::shared_ptr<Entry>> idle;
  {
    std::lock_guard lock(m_);
    for (const auto& e : entries_)
      if (!e->busy) idle.push_back(e);
  }
  std::vector<std::shared_ptr<Entry>> gone;  // dropped outside the lock: dropping waits for the jail
  const auto oldest = std::chrono::steady_clock::now() - idle_;
  for (const auto& e : idle) {
    bool revoked = ledger_.job_stopped(e->job) || (e->cst && !ledger_.check_not_revoked(*e->cst));
    if (revoked || e->last_used < oldest || !e->worker->alive()) gone.push_back(e);
  }
  std::lock_guard lock(m_);
  for (const auto& e : gone)
    if (!e->busy) entries_.remove(e);  // taken meanwhile: the next round looks again
}

}  // namespace clawjail
