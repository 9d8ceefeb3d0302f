// Admission of one call: WPC from the store, CST verified and checked against the ledger, the
// jail derived from the WPC, and policy::decide(). Fills what it learns as it goes, so that a
// refusal's `blocked` receipt says as much as was known when it was refused.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "policy/cst.h"
#include "policy/decision.h"
#include "policy/wpc.h"
#include "policy/wpc_store.h"
#include "sandbox/jail.h"
#include "supervisor/common/config.h"
#include "supervisor/daemon/cancel.h"
#include "supervisor/daemon/peer.h"
#include "supervisor/fleet/fleet.h"
#include "supervisor/proto/protocol.h"

namespace clawjail {

struct Admission {
  std::optional<std::string> policy_hash_b64u;  // as requested, normalised, until the WPC is found
  std::optional<policy::VerifiedWpc> wpc;
  std::optional<policy::Cst> cst;
  policy::Call call;
  std::vector<std::string> scopes;
  std::optional<sandbox::JailSpec> spec;
  std::optional<std::string> jail_hash_b64u;
};

struct AdmissionInputs {
  const Config& config;
  const policy::PolicyStore& store;
  Ledger& ledger;
  const Peer& peer;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  // The control plane's issuer keys and revocation feed (docs/operations.md "Fleet"); none: the
  // configured cst_issuers alone.
  fleet::Fleet* fleet = nullptr;
};

// The installed WPC `hash_b64u` names (normalised), if pinned_wpc_hashes (when set) admits it.
Result<policy::VerifiedWpc> pinned_wpc(std::string_view hash_b64u, const Config& config,
                                       const policy::PolicyStore& store);

Status admit(const proto::Request& request, const AdmissionInputs& in, Admission& out);
// A stop_job request: root, or the holder of a valid CST of that job (bound to it by its
// mission_id, or by a call of the job that used it). Anyone else allowed on the socket is refused.
Status admit_stop(const proto::Request& request, const AdmissionInputs& in, Admission& out);

}  // namespace clawjail
