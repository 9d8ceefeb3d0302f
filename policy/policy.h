// policy/: "is this call allowed?" — encodings, keys, WPC, CST, decisions. Never touches a process.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/reason.h"
#include "policy/unique_fd.h"

namespace clawjail::policy {

using Json = nlohmann::json;
using Bytes = std::vector<uint8_t>;

// ---- encodings (encoding.cc, canonical_json.cc, strict_json.cc) ----
std::string b64u_encode(std::string_view bytes);            // RFC 4648 §5, no padding
Result<std::string> b64u_decode(std::string_view text);     // refuses padding and bad chars
std::string b64_encode(std::string_view bytes);             // standard, padded (DSSE payload)
Result<std::string> b64_decode(std::string_view text);
std::array<uint8_t, 32> sha256(std::string_view bytes);
std::string sha256_b64u(std::string_view bytes);            // 43 characters
// Accepts "<43>" or the seed's "b64u:<43>" and returns the 43 characters, or an error.
Result<std::string> normalize_hash_b64u(std::string_view text);

// ---- bytes as text (text.cc, docs/protocol.md "Bytes that are not text") ----
// File names, paths and messages made by a jail or a client are bytes; JSON strings are UTF-8.
bool is_utf8(std::string_view bytes);
// Valid UTF-8 as it is; every byte outside a valid sequence becomes the four characters \xNN.
// The explicit form for free text in signed or stored JSON (reasons, details).
std::string utf8_text(std::string_view bytes);
// utf8_text, and also control characters (C0, DEL, C1) and bidirectional overrides escaped
// (\xNN, \u{NNNN}): what a terminal or a log line may show of outside bytes.
std::string printable(std::string_view bytes);
// `value` with every string and key passed through utf8_text: dump() of it cannot throw.
Json utf8_json(Json value);
// A name as JSON: {"name": lossy UTF-8 (U+FFFD per bad byte)} and, when the bytes are not UTF-8,
// "name_b64" (standard base64 of the exact bytes). name_bytes() reads either back.
void put_name(Json& object, std::string_view bytes);
std::optional<std::string> name_bytes(const Json& object);

// RFC 8785 JCS. Throws std::invalid_argument for values JCS cannot express (NaN, Infinity).
std::string canonical_json(const Json& value);
std::string canonical_hash_b64u(const Json& value);          // sha256_b64u(canonical_json(v))

struct JsonLimits {
  size_t max_bytes = 1 << 20;  // 1 MiB
  int max_depth = 64;
  bool allow_floats = false;
};
// Strict parse for outside bytes: duplicate keys, oversize, over-deep, floats (unless allowed),
// NaN/Infinity and trailing garbage are refused with a reason naming the place.
Result<Json> parse_strict_json(std::string_view text, const JsonLimits& limits = {});
// Reads at most limits.max_bytes from `path` (else DOCUMENT_TOO_LARGE) and parses it strictly.
// A file that cannot be read is BAD_JSON with the path and errno text.
Result<Json> parse_strict_json_file(const std::filesystem::path& path, const JsonLimits& limits = {});
Result<std::string> read_file_limited(const std::filesystem::path& path, size_t max_bytes);

// ---- keys (keys.cc, did_key.cc) ----
// An Ed25519 secret key in memory that libsodium locks and zeroes on destruction.
class SecretKey {
 public:
  static SecretKey generate();
  static Result<SecretKey> from_seed(std::string_view seed32);
  // Refuses a missing file (KEY_MISSING), one readable by group or others (KEY_PERMISSIONS),
  // and a malformed one (KEY_INVALID). File format: see keys.cc (documented in README).
  static Result<SecretKey> load(const std::filesystem::path& path);
  Status save(const std::filesystem::path& path) const;  // mode 0600, O_EXCL
  SecretKey(SecretKey&&) noexcept;
  SecretKey& operator=(SecretKey&&) noexcept;
  ~SecretKey();
  std::array<uint8_t, 32> public_key() const;
  std::string did() const;                            // did:key:z6Mk…
  std::string sign(std::string_view message) const;   // 64 raw bytes
 private:
  SecretKey();
  struct Locked;
  std::unique_ptr<Locked> k_;
};

std::string did_from_public_key(const std::array<uint8_t, 32>& pk);
Result<std::array<uint8_t, 32>> public_key_from_did(std::string_view did);
Status save_public_key(const std::filesystem::path& path, const std::array<uint8_t, 32>& pk);
bool ed25519_verify(const std::array<uint8_t, 32>& pk, std::string_view message,
                    std::string_view signature64);

// ---- WPC (wpc.cc, wpc_v1.cc, wpc_v2.cc, wpc_store.cc) ----
enum class WorkspaceAccess { none, ro, rw };
struct BindSpec {
  std::string src, dst;
  bool writable = false;
};
struct Limits {  // docs/formats.md §2 defaults
  int64_t timeout_ms = 60000;
  int64_t memory_mb = 512;
  int64_t pids = 128;
  int64_t cpu_seconds = 60;
  int64_t output_bytes = 8388608;
  int64_t file_size_mb = 64;
  int64_t tmpfs_mb = 64;
  int64_t open_files = 256;
};
struct SandboxSettings {
  WorkspaceAccess workspace_access = WorkspaceAccess::none;
  std::vector<std::string> approved_hosts;  // "host" or "host:port"
  Limits limits;
  std::vector<BindSpec> binds;
  std::vector<std::string> env_pass;
};
struct Policy {
  std::string hash_b64u;  // policy_hash_b64u: the WPC's only identity
  std::string policy_id;
  std::string shape;      // "wpc_v1" or "claw_v2"
  std::optional<std::string> job_id;
  bool bind_job_scoped_cst = false;
  std::vector<std::string> allow, deny;  // tool scope entries (v2 statements are mapped here)
  std::vector<std::string> fs_read_globs, fs_write_globs;  // v2 side_effect resources (empty = any)
  std::vector<std::string> fs_read_deny_globs, fs_write_deny_globs;  // v2 Deny side_effect resources
  bool elevated_enabled = false;
  bool require_cst = true;
  std::optional<std::string> cst_scope_hash_b64u;
  bool pin_wpc_hash = false;
  SandboxSettings sandbox;
  Json payload;  // as signed
};
// Parses either payload shape into one Policy. Strict (docs/formats.md §2).
Result<Policy> parse_wpc_payload(const Json& payload);
// Accepts a payload or an envelope; returns policy_hash_b64u.
Result<std::string> wpc_hash(const Json& payload_or_envelope);
Json sign_wpc(const Json& payload, const SecretKey& key);  // the envelope
struct VerifiedWpc {
  Policy policy;
  Json envelope;
  std::string signer_did;
};
// Hash, payload_hash_b64u, signature and signer allowlist (empty allowlist: WPC_NO_SIGNERS).
Result<VerifiedWpc> verify_wpc_envelope(const Json& envelope, const std::vector<std::string>& signers);

template <class T>
class FileCache;  // file_cache.h

class PolicyStore {  // <state_dir>/policies/<hash>.json
 public:
  PolicyStore(std::filesystem::path state_dir, std::vector<std::string> signers);
  Result<std::string> install(const Json& envelope);     // verifies, stores atomically, returns hash
  Result<VerifiedWpc> get(std::string_view hash_b64u) const;  // refuses a file whose hash differs from its name
  std::vector<std::string> list() const;
 private:
  std::filesystem::path dir_;
  std::vector<std::string> signers_;
  std::shared_ptr<FileCache<VerifiedWpc>> verified_;  // by file version: same bytes, same signers
};

// ---- CST (cst.cc, cst_claims.cc, cst_issue.cc, ledger.cc) ----
struct Cst {
  std::string token;  // compact JWS
  std::string kid;
  Json claims;
  std::string sub, jti;
  std::vector<std::string> aud, scope;
  int64_t iat = 0, exp = 0;
  std::optional<std::string> policy_hash_b64u, token_scope_hash_b64u, mission_id;
  std::string token_sha256_b64u() const;
};
struct CstIssuer {
  std::string kid;
  std::string did;
};
struct CstVerifyOptions {
  std::vector<CstIssuer> issuers;
  std::string audience = "clawjail";
  int64_t max_lifetime_s = 3600;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};
// Checks 1-4 and 7 of docs/formats.md §3 (the token alone).
Result<Cst> verify_cst(std::string_view token, const CstVerifyOptions& options);
std::string token_scope_hash_b64u(const Json& claims);  // docs/formats.md §3 check 7
// Checks 6, 8, 9 (first half): the token against the WPC in use, the request's job and the
// scopes the call needs.
Status check_cst_for_call(const Cst& cst, const Policy& wpc, std::string_view job_id,
                          const std::vector<std::string>& needed_scopes);
struct CstIssueRequest {
  std::string kid, sub, job;
  std::vector<std::string> aud{"clawjail"};
  std::vector<std::string> scope{"clawjail:call"};
  std::optional<std::string> policy_hash_b64u;
  int64_t ttl_s = 3600;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};
std::string issue_cst(const SecretKey& key, const CstIssueRequest& request);

// Durable state under <state_dir>: jti -> first job, and revoked jtis / token hashes.
// Safe against concurrent writers (flock + atomic rename) and survives restarts.
class TokenLedger {
 public:
  explicit TokenLedger(std::filesystem::path state_dir);
  // Check 9 (second half): records the first job of a jti; refuses it under another job.
  // `expires_at` (the token's exp, seconds) lets the ledger forget the binding a day after the
  // token died, so the ledger does not grow for ever; 0 keeps it for good.
  Status bind_jti(std::string_view jti, std::string_view job_id, int64_t expires_at = 0);
  // Check 5.
  Status check_not_revoked(const Cst& cst) const;
  Status revoke_jti(std::string_view jti, std::string_view why);
  Status revoke_token_hash(std::string_view sha256_b64u, std::string_view why);
  Status revoke_job(std::string_view job_id);  // every jti bound to the job, and the job itself
  bool job_stopped(std::string_view job_id) const;
  std::vector<std::string> jtis_of_job(std::string_view job_id) const;
  // Read-only form of check 9's second half: CST_JTI_REPLAYED if the jti is bound to another job,
  // JOB_STOPPED if the job was stopped; records nothing.
  Status check_jti(std::string_view jti, std::string_view job_id) const;
  void reload();
  // The durable file (<state_dir>/tokens/ledger.json): watch it to learn of revocations.
  std::filesystem::path file() const;
 private:
  Result<std::shared_ptr<const Json>> read() const;
  Status update(const std::function<Result<bool>(Json&)>& change);
  std::filesystem::path dir_;
  std::shared_ptr<FileCache<Json>> parsed_;  // the file as last parsed, by file version
};

// ---- decisions (scopes.cc, decision.cc) ----
struct Call {
  std::string tool;             // exec, process, read, write, edit, apply_patch, ls, stat, mkdir, remove, rename, browser
  bool background = false;
  bool elevated = false;
  bool outside_workspace = false;  // a file tool whose path leaves the workspace
  bool wants_network = false;
  bool binds_socket = false;       // a bind source resolves to a socket (decided by sandbox/)
  bool browser_host_control = false;
  std::vector<std::string> paths;  // a file tool's paths as the request names them
  bool recursive = false;          // mkdir -p, remove of a whole tree
};
std::vector<std::string> needed_scopes(const Call& call);  // the table of docs/formats.md §2
// Whether `entry` (an allow/deny list entry) matches `scope`: equal, `*`, `name:*` (the name and
// all its sub-scopes), and a bare name covers its `:workspace` form (`write` ⊇ `write:workspace`).
bool scope_matches(std::string_view entry, std::string_view scope);

// ---- workspace path rules (paths.cc, docs/formats.md §2) ----
// A file tool's path as the jail acts on it: relative to the workspace, `.` and empty components
// dropped, `..` taken lexically (the jail follows no symlink, so this is the path the kernel
// resolves), "." for the workspace itself. PATH_OUTSIDE_WORKSPACE when absolute or `..` climbs out.
Result<std::string> normalize_workspace_path(std::string_view path);
// v2 path globs (fnmatch without flags: `*` crosses `/`), on a normalised path: allowed when no
// Deny glob matches and the Allow globs of the direction are empty or one matches.
bool path_allowed(const Policy& wpc, std::string_view relative_path, bool write);
// Why path_allowed refuses, naming the path and the rule; nullopt when it allows.
std::optional<std::string> path_refusal(const Policy& wpc, std::string_view relative_path, bool write);
// The same for every path strictly beneath `dir` ("." for the whole workspace), erring towards
// refusal: a rename or a tree removal moves whatever the directory holds when the kernel acts.
std::optional<std::string> path_refusal_beneath(const Policy& wpc, std::string_view dir, bool write);
// What the rules of one direction guard in the workspace (nullopt: every path is allowed), i.e.
// what a command, which can touch any path of a mounted workspace, would escape.
std::optional<std::string> path_rules_restriction(const Policy& wpc, bool write);
struct Decision {
  bool allowed = false;
  Reason reason = Reason::TOOL_DENIED;
  std::string detail;
  std::vector<std::string> scopes;
};
// Deny wins, default deny; the CST (if any) narrows and never widens.
Decision decide(const Policy& wpc, const Cst* cst, const Call& call);

}  // namespace clawjail::policy
