// Stopping running calls: the registry of running jails, the thread-safe token ledger, and the
// watcher that kills a call within a second of `job stop` or `cst revoke` (from any process).
#pragma once
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "policy/cst.h"
#include "policy/ledger.h"
#include "sandbox/jail.h"
#include "supervisor/common/ticker.h"

namespace clawjail {

// policy::TokenLedger behind one mutex: calls of all connections share it.
class Ledger {
 public:
  explicit Ledger(std::filesystem::path state_dir) : ledger_(std::move(state_dir)) {}
  Status bind_jti(std::string_view jti, std::string_view job, int64_t expires_at);
  Status check_not_revoked(const policy::Cst& cst);
  bool job_stopped(std::string_view job);
  std::vector<std::string> jtis_of_job(std::string_view job);
  Status revoke_job(std::string_view job);
  void reload();

 private:
  std::mutex m_;
  policy::TokenLedger ledger_;
};

// Why a running call was killed; recorded in its `finished` receipt.
struct KillReason {
  Reason reason;
  std::string detail;
};

class RunningCalls {
 public:
  struct Entry {
    std::string job_id;
    std::optional<policy::Cst> cst;
    sandbox::Jail* jail = nullptr;
    std::optional<KillReason> killed;
    sandbox::FsWorker* fs_worker = nullptr;  // a file operation runs in the job's file worker
  };
  // Registered for the lifetime of the returned handle; the jail must outlive it.
  class Registration {
   public:
    Registration(RunningCalls* calls, std::string call_id) : calls_(calls), id_(std::move(call_id)) {}
    Registration(Registration&& o) noexcept : calls_(std::exchange(o.calls_, nullptr)), id_(std::move(o.id_)) {}
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() {
      if (calls_) calls_->remove(id_);
    }
    // The first kill reason wins; later ones (the disconnect a kill causes) do not overwrite it.
    void kill(KillReason why) { calls_->kill(id_, std::move(why)); }
    std::optional<KillReason> killed() const { return calls_->killed(id_); }

   private:
    RunningCalls* calls_;
    std::string id_;
  };

  Registration add(const std::string& call_id, Entry entry);
  // Kills every call for which `why` returns a reason. Returns how many were killed.
  int kill_if(const std::function<std::optional<KillReason>(const Entry&)>& why);
  int kill_job(std::string_view job_id, KillReason why);
  int kill_all(KillReason why);
  // kill_all, and every call registered afterwards is killed on arrival (shutdown).
  int close(KillReason why);
  size_t size() const;
  // Blocks until no call runs or the deadline passes; true when none runs.
  bool wait_empty(std::chrono::steady_clock::time_point deadline);
  // The same for the calls of one job: a killed call is gone once its jail or operation ended.
  bool wait_job_ended(std::string_view job_id, std::chrono::steady_clock::time_point deadline);

 private:
  void remove(const std::string& call_id);
  void kill(const std::string& call_id, KillReason why);
  std::optional<KillReason> killed(const std::string& call_id) const;
  mutable std::mutex m_;
  std::condition_variable changed_;
  std::map<std::string, Entry> calls_;
  std::optional<KillReason> closed_;
};

// Why the ledger now refuses a call of `job` with `cst`: its job stopped, its token revoked.
std::optional<KillReason> ledger_refusal(Ledger& ledger, const std::string& job, const std::optional<policy::Cst>& cst);

// Polls the ledger (which `job stop` and `cst revoke` write from other processes) every
// `period` and kills the calls it now refuses.
class LedgerWatcher {
 public:
  LedgerWatcher(Ledger& ledger, RunningCalls& calls, std::chrono::milliseconds period)
      : ledger_(ledger), calls_(calls), ticker_(period, [this] { check_now(); }) {}
  void check_now();

 private:
  Ledger& ledger_;
  RunningCalls& calls_;
  Ticker ticker_;  // last: stopped before the references it uses
};

}  // namespace clawjail
