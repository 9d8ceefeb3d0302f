// ReceiptStore: signs each receipt, appends it to its job's log (durable before record()
// returns) and queues its copy for the journal. The signing key is the one handed in at
// open(): it is read once by the caller and lives in libsodium's locked, zeroed-on-free memory.
#include <map>
#include <mutex>
#include <set>

#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "base/unique_fd.h"
#include "receipts/internal.h"

namespace clawjail::receipts {

using detail::JobLogWriter;

struct ReceiptStore::State {
  std::filesystem::path state_dir;
  UniqueFd store_lock;  // detail::lock_store
  policy::SecretKey key;
  std::string did;
  StoreOptions options;

  std::mutex mu;  // guards logs, owed, warnings, retired_syncs
  std::map<std::string, std::shared_ptr<JobLogWriter>> logs;
  // `finished` receipts that met a full disk, by job, oldest first. Their calls ran, so the record
  // is still true later: it is written before the job's next receipt or by retry_owed(). A
  // `started` receipt is never kept (its call did not run), a `blocked` one is not either (a
  // flood of refused requests on a full disk must not grow the supervisor).
  std::map<std::string, std::vector<Draft>> owed;
  std::atomic<size_t> owed_count{0};  // changed under mu; read without it so that record() skips the lock
  std::vector<std::string> warnings;
  // Jobs whose log could not be opened when the store did: the calls a dead supervisor left
  // open in them are accounted for before their job's next receipt (seal_if_needed).
  std::set<std::string> unsealed;
  std::atomic<size_t> unsealed_count{0};  // like owed_count
  std::mutex seal_mu;                     // one seal at a time; taken before mu
  std::string restarted_at;               // when the store opened, named in interrupted receipts
  int64_t retired_syncs = 0;
  std::atomic<int64_t> receipts{0};
  // Last: it is destroyed first, and sending what is still queued may warn through the above.
  detail::Journal journal;

  State(std::filesystem::path dir, policy::SecretKey k, StoreOptions o)
      : state_dir(std::move(dir)), key(std::move(k)), did(key.did()), options(std::move(o)),
        journal(options.journal, [this](const std::string& text) { warn(text); }) {}

  void warn(const std::string& text);
  void close_idle_logs();
  Result<std::shared_ptr<JobLogWriter>> log_of(const std::string& job);
  void retire_if_broken(const std::string& job, const std::shared_ptr<JobLogWriter>& log);
  Result<Written> write(const Draft& draft);
  Status pay_owed(const std::string& job);
  Error owe(const Draft& draft, Error why);
  Result<Written> record_now(const Draft& draft);
  Status seal(const std::string& job);
  void seal_at_start(const std::string& job);
  Status seal_if_needed(const std::string& job);
};

Result<Written> ReceiptStore::State::write(const Draft& draft) {
  auto log = log_of(draft.job_id);
  if (!log.ok()) return log.error();
  Written w;
  auto line = (*log)->append([&](const detail::ChainLink& link) {
    w.receipt_id = detail::new_receipt_id();
    w.seq = link.seq;
    const std::string timestamp = detail::rfc3339_ms(std::chrono::system_clock::now());
    w.payload = detail::receipt_payload(draft, link, w.receipt_id, timestamp);
    w.envelope = dsse_sign(key, kReceiptPayloadType, w.payload);
    const Json brief = {{"receipt_id", w.receipt_id},
                        {"phase", name_of(draft.phase)},
                        {"timestamp", timestamp},
                        {"result", draft.result.value_or(Json())}};
    w.claw_event_hash_b64u = detail::claw_event_hash_at(brief, w.payload, draft.job_id, link);
    return detail::Line{w.payload, detail::compact_json(w.envelope) + "\n", w.claw_event_hash_b64u};
  });
  if (!line.ok()) {
    retire_if_broken(draft.job_id, *log);
    return line.error();
  }
  ++receipts;
  journal.send(draft, w);
  return w;
}

// Oldest first; what cannot be written yet goes back in front of anything owed meanwhile.
Status ReceiptStore::State::pay_owed(const std::string& job) {
  if (owed_count.load() == 0) return ok_status();
  std::vector<Draft> due;
  {
    std::lock_guard lock(mu);
    auto it = owed.find(job);
    if (it == owed.end()) return ok_status();
    due = std::move(it->second);
    owed.erase(it);
    owed_count -= due.size();
  }
  for (size_t i = 0; i < due.size(); ++i) {
    auto w = write(due[i]);
    if (w.ok()) continue;
    std::lock_guard lock(mu);
    auto& back = owed[job];
    back.insert(back.begin(), std::make_move_iterator(due.begin() + static_cast<std::ptrdiff_t>(i)),
                std::make_move_iterator(due.end()));
    owed_count += due.size() - i;
    return w.error();
  }
  return ok_status();
}

Error ReceiptStore::State::owe(const Draft& draft, Error why) {
  constexpr size_t kMaxOwed = 4096;
  if (draft.phase != ReceiptPhase::finished) return why;
  {
    std::lock_guard lock(mu);
    if (owed_count < kMaxOwed) {
      owed[draft.job_id].push_back(draft);
      ++owed_count;
      why.detail += "; the receipt is kept and written once the state directory has room again";
      return why;
    }
  }
  warn("receipts: " + std::to_string(kMaxOwed) + " finished receipts already wait for room; the one of call " +
       draft.call_id + " of job " + draft.job_id + " is lost");
  return why;
}

// A checked draft, after whatever its job still owes; kept in memory if the disk refuses it.
Result<Written> ReceiptStore::State::record_now(const Draft& draft) {
  if (auto paid = pay_owed(draft.job_id); !paid.ok()) return owe(draft, paid.error());
  auto w = write(draft);
  if (!w.ok()) return owe(draft, w.error());
  return w;
}

// The calls a dead supervisor left open in the job's log get their interrupted `finished`
// receipt (receipts/README.md). Only this process's first look at the log may do this: it holds
// the log's flock, so no other process is running calls of the job, and it has run none yet.
Status ReceiptStore::State::seal(const std::string& job) {
  auto log = log_of(job);
  if (!log.ok()) return log.error();
  auto open = (*log)->take_open_at_start();
  for (const auto& started : open) {
    Draft d = detail::interrupted_draft(started, restarted_at);
    if (auto s = detail::check_draft(d); !s.ok()) {
      warn("receipts: job " + job + ": call " + d.call_id + " was left open but cannot be recorded as interrupted: " +
           s.error().detail);
      continue;
    }
    (void)record_now(d);  // a full disk keeps it owed: written before the job's next receipt
  }
  if (!open.empty())
    warn("receipts: job " + job + ": " + std::to_string(open.size()) + " call(s) left running by a supervisor "
         "that died are recorded as interrupted (SUPERVISOR_RESTARTED)");
  return ok_status();
}

void ReceiptStore::State::seal_at_start(const std::string& job) {
  auto sealed = seal(job);
  if (sealed.ok()) return;
  warn("receipts: " + sealed.error().detail + "; calls it left open are recorded before the job's next receipt");
  std::lock_guard lock(mu);
  if (unsealed.insert(job).second) ++unsealed_count;
}

Status ReceiptStore::State::seal_if_needed(const std::string& job) {
  if (unsealed_count.load() == 0) return ok_status();
  std::lock_guard sealing(seal_mu);
  {
    std::lock_guard lock(mu);
    if (!unsealed.count(job)) return ok_status();
  }
  if (auto s = seal(job); !s.ok()) return s;
  std::lock_guard lock(mu);
  unsealed.erase(job);
  --unsealed_count;
  return ok_status();
}

void ReceiptStore::State::warn(const std::string& text) {
  {
    std::lock_guard lock(mu);
    warnings.push_back(text);
  }
  if (options.on_warning) options.on_warning(text);
}

// A long-running supervisor sees many jobs; logs nobody is appending to are closed (and
// recovered again from disk if their job comes back) so descriptors stay bounded.
void ReceiptStore::State::close_idle_logs() {
  constexpr size_t kMaxOpenLogs = 256;
  if (logs.size() < kMaxOpenLogs) return;
  for (auto it = logs.begin(); it != logs.end();) {
    if (it->second.use_count() == 1) {
      retired_syncs += it->second->syncs();
      it = logs.erase(it);
    } else {
      ++it;
    }
  }
}

Result<std::shared_ptr<JobLogWriter>> ReceiptStore::State::log_of(const std::string& job) {
  std::vector<std::string> found;
  std::shared_ptr<JobLogWriter> log;
  {
    std::lock_guard lock(mu);
    if (auto it = logs.find(job); it != logs.end()) return it->second;
    auto opened = JobLogWriter::open(state_dir, job, found);
    if (!opened.ok()) return opened.error();
    log = std::shared_ptr<JobLogWriter>(std::move(*opened));
    close_idle_logs();
    logs.emplace(job, log);
  }
  for (const auto& w : found) warn(w);
  return log;
}

// A writer that could not undo a failed write is dropped; the next record() reopens the log,
// which recovers the chain from what is really on disk.
void ReceiptStore::State::retire_if_broken(const std::string& job,
                                           const std::shared_ptr<JobLogWriter>& log) {
  if (!log->broken()) return;
  std::lock_guard lock(mu);
  if (auto it = logs.find(job); it != logs.end() && it->second == log) {
    retired_syncs += log->syncs();
    logs.erase(it);
  }
}

ReceiptStore::ReceiptStore(Key) {}
ReceiptStore::~ReceiptStore() = default;

Result<std::unique_ptr<ReceiptStore>> ReceiptStore::open(const std::filesystem::path& state_dir,
                                                         policy::SecretKey signing_key) {
  return open(state_dir, std::move(signing_key), StoreOptions{});
}

Result<std::unique_ptr<ReceiptStore>> ReceiptStore::open(const std::filesystem::path& state_dir,
                                                         policy::SecretKey signing_key,
                                                         StoreOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(detail::receipts_dir(state_dir), ec);
  if (ec)
    return fail(Reason::RECEIPT_STORE_FAILED,
                "create " + detail::receipts_dir(state_dir).string() + ": " + ec.message());
  auto lock = detail::lock_store(state_dir);
  if (!lock.ok()) return lock.error();
  auto store = std::make_unique<ReceiptStore>(Key{});
  store->s_ = std::make_unique<State>(state_dir, std::move(signing_key), std::move(options));
  store->s_->store_lock = std::move(*lock);
  // Every log is opened now, not at its job's next call: opening recovers (a torn line is set
  // aside, and the operator hears of it at start-up), and the calls a dead supervisor left open
  // are accounted for before anything else is served.
  store->s_->restarted_at = detail::rfc3339_ms(std::chrono::system_clock::now());
  auto jobs = list_jobs(state_dir);
  for (size_t i = 0; i < jobs.size(); ++i) {
    store->s_->seal_at_start(jobs[i]);
    if (store->s_->options.on_open_progress) store->s_->options.on_open_progress(i + 1, jobs.size());
  }
  return store;
}

Result<Written> ReceiptStore::record(const Draft& draft) {
  if (auto s = detail::check_draft(draft); !s.ok()) return s.error();
  if (auto s = s_->seal_if_needed(draft.job_id); !s.ok()) return s.error();
  return s_->record_now(draft);
}

size_t ReceiptStore::retry_owed() {
  if (s_->owed_count.load() == 0) return 0;
  std::vector<std::string> jobs;
  {
    std::lock_guard lock(s_->mu);
    for (const auto& [job, _] : s_->owed) jobs.push_back(job);
  }
  for (const auto& job : jobs) (void)s_->pay_owed(job);
  return s_->owed_count.load();
}

std::string ReceiptStore::signer_did() const { return s_->did; }

bool ReceiptStore::journal_available() const { return s_->journal.available(); }

std::vector<std::string> ReceiptStore::take_warnings() {
  std::lock_guard lock(s_->mu);
  return std::exchange(s_->warnings, {});
}

StoreStats ReceiptStore::stats() const {
  StoreStats st;
  st.receipts = s_->receipts;
  std::lock_guard lock(s_->mu);
  st.owed = static_cast<int64_t>(s_->owed_count.load());
  st.fdatasyncs = s_->retired_syncs;
  for (const auto& [_, log] : s_->logs) st.fdatasyncs += log->syncs();
  return st;
}

}  // namespace clawjail::receipts
