// The one closed list of reasons for every refusal in clawjail. The string of each value is
// stable: it is what receipts, the CLI, the journal and the tests all say. Add, never rename.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace clawjail {

#define CLAWJAIL_REASONS(X)                                                                    \
  X(OK)                                                                                        \
  /* input and encodings */                                                                    \
  X(BAD_JSON) X(DUPLICATE_KEY) X(DOCUMENT_TOO_LARGE) X(DOCUMENT_TOO_DEEP) X(FLOAT_NOT_ALLOWED) \
  X(UNKNOWN_FIELD) X(MISSING_FIELD) X(BAD_FIELD) X(BAD_ENCODING)                               \
  /* keys */                                                                                   \
  X(KEY_MISSING) X(KEY_PERMISSIONS) X(KEY_INVALID) X(BAD_DID)                                  \
  /* WPC */                                                                                    \
  X(WPC_HASH_MISMATCH) X(WPC_SIGNATURE_INVALID) X(WPC_SIGNER_NOT_ALLOWED) X(WPC_NO_SIGNERS)    \
  X(WPC_NOT_FOUND) X(WPC_STORE_CORRUPT) X(WPC_NOT_PINNED) X(WPC_INVALID)                       \
  /* CST (docs/formats.md §3, one per check) */                                                \
  X(CST_MISSING) X(CST_MALFORMED) X(CST_ALG_REJECTED) X(CST_UNKNOWN_KID)                       \
  X(CST_SIGNATURE_INVALID) X(CST_CLAIMS_INVALID) X(CST_VERSION) X(CST_AUDIENCE)                \
  X(CST_EXPIRED) X(CST_NOT_YET_VALID) X(CST_LIFETIME_TOO_LONG) X(CST_REVOKED)                  \
  X(CST_SCOPE_DENIED) X(CST_SCOPE_HASH_MISMATCH) X(CST_POLICY_MISMATCH)                        \
  X(CST_POLICY_PIN_REQUIRED) X(CST_JOB_MISMATCH) X(CST_MISSION_REQUIRED) X(CST_JTI_REPLAYED)   \
  X(CST_LEDGER_FAILED)                                                                         \
  /* decisions */                                                                              \
  X(TOOL_DENIED) X(TOOL_NOT_ALLOWED) X(EXEC_DENIED) X(ELEVATED_DENIED)                         \
  X(DOCKER_SOCKET_DENIED) X(NETWORK_DENIED) X(PATH_OUTSIDE_WORKSPACE) X(JOB_STOPPED)           \
  X(JOB_CALL_LIMIT)                                                                            \
  /* jail */                                                                                   \
  X(BIND_REFUSED_SOCKET) X(BIND_REFUSED_SENSITIVE) X(BIND_SOURCE_MISSING) X(BIND_INVALID)      \
  X(WORKSPACE_INVALID) X(JAIL_UNAVAILABLE) X(JAIL_SETUP_FAILED) X(FS_OP_FAILED)                \
  /* receipts and evidence */                                                                  \
  X(RECEIPT_STORE_FAILED) X(RECEIPT_SIGNATURE_INVALID) X(RECEIPT_UNTRUSTED_KEY)                \
  X(RECEIPT_PAYLOAD_INVALID) X(RECEIPT_SEQ_GAP) X(RECEIPT_CHAIN_BROKEN)                        \
  X(RECEIPT_JOB_MISMATCH) X(RECEIPT_POLICY_MISMATCH) X(RECEIPT_FINISHED_WITHOUT_STARTED)       \
  X(RECEIPT_UNFINISHED_CALL) X(RECEIPT_BLOCKED_HAS_FINISHED) X(RECEIPT_TORN_LINE)              \
  X(BUNDLE_SIGNATURE_INVALID) X(BUNDLE_UNTRUSTED_KEY) X(BUNDLE_MALFORMED) X(BUNDLE_WPC_INVALID) \
  X(TRUST_REQUIRED)                                                                            \
  /* supervisor and protocol */                                                                \
  X(CONFIG_INVALID) X(PEER_NOT_ALLOWED) X(REQUEST_MALFORMED) X(REQUEST_TOO_LARGE)              \
  X(REQUEST_TIMEOUT) X(SUPERVISOR_SHUTTING_DOWN) X(INTERNAL_ERROR)                          \
  X(CLIENT_DISCONNECTED)                                                                       \
  /* receipts: verification (added) */                                                         \
  X(RECEIPT_OUT_OF_ORDER) X(RECEIPT_DUPLICATE_CALL)                                            \
  /* supervisor: added */                                                                      \
  X(SUPERVISOR_BUSY)                                                                           \
  /* calls interrupted by the supervisor's death (receipts/README.md) */                        \
  X(SUPERVISOR_RESTARTED) X(RECEIPT_INTERRUPTED_CALL)                                          \
  /* model calls and their gateway receipts (docs/claw-bundles.md) */                          \
  X(MODEL_CALLS_NOT_CONFIGURED) X(MODEL_PROVIDER_NOT_ALLOWED) X(MODEL_CALL_UNRECEIPTED)        \
  X(GATEWAY_RECEIPT_INVALID) X(GATEWAY_SIGNER_NOT_ALLOWED) X(GATEWAY_RECEIPT_UNBOUND)          \
  X(GATEWAY_RECEIPT_OTHER_JOB) X(GATEWAY_RECEIPT_POLICY_MISMATCH) X(GATEWAY_RECEIPT_DUPLICATE)  \
  /* decisions: a v2 WPC's workspace path rules (docs/formats.md §2) */                       \
  X(PATH_DENIED) X(PATH_RULES_UNENFORCEABLE)                                                   \
  /* the fleet's control plane (docs/operations.md "Fleet") */                                 \
  X(WPC_FETCH_FAILED) X(JWKS_FETCH_FAILED) X(REVOCATION_FEED_FAILED) X(REVOCATION_FEED_STALE)

enum class Reason {
#define CLAWJAIL_REASON_ENUM(name) name,
  CLAWJAIL_REASONS(CLAWJAIL_REASON_ENUM)
#undef CLAWJAIL_REASON_ENUM
};

// Stable name, e.g. "CST_EXPIRED".
std::string_view reason_name(Reason r);
// Inverse of reason_name; nullopt for a string that is not on the list.
std::optional<Reason> reason_from_name(std::string_view name);

// A refusal: the closed reason plus a human detail ("exp 1700000000 <= now 1700000100").
struct Error {
  Reason reason = Reason::INTERNAL_ERROR;
  std::string detail;
};

// Errors are values at the edges: a Result holds either the value or the refusal.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }
  Reason reason() const { return ok() ? Reason::OK : error().reason; }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }
inline Error fail(Reason r, std::string detail) { return Error{r, std::move(detail)}; }

}  // namespace clawjail
