// The file workers of running jobs (sandbox::FsWorker): one per (job, workspace and spec), built
// by the first file operation of the job, reused by its next ones, dropped when idle, when the
// job is stopped or its token revoked, and at shutdown. Workers of different jobs are never
// shared. Thread-safe.
#pragma once
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "policy/cst.h"
#include "sandbox/jail.h"
#include "supervisor/common/ticker.h"
#include "supervisor/daemon/cancel.h"

namespace clawjail {

class FsWorkers {
 public:
  struct Entry;
  // A worker taken by one operation; given back (for the next one) when dropped.
  class Lease {
   public:
    Lease(FsWorkers* owner, std::shared_ptr<Entry> entry) : owner_(owner), entry_(std::move(entry)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept = default;
    ~Lease();
    sandbox::FsWorker& worker();

   private:
    FsWorkers* owner_;
    std::shared_ptr<Entry> entry_;
  };

  // Workers idle for `idle` are dropped; one serves at most `max_operations` operations.
  FsWorkers(Ledger& ledger, std::chrono::milliseconds idle = std::chrono::seconds(30), size_t max_operations = 1000);
  ~FsWorkers();
  // The job's idle worker for this spec, else a new one. Empty when the job's worker is busy
  // with another operation (the caller then runs the operation in a jail of its own).
  Result<std::optional<Lease>> take(const std::string& job, const std::optional<policy::Cst>& cst, const sandbox::JailSpec& spec);
  void drop_job(const std::string& job);  // job stop
  void clear();                           // reload, drain, shutdown: none is used again
  size_t size() const;

 private:
  void give_back(const std::shared_ptr<Entry>& entry);
  void reap();  // idle workers, and those of a stopped job or a revoked token
  Ledger& ledger_;
  std::chrono::milliseconds idle_;
  size_t max_operations_;
  mutable std::mutex m_;
  std::list<std::shared_ptr<Entry>> entries_;
  bool stopping_ = false;
  std::optional<Ticker> reaper_;  // stopped first in the destructor
};

}  // namespace clawjail
