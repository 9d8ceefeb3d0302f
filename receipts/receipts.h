// receipts/: records and proves; never decides. DSSE-signed receipts, per-job durable logs,
// the journal, proof bundles and their offline verification (docs/formats.md §4-§5).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "policy/cst.h"
#include "policy/job_id.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "base/verdict.h"

namespace clawjail {

// A receipt's phase; its `decision` follows from it (blocked ↔ blocked, else allowed).
enum class ReceiptPhase { started, finished, blocked };
template <>
struct EnumNames<ReceiptPhase> {
  static constexpr std::array<std::string_view, 3> names{"started", "finished", "blocked"};
};
constexpr Verdict verdict_of(ReceiptPhase p) {
  return p == ReceiptPhase::blocked ? Verdict::blocked : Verdict::allowed;
}

}  // namespace clawjail

namespace clawjail::receipts {

using policy::Json;

inline constexpr const char* kReceiptPayloadType = "application/vnd.clawjail.receipt.v1+json";
inline constexpr const char* kBundlePayloadType = "application/vnd.clawjail.bundle.v1+json";

// ---- DSSE (dsse.cc) ----
std::string pae(std::string_view type, std::string_view payload);
Json dsse_sign(const policy::SecretKey& key, std::string_view type, std::string_view payload);
// Verifies one signature by a key in `trusted` (did:key list); returns the exact payload bytes
// and, when `signer` is given, sets it to the did:key whose signature verified.
Result<std::string> dsse_verify(const Json& envelope, std::string_view type,
                                const std::vector<std::string>& trusted, std::string* signer = nullptr);

// ---- one receipt's content, before seq/prev/signature are assigned ----
struct Draft {
  ReceiptPhase phase = ReceiptPhase::blocked;
  std::string job_id, call_id, tool;
  std::vector<std::string> scopes;
  Reason reason = Reason::OK;
  std::string reason_detail;
  std::string agent_did;
  std::string policy_hash_b64u;
  std::optional<std::string> token_scope_hash_b64u, cst_jti, jail_hash_b64u;
  std::string request_hash_b64u;
  std::optional<Json> result;  // finished only: sandbox::Outcome::to_json()
};
struct Written {
  std::string receipt_id;
  int64_t seq = 0;
  std::string payload;  // the exact signed bytes
  Json envelope;
  // Its event's hash in the job's Claw form (docs/claw-bundles.md): what a model call's gateway
  // receipt binds to (binding.event_hash_b64u, X-Event-Hash).
  std::string claw_event_hash_b64u;
};

// ---- the durable store (job_log.cc, journal.cc) ----
// One append-only log per job under <state_dir>/receipts/<job>.log. Concurrent record() calls of
// one job are serialised for seq/prev and share fdatasync (group commit). record() returns only
// when the line is durable; on failure nothing is claimed (RECEIPT_STORE_FAILED).
// Every receipt is also sent to the journal; without journald the store warns once and goes on.
struct StoreOptions {
  bool journal = true;  // false: the disk log only (tools that must not touch the journal)
  // Called once per event worth a warning (journald unavailable, a torn line set aside), from the
  // thread that met it. The same text is also kept for take_warnings().
  std::function<void(const std::string&)> on_warning;
  // Called by open() after each job log it looked at, with how many of how many: reading every
  // log takes time in proportion to the receipts stored (a service manager's start timeout).
  std::function<void(size_t done, size_t total)> on_open_progress;
};
struct StoreStats {
  int64_t receipts = 0;    // lines made durable
  int64_t fdatasyncs = 0;  // group commit: fewer than receipts under concurrency
  int64_t owed = 0;        // finished receipts waiting for room (see record())
};
// Opening the store opens every job log: a torn final line is set aside, and each call a dead
// supervisor left with `started` and no `finished` gets a `finished` receipt with result status
// "interrupted" (reason SUPERVISOR_RESTARTED, every result field it cannot know null). A log
// that cannot be opened then is accounted for before its job's next receipt, or that receipt
// is refused.
class ReceiptStore {
  struct Key {
    explicit Key() = default;
  };

 public:
  explicit ReceiptStore(Key);  // only open() holds a Key
  static Result<std::unique_ptr<ReceiptStore>> open(const std::filesystem::path& state_dir,
                                                    policy::SecretKey signing_key);
  static Result<std::unique_ptr<ReceiptStore>> open(const std::filesystem::path& state_dir,
                                                    policy::SecretKey signing_key,
                                                    StoreOptions options);
  ~ReceiptStore();
  // A `finished` receipt that cannot be made durable is still refused here, but kept in memory:
  // it is written before its job's next receipt, or by retry_owed(). Lost only with the process.
  Result<Written> record(const Draft& draft);
  size_t retry_owed();  // writes what it can of the kept receipts; returns how many still wait
  std::string signer_did() const;
  bool journal_available() const;            // false once a send to journald failed
  std::vector<std::string> take_warnings();  // warnings not yet taken, oldest first
  StoreStats stats() const;
 private:
  struct State;
  std::unique_ptr<State> s_;
};

struct JobLog {
  std::vector<Json> envelopes;       // in file order
  std::optional<std::string> torn;   // description of a torn last line set aside, if any
};
Result<JobLog> read_job_log(const std::filesystem::path& state_dir, std::string_view job_id);
std::vector<std::string> list_jobs(const std::filesystem::path& state_dir);
// Job ids name files; their grammar is policy's (policy.h).
using policy::check_job_id;

// The CST claims seen for a job, kept at <state_dir>/jobs/<job>.cst.json (0600: it holds the raw
// token for `bundle export --include-token`). The supervisor calls this on each admitted call;
// an unchanged token is not rewritten.
Status record_job_cst(const std::filesystem::path& state_dir, std::string_view job_id,
                      const policy::Cst& cst);
struct JobCst {
  Json claims;
  std::string token_sha256_b64u, issuer_kid, token;
};
Result<std::optional<JobCst>> read_job_cst(const std::filesystem::path& state_dir,
                                           std::string_view job_id);

// ---- bundles (bundle.cc, verify.cc) ----
struct ExportOptions {
  std::string job_id;
  bool include_token = false;
  std::optional<std::string> token;   // the raw CST when known
  std::optional<policy::Cst> cst;     // claims for the bundle's `cst`
  // Gateway receipts already checked against this job (gateway::check_receipts), each as its
  // exact JSON text: the bundle's `gateway_receipts` (docs/claw-bundles.md, "Model calls in the same proof").
  std::vector<std::string> gateway_receipts;
};
Result<Json> export_bundle(const std::filesystem::path& state_dir, const policy::SecretKey& key,
                           const ExportOptions& options);
struct Verdict {
  bool pass = false;
  Reason reason = Reason::OK;
  std::string detail;
  std::vector<std::string> unfinished_calls;
  std::vector<std::string> interrupted_calls;  // finished as "interrupted": the supervisor died
  int64_t model_calls = 0, gateway_receipts = 0;
  int64_t receipts = 0;
  // The receipt (index in the bundle) whose check failed, when the failure is one receipt's.
  std::optional<int64_t> failed_receipt;
  Json to_json() const;
  std::string line() const;  // "PASS" or "FAIL <REASON_CODE> <detail>"
};
struct VerifyOptions {
  bool strict = false;  // an interrupted call fails (RECEIPT_INTERRUPTED_CALL) instead of counting
  // The gateways (did:key) whose receipts count for model calls. A bundle's gateway receipt that
  // does not check out against them and the job fails the bundle; with models.require_gateway_receipts
  // every model call needs one (MODEL_CALL_UNRECEIPTED).
  std::vector<std::string> gateway_signers;
};
// Fail-closed; an empty trust list is TRUST_REQUIRED.
// The journal fields that repeat what a receipt says (journal.cc writes them beside the signed
// envelope, CLAWJAIL_RECEIPT): a journal field and the payload key it copies. They are not signed;
// `receipts verify` checks each against the signed payload before a query over them is trusted.
inline constexpr std::pair<const char*, const char*> kJournalReceiptFields[] = {
    {"CLAWJAIL_JOB", "job_id"},          {"CLAWJAIL_CALL", "call_id"},
    {"CLAWJAIL_TOOL", "tool"},           {"CLAWJAIL_PHASE", "phase"},
    {"CLAWJAIL_DECISION", "decision"},   {"CLAWJAIL_REASON", "reason_code"},
    {"CLAWJAIL_RECEIPT_ID", "receipt_id"}, {"CLAWJAIL_SEQ", "seq"}};
inline constexpr const char* kJournalReceiptField = "CLAWJAIL_RECEIPT";
// What the journal field holds for `key` of a receipt's payload: a string as is, a number as text.
std::string journal_field_value(const Json& payload, const char* key);

// One receipt away from its job's log (a journal entry on a collector): signed by a key in
// `trusted`, a well-formed payload. Its place in the job's chain is for verify_bundle to check.
struct VerifiedReceipt {
  Json payload;
  std::string payload_bytes;  // the exact signed bytes
  std::string signer_did;
};
Result<VerifiedReceipt> verify_receipt(const Json& envelope, const std::vector<std::string>& trusted,
                                       const std::string& where = "receipt");

Verdict verify_bundle(const Json& bundle_envelope, const std::vector<std::string>& trusted,
                      const VerifyOptions& options = {});

// ---- an auditor's report of a bundle (report_model.cc) ----
// The verdict first, then what the bundle says, read without trusting it: on FAIL every field
// comes from an unverified bundle and each receipt says whether it was verified. Calls in the
// order they started, each with its receipts; counts by tool, decision and blocked reason.
// `bundle report --json` prints this; the HTML report renders it.
// The bundle's payload without checking its signature (null when unreadable): what a report of a
// failing bundle shows, marked unverified; never a substitute for verify_bundle.
Json unverified_bundle(const Json& bundle_envelope);
Json report_model(const Json& bundle, const Verdict& verdict, const std::vector<std::string>& trusted);

}  // namespace clawjail::receipts
