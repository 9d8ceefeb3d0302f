// Private to receipts/: the pieces the store, the bundle and the verifier share.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "policy/json.h"
#include "base/reason.h"
#include "base/unique_fd.h"
#include "receipts/receipts.h"

namespace clawjail::receipts::detail {

// ---- receipt payloads (receipt_payload.cc) ----
std::string new_receipt_id();  // rcpt_<uuid v4 from libsodium's randombytes>
std::string rfc3339_ms(std::chrono::system_clock::time_point t);
// Refuses a draft the spec cannot express (RECEIPT_PAYLOAD_INVALID), before anything is written.
Status check_draft(const Draft& draft);
struct ChainLink {
  int64_t seq = 0;
  std::optional<std::string> prev_hash_b64u;  // nullopt at seq 0
  // The Claw event hash of receipt seq-1 in the job's Claw form (docs/claw-bundles.md): known when
  // a receipt is written, so that a model call can hand clawproxy the event its receipt binds to.
  std::optional<std::string> claw_event_hash_b64u;
};
// The Claw event hash of the receipt written at `link` (claw_bundle.cc). `brief` holds its
// receipt_id, phase, timestamp and result (for the event type).
std::string claw_event_hash_at(const Json& brief, std::string_view payload_bytes, const std::string& job_id,
                               const ChainLink& link);
// The payload bytes: compact JSON with sorted keys (JCS for this integers-only document).
std::string receipt_payload(const Draft& draft, const ChainLink& link, const std::string& receipt_id,
                            const std::string& timestamp);
// A blocked receipt whose WPC was never resolved (no hash, or a WPC_* refusal such as
// WPC_NOT_FOUND for a hash the client named) is not bound to the job's WPC; every other receipt is.
bool bound_to_job_wpc(const Json& payload);
// What a call that ran reports of its ending; an interrupted call reports each as null.
inline constexpr std::array<const char*, 8> kEndingFields = {"exit_code",        "signal",       "duration_ms",
                                                             "stdout_hash_b64u", "stdout_bytes", "stderr_hash_b64u",
                                                             "stderr_bytes",     "violations"};
// The rule on a receipt's `result` (null for phases other than finished), for the writer and the
// verifier alike: a call that ran reports how it ended, every field known; a call interrupted by
// the supervisor's death (status "interrupted" with reason SUPERVISOR_RESTARTED, each only with
// the other) reports every field it cannot know as null.
Status check_result(std::string_view phase, const Json& result, Reason reason);
// Serialises anything outside bytes may have reached: invalid UTF-8 is written as \xNN
// (policy::utf8_text), never thrown and never silently replaced.
std::string compact_json(const Json& value);

// ---- calls interrupted by the supervisor's death (interrupted.cc) ----
inline constexpr const char* kInterrupted = "interrupted";
// The calls of one log that have a `started` and no `finished` yet, fed line by line in log
// order. Only open calls are kept, so a long log costs what its concurrency costs.
class OpenCalls {
 public:
  void see(const Json& payload);
  std::vector<Json> take();  // the open calls' started payloads in seq order; empties the set
 private:
  std::map<std::string, int64_t> seq_of_;  // call_id -> seq of its started
  std::map<int64_t, Json> started_;
};
// The `finished` receipt a restarted supervisor owes a call its predecessor left running.
Draft interrupted_draft(const Json& started, const std::string& restarted_at);
bool is_interrupted(const Json& payload);

// ---- DSSE internals (dsse.cc) ----
enum class DsseFailure { none, malformed, wrong_type, untrusted_key, bad_signature };
struct DsseCheck {
  DsseFailure failure = DsseFailure::none;
  std::string detail;
  std::string payload;  // exact bytes, when failure == none
  std::string keyid;    // the trusted key that verified
};
DsseCheck dsse_check(const Json& envelope, std::string_view type,
                     const std::vector<std::string>& trusted);
// Payload bytes of an envelope without checking any signature (for reading one's own log).
Result<std::string> dsse_payload(const Json& envelope);

// ---- the log files (job_log.cc, log_scan.cc) ----
std::filesystem::path receipts_dir(const std::filesystem::path& state_dir);
std::filesystem::path log_path(const std::filesystem::path& state_dir, std::string_view job_id);

// The largest log the store reads (about 1.5 million receipts).
inline constexpr uint64_t kMaxLogBytes = uint64_t{1} << 31;
// A log's bytes split into complete lines and what follows the last good one.
struct LogScan {
  std::vector<std::string> lines;   // complete lines, without '\n'
  uint64_t good_end = 0;            // offset just past the last good line
  std::optional<std::string> tail;  // a torn final line: no '\n', or a last line that is not JSON
};
LogScan scan_log(std::string_view bytes);
// Calls `line` with each complete line of fd (without its '\n'), reading a MiB at a time, and
// stops at the first error it returns; else returns the bytes after the last '\n' (empty when
// the file ends with one).
Result<std::string> for_each_line(int fd, uint64_t max_bytes, const std::function<Status(std::string_view)>& line);
// A complete-looking line that is not a JSON object was never a receipt (a crash's zeros, say).
bool parses_as_object(std::string_view line);
// The receipts already set aside from a job's log (<job>.log.torn-<n>).
std::vector<std::filesystem::path> torn_files(const std::filesystem::path& state_dir,
                                              std::string_view job_id);

// One job's append-only log, owned by one writer (flock). Appends are serialised for seq/prev
// and share fdatasync: whoever finds no sync running syncs everything written so far (leader),
// the others wait for it (followers). append() returns once its own line is durable.
struct Line {
  std::string payload;  // the signed bytes, hashed for the next link
  std::string text;     // the envelope line, ending in '\n'
  std::string claw_event_hash_b64u;  // claw_event_hash_at() of this line
};
class JobLogWriter {
  struct Key {
    explicit Key() = default;
  };

 public:
  explicit JobLogWriter(Key);  // only open() holds a Key
  using MakeLine = std::function<Line(const ChainLink& link)>;
  // Recovers seq/prev from the existing log and sets a torn final line aside, saying so in
  // `warnings`. A log whose lines before the end are not a chain is refused.
  static Result<std::unique_ptr<JobLogWriter>> open(const std::filesystem::path& state_dir,
                                                    const std::string& job_id,
                                                    std::vector<std::string>& warnings);
  ~JobLogWriter();
  Result<Line> append(const MakeLine& make);
  // The started payloads of the calls the log held open when this writer opened it, in seq
  // order; the first caller takes them. Only a restarted supervisor's first look at a log may
  // call them interrupted: a writer reopened later finds the calls its own process is running.
  std::vector<Json> take_open_at_start();
  bool broken() const;    // a failed rollback: this writer appends nothing more
  int64_t syncs() const;  // fdatasync calls made
 private:
  struct State;
  std::unique_ptr<State> s_;
};

// ---- the journal (journal.cc) ----
// The copies are sent by the journal's own thread, in record order: journald handling a copy
// (it stores and compresses the whole envelope) is not a wait for the call. The destructor
// sends what is still queued. A copy that finds journald gone is warned about once, through
// `warn`, from the thread that met it.
class Journal {
 public:
  Journal(bool enabled, std::function<void(const std::string&)> warn);
  ~Journal();
  void send(const Draft& draft, const Written& written);
  bool available() const { return available_; }
 private:
  struct Queue;
  void deliver(const std::vector<std::string>& fields);
  void unavailable(int negative_errno);
  bool enabled_;
  std::function<void(const std::string&)> warn_;
  std::atomic<bool> available_{true};
  std::atomic<bool> warned_{false};
  std::unique_ptr<Queue> queue_;
};

// ---- small file helpers (files.cc) ----
// Writes via a temporary file, fsync, rename and directory fsync.
Status fsync_dir(const std::filesystem::path& dir);
// One store per state directory, held for the store's life: a second supervisor must not take
// the calls the first is running for calls a dead one left open.
Result<UniqueFd> lock_store(const std::filesystem::path& state_dir);

}  // namespace clawjail::receipts::detail
