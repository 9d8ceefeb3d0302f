// The Work Policy Contract (WPC): its parsed form, its hash, its signed envelope.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"

namespace clawjail::policy {

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
  // sandbox.limits.background_ms: the wall-clock lifetime of a background call (which needs the
  // `process` scope), in place of limits.timeout_ms. Not a jail limit of its own: admission puts it
  // into the call's timeout (docs/operations.md, "Background calls").
  int64_t background_ms = 600000;
  std::vector<BindSpec> binds;
  std::vector<std::string> env_pass;
};
// The WPC's `models` block: model calls go through clawproxy, which signs a gateway receipt per
// call bound to the call's event in the job's chain (docs/claw-bundles.md, "Model calls in the same proof").
struct ModelPolicy {
  bool require_gateway_receipts = false;
  std::vector<std::string> route_via;   // only "clawproxy": the gateway whose receipts clawjail binds
  std::vector<std::string> providers;   // a model call names one of these, or it is refused
  std::vector<std::string> models;      // Claw WPC v1 allowed_models globs; empty: any model
};
struct Policy {
  std::string hash_b64u;  // policy_hash_b64u: the WPC's only identity
  std::string policy_id;
  std::string shape;      // "wpc_v1", "claw_v1" or "claw_v2"
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
  std::optional<ModelPolicy> models;  // none: every model call is refused
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

}  // namespace clawjail::policy
