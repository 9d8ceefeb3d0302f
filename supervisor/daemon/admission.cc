#include "supervisor/daemon/admission.h"

#include <sys/statfs.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "policy/cst.h"
#include "policy/decision.h"
#include "policy/encoding.h"
#include "policy/models.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "policy/wpc_store.h"

namespace clawjail {
namespace {

Status find_wpc(const proto::Request& r, const AdmissionInputs& in, Admission& a) {
  if (!r.wpc_hash_b64u) return fail(Reason::WPC_NOT_FOUND, "the request names no WPC (wpc_hash_b64u)");
  auto hash = policy::normalize_hash_b64u(*r.wpc_hash_b64u);
  if (!hash) return fail(Reason::WPC_NOT_FOUND, "wpc_hash_b64u is not a hash: " + hash.error().detail);
  a.policy_hash_b64u = hash.value();
  auto wpc = pinned_wpc(*hash, in.config, in.store);
  if (!wpc) return wpc.error();
  a.wpc = std::move(wpc.value());
  return ok_status();
}

bool leaves_workspace(const std::string& path) {
  if (!path.empty() && path.front() == '/') return path != "/workspace" && path.rfind("/workspace/", 0) != 0;
  int depth = 0;
  for (const auto& part : std::filesystem::path(path)) {
    if (part == "..") --depth;
    else if (part != "." && !part.empty()) ++depth;
    if (depth < 0) return true;
  }
  return false;
}

policy::Call call_of(const proto::Request& r) {
  policy::Call call;
  call.tool = r.tool;
  if (r.exec) {
    call.background = r.exec->background;
    call.elevated = r.exec->elevated;
  }
  if (r.fs) {
    call.outside_workspace = std::any_of(r.fs->paths.begin(), r.fs->paths.end(), leaves_workspace);
    call.paths = r.fs->paths;
    call.recursive = r.fs->recursive;
  }
  return call;
}

// A read-write workspace on a mount the supervisor sees read-only (clawjail.service:
// ProtectSystem=strict, writable only under ReadWritePaths=) would fail at the jail's first write;
// the call is refused with the reason instead.
Status check_workspace_writable(const sandbox::HostSource& src, const std::filesystem::path& ws) {
  int fd = src.fd.get();
  struct statfs fs{};
  if (::fstatfs(fd, &fs) != 0) return fail(Reason::WORKSPACE_INVALID, "cannot statfs workspace " + ws.string());
  if (!(fs.f_flags & ST_RDONLY)) return ok_status();
  return fail(Reason::WORKSPACE_INVALID,
              "workspace " + ws.string() + " is read-only for the supervisor and the WPC wants it read-write: "
              "clawjail.service makes everything but /home, /srv and /root read-only (ProtectSystem=strict); "
              "add the directory to ReadWritePaths= in a drop-in (docs/operations.md)");
}

// A client other than root may only hand over a directory it owns: the supervisor must not
// become the way to mount someone else's files into a jail. The owner comes from the descriptor
// the jail is built from (sandbox::open_sources), never from the path again.
Status check_workspace_owner(const sandbox::HostSource& ws, const std::filesystem::path& named, const Peer& peer) {
  if (peer.uid != 0 && ws.uid != peer.uid)
    return fail(Reason::WORKSPACE_INVALID, "workspace " + named.string() + " is owned by uid " +
                                               std::to_string(ws.uid) + ", not by the caller");
  return ok_status();
}

Status build_spec(const proto::Request& r, const AdmissionInputs& in, Admission& a) {
  const auto& policy = a.wpc->policy;
  std::filesystem::path ws;
  if (policy.sandbox.workspace_access != policy::WorkspaceAccess::none) {
    if (!r.workspace)
      return fail(Reason::WORKSPACE_INVALID, "the WPC mounts a workspace and the request names no host directory for it (--workspace)");
    ws = *r.workspace;
  }
  auto spec = sandbox::spec_from_policy(policy, ws, in.config.rootfs_binds);
  spec.uid_range = in.config.uid_range;
  spec.elevated = r.exec && r.exec->elevated;
  // A background call (admitted only with the `process` scope) lives up to its own limit instead
  // of the foreground timeout; the client may ask for less, never more.
  if (r.exec && r.exec->background) spec.limits.timeout_ms = policy.sandbox.background_ms;
  if (r.exec && r.exec->timeout_ms) spec.limits.timeout_ms = std::min(spec.limits.timeout_ms, *r.exec->timeout_ms);
  for (auto& p : protected_paths(in.config)) spec.protected_paths.push_back(std::move(p));
  if (auto s = sandbox::open_sources(spec); !s) return s;
  if (spec.opened->workspace) {
    if (auto s = check_workspace_owner(*spec.opened->workspace, ws, in.peer); !s) return s;
    if (policy.sandbox.workspace_access == policy::WorkspaceAccess::rw)
      if (auto s = check_workspace_writable(*spec.opened->workspace, ws); !s) return s;
  }
  a.call.binds_socket = spec.opened->binds_socket;
  a.call.wants_network = spec.network;
  a.jail_hash_b64u = sandbox::jail_hash_b64u(spec);
  a.spec = std::move(spec);
  return ok_status();
}

Status verify_token(const std::string& token, const AdmissionInputs& in, Admission& a) {
  policy::CstVerifyOptions options{in.config.cst_issuers, in.config.audience, in.config.cst_max_lifetime_s, in.now};
  auto cst = policy::verify_cst(token, options);
  if (!cst) return cst.error();
  a.cst = std::move(cst.value());
  return ok_status();
}

// Who is calling: the token alone, then the durable ledger (revocations, stopped jobs).
Status authenticate(const proto::Request& r, const AdmissionInputs& in, Admission& a) {
  if (r.cst) {
    if (auto s = verify_token(*r.cst, in, a); !s) return s;
  } else if (a.wpc->policy.require_cst) {
    return fail(Reason::CST_MISSING, "the WPC requires a CST and the request has none");
  }
  // A stopped job's tokens are revoked too; the stop is the reason the caller needs to read.
  if (in.ledger.job_stopped(r.job_id)) return fail(Reason::JOB_STOPPED, "job " + r.job_id + " was stopped");
  if (a.cst)
    if (auto s = in.ledger.check_not_revoked(*a.cst); !s) return s;
  return ok_status();
}

// A model call runs nothing here: the token must grant it (tool scope model_call) for this job
// and WPC, and the WPC's models block must list its provider (policy::check_model_call).
Status admit_model_call(const proto::Request& r, const AdmissionInputs& in, Admission& a) {
  a.call.tool = policy::kModelCallTool;
  a.scopes = {policy::kModelCallTool};
  if (a.cst)
    if (auto s = policy::check_cst_for_call(*a.cst, a.wpc->policy, r.job_id, a.scopes); !s) return s;
  if (auto s = policy::check_model_call(a.wpc->policy, r.model->provider, r.model->model); !s) return s;
  if (a.cst) return in.ledger.bind_jti(a.cst->jti, r.job_id, a.cst->exp);
  return ok_status();
}

}  // namespace

Result<policy::VerifiedWpc> pinned_wpc(std::string_view hash_b64u, const Config& config,
                                       const policy::PolicyStore& store) {
  auto hash = policy::normalize_hash_b64u(hash_b64u);
  if (!hash) return fail(Reason::WPC_NOT_FOUND, "not a WPC hash: " + hash.error().detail);
  const auto& pinned = config.pinned_wpc_hashes;
  if (!pinned.empty() && std::find(pinned.begin(), pinned.end(), *hash) == pinned.end())
    return fail(Reason::WPC_NOT_PINNED, "WPC " + *hash + " is not among the configuration's pinned_wpc_hashes");
  return store.get(*hash);
}

Status admit_stop(const proto::Request& r, const AdmissionInputs& in, Admission& a) {
  if (in.peer.uid == 0) return ok_status();
  if (!r.cst)
    return fail(Reason::CST_MISSING, "stopping job " + r.job_id + " needs a token of that job (--cst-file) or root");
  if (auto s = verify_token(*r.cst, in, a); !s) return s;
  if (auto s = in.ledger.check_not_revoked(*a.cst); !s) return s;
  const auto& cst = *a.cst;
  if (cst.mission_id && *cst.mission_id != r.job_id)
    return fail(Reason::CST_JOB_MISMATCH, "token mission_id " + *cst.mission_id + " != job " + r.job_id);
  if (!cst.mission_id) {
    auto jtis = in.ledger.jtis_of_job(r.job_id);
    if (std::find(jtis.begin(), jtis.end(), cst.jti) == jtis.end())
      return fail(Reason::CST_JOB_MISMATCH, "the token (jti " + cst.jti + ") has no mission_id and no call of job " +
                                                r.job_id + " used it");
  }
  return ok_status();
}

Status admit(const proto::Request& r, const AdmissionInputs& in, Admission& a) {
  if (auto s = find_wpc(r, in, a); !s) return s;
  if (auto s = authenticate(r, in, a); !s) return s;
  if (r.model) return admit_model_call(r, in, a);
  a.call = call_of(r);
  if (auto s = build_spec(r, in, a); !s) return s;
  a.scopes = policy::needed_scopes(a.call);
  if (a.cst)
    if (auto s = policy::check_cst_for_call(*a.cst, a.wpc->policy, r.job_id, a.scopes); !s) return s;
  auto decision = policy::decide(a.wpc->policy, a.cst ? &*a.cst : nullptr, a.call);
  if (!decision.scopes.empty()) a.scopes = decision.scopes;
  if (!decision.allowed) return fail(decision.reason, decision.detail);
  // Bound last: a refused call must not claim the jti for its job.
  if (a.cst) return in.ledger.bind_jti(a.cst->jti, r.job_id, a.cst->exp);
  return ok_status();
}

}  // namespace clawjail
