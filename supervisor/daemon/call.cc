#include "supervisor/daemon/call.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "policy/canonical_json.h"
#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/job_id.h"
#include "policy/json.h"
#include "policy/paths.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "policy/text.h"
#include "base/unique_fd.h"
#include "policy/wpc.h"
#include "supervisor/daemon/admission.h"
#include "supervisor/daemon/inline_fs.h"
#include "supervisor/daemon/peer.h"
#include "supervisor/proto/exit_codes.h"
#include "supervisor/proto/protocol.h"

namespace clawjail {
namespace {

using proto::Request;
using proto::Response;

// Each connection has its own thread: a per-thread generator would be seeded (an open of
// /dev/urandom) on every call.
std::string new_call_id() {
  unsigned char raw[12];
  randombytes_buf(raw, sizeof raw);
  char hex[2 * sizeof raw + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::string("call_") + hex;
}

// Everything one connection knows, in the order it learns it.
struct CallState {
  DaemonContext& ctx;
  int conn;
  std::string call_id;
  std::string request_hash_b64u;
  std::optional<Request> request;
  std::optional<std::string> job_id;
  Admission admission;
  Response response;
  bool started = false, finished = false;  // which receipts of an admitted call exist
};

receipts::Draft draft(const CallState& c, ReceiptPhase phase) {
  const auto& a = c.admission;
  receipts::Draft d;
  d.phase = phase;
  d.job_id = *c.job_id;
  d.call_id = c.call_id;
  d.tool = !c.request ? "unknown" : c.request->type == RequestType::stop_job ? "job_stop" : c.request->tool;
  d.scopes = a.scopes;
  d.agent_did = a.cst ? a.cst->sub : "";
  d.policy_hash_b64u = a.wpc ? a.wpc->policy.hash_b64u : a.policy_hash_b64u.value_or("");
  if (a.cst) {
    d.token_scope_hash_b64u = a.cst->token_scope_hash_b64u;
    d.cst_jti = a.cst->jti;
  }
  d.jail_hash_b64u = a.jail_hash_b64u;
  d.request_hash_b64u = c.request_hash_b64u;
  return d;
}

void send_response(CallState& c) {
  c.response.call_id = c.call_id;
  if (auto s = proto::write_frame(c.conn, proto::response_body(c.response)); !s)
    spdlog::info("call {}: the client went away before the answer: {}", c.call_id, s.error().detail);
}

// Refusal: a `blocked` receipt whenever the job is known, exit 126 for the client.
void refuse(CallState& c, const Error& why) {
  c.response.decision = Verdict::blocked;
  c.response.status = CallStatus::blocked;
  c.response.reason = why.reason;
  c.response.reason_detail = why.detail;
  c.response.exit_code = kExitBlocked;
  spdlog::warn("call {} of job {} blocked: {}: {}", c.call_id, c.job_id.value_or("?"), reason_name(why.reason),
               policy::printable(why.detail));
  if (c.job_id) {
    auto d = draft(c, ReceiptPhase::blocked);
    d.reason = why.reason;
    d.reason_detail = why.detail;
    auto written = c.ctx.receipts().record(d);
    if (!written) {
      spdlog::error("call {}: blocked receipt not stored: {}", c.call_id, written.error().detail);
      c.response.reason = Reason::RECEIPT_STORE_FAILED;
      c.response.reason_detail = written.error().detail + " (the call was blocked: " + why.detail + ")";
      c.response.status = CallStatus::failed;
      c.response.exit_code = kExitSupervisor;
    } else {
      c.response.receipt_ids.push_back(written->receipt_id);
    }
  }
  send_response(c);
}

// Parses the frame; a refused request still yields its job id (for the receipt) when it has one.
std::optional<Error> read_request(CallState& c, const proto::Frame& frame) {
  c.request_hash_b64u = policy::sha256_b64u(frame.body);
  auto json = policy::parse_strict_json(frame.body);
  if (!json) {
    auto loose = policy::Json::parse(frame.body, nullptr, false);
    if (loose.is_object() && loose.contains("job_id") && loose["job_id"].is_string() &&
        policy::check_job_id(loose["job_id"].get<std::string>()))
      c.job_id = loose["job_id"].get<std::string>();
    return fail(json.reason() == Reason::BAD_JSON ? Reason::REQUEST_MALFORMED : json.reason(),
                "request is not acceptable JSON: " + json.error().detail);
  }
  c.request_hash_b64u = policy::canonical_hash_b64u(*json);
  auto parsed = proto::parse_request(*json);
  if (auto* failure = std::get_if<proto::ParseFailure>(&parsed)) {
    c.job_id = failure->job_id;
    return failure->error;
  }
  c.request = std::get<Request>(std::move(parsed));
  c.job_id = c.request->job_id;
  return std::nullopt;
}

int exit_code_of(const sandbox::Outcome& o) {
  if (o.error) return kExitSupervisor;
  if (o.status == RunStatus::timeout) return kExitTimeout;
  if (o.signal > 0) return 128 + o.signal;
  return o.exit_code >= 0 ? o.exit_code : kExitSupervisor;
}

// Waits for the jail while watching the connection: a client that closes it (or sends anything
// after its request) cancels the call.
sandbox::Outcome wait_watching_client(sandbox::Jail& jail, int conn, RunningCalls::Registration& reg) {
  bool client_gone = false;
  for (;;) {
    pollfd fds[2] = {{jail.done_fd(), POLLIN, 0}, {conn, static_cast<short>(client_gone ? 0 : POLLIN | POLLRDHUP), 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[0].revents) break;
    if (!client_gone && fds[1].revents) {
      client_gone = true;
      reg.kill({Reason::CLIENT_DISCONNECTED, "the client closed its connection"});
    }
  }
  return jail.wait();
}

// A call admitted just before `job stop` (or a revocation) may register after the stop's sweep
// of running calls: checked again once registered, before its jail is released or its operation
// sent to the worker, it is killed and its tool never runs.
RunningCalls::Registration register_call(CallState& c, RunningCalls::Entry entry) {
  auto reg = c.ctx.calls().add(c.call_id, std::move(entry));
  if (auto why = ledger_refusal(c.ctx.ledger(), c.request->job_id, c.admission.cst)) reg.kill(std::move(*why));
  return reg;
}

sandbox::Command command_of(const proto::ExecArgs& e) {
  sandbox::Command cmd;
  cmd.argv = e.command ? std::vector<std::string>{"/bin/sh", "-c", *e.command} : e.argv;
  cmd.workdir = e.workdir;
  cmd.env = e.env;
  return cmd;
}

struct RunResult {
  sandbox::Outcome outcome;
  Reason reason = Reason::OK;
  std::string detail;
};

// A call killed between its registration and its start: its tool never ran, nothing was relayed.
RunResult killed_unstarted(const KillReason& why) {
  RunResult r{{}, why.reason, why.detail};
  r.outcome.status = RunStatus::killed;
  r.outcome.signal = SIGKILL;
  r.outcome.stdout_hash_b64u = r.outcome.stderr_hash_b64u = policy::sha256_b64u("");
  return r;
}

// Jails start concurrently: the child side of a jail makes raw system calls only (no glibc
// set*id broadcast that once hung it when another thread was inside Jail::start).
// `jail` outlives the answer: what is left of it (its empty cgroup) is removed after.
RunResult run_exec(CallState& c, Result<sandbox::Jail>& jail) {
  RunResult r;
  const auto failed = [&r](const Error& e) {
    r.outcome.error = e;
    r.reason = e.reason;
    r.detail = e.detail;
    return r;
  };
  if (!jail) return failed(jail.error());
  auto reg = register_call(c, {c.request->job_id, c.admission.cst, &jail.value(), std::nullopt});
  if (auto killed = reg.killed()) return killed_unstarted(*killed);  // the jail is dropped unreleased
  if (Status built = jail->release(); !built) return reg.killed() ? killed_unstarted(*reg.killed()) : failed(built.error());
  r.outcome = wait_watching_client(*jail, c.conn, reg);
  if (auto killed = reg.killed()) {
    r.reason = killed->reason;
    r.detail = killed->detail;
  } else if (r.outcome.status == RunStatus::timeout && c.request->exec->background) {
    r.detail = "the background call reached its lifetime limit of " +
               std::to_string(c.admission.spec->limits.timeout_ms) +
               " ms (sandbox.limits.background_ms, or the client's shorter --timeout-ms)";
  }
  return r;
}

// The jail acts on the normalised path, the one the WPC's path rules were checked on (a path that
// leaves the workspace goes as it is, for the jail to refuse). An inline read (no descriptors)
// returns at most kMaxInlineBytes, whatever the file holds.
sandbox::FsOp fs_op_of(const proto::FsArgs& f, bool inline_fs) {
  sandbox::FsOp op;
  op.op = f.op;
  for (const auto& p : f.paths) {
    auto normal = policy::normalize_workspace_path(p);
    op.paths.push_back(normal ? *normal : p);
  }
  op.exclusive = f.exclusive;
  op.truncate = f.truncate;
  op.recursive = f.recursive;
  op.offset = f.offset;
  op.length = inline_fs ? f.length.value_or(proto::kMaxInlineBytes) : f.length;
  return op;
}

// An `ls` shows only the entries the WPC's path rules let the caller read (docs/formats.md §2).
void hide_denied_entries(const policy::Policy& wpc, const std::string& dir, std::optional<policy::Json>& listing) {
  if (!listing || !listing->is_array()) return;
  std::string prefix = dir == "." ? "" : dir + "/";
  auto denied = [&](const policy::Json& entry) {
    auto name = policy::name_bytes(entry);
    return !name || !policy::path_allowed(wpc, prefix + *name, false);
  };
  auto& entries = listing->get_ref<policy::Json::array_t&>();
  entries.erase(std::remove_if(entries.begin(), entries.end(), denied), entries.end());
}

// What a file operation came to, for the `finished` receipt and the answer.
RunResult fs_ran(CallState& c, const sandbox::FsOp& op, Result<sandbox::FsResult> result, sandbox::Outcome outcome,
                 const RunningCalls::Registration& reg) {
  RunResult r{std::move(outcome), Reason::OK, ""};
  if (auto killed = reg.killed()) return {r.outcome, killed->reason, killed->detail};
  if (result && r.outcome.status != RunStatus::success)
    result = fail(Reason::FS_OP_FAILED, std::string(name_of(op.op)) + ": the file tool ended with " +
                                            std::string(name_of(r.outcome.status)));
  if (!result) {
    r.reason = result.reason();
    r.detail = result.error().detail;
    if (r.outcome.status == RunStatus::error) r.outcome.error = result.error();  // the operation failed
    return r;
  }
  c.response.value = std::move(result->value);
  c.response.truncated = result->truncated;
  if (op.op == sandbox::FsOpKind::ls) hide_denied_entries(c.admission.wpc->policy, op.paths[0], c.response.value);
  return r;
}

// In a jail of its own, as when the job's file worker is busy with another operation.
RunResult run_fs_alone(CallState& c, const sandbox::FsOp& op, const sandbox::Io& io) {
  auto call = sandbox::FsCall::begin(*c.admission.spec, op, io);
  const auto failed = [](const Error& e) {
    RunResult r{{}, e.reason, e.detail};
    r.outcome.error = e;
    return r;
  };
  if (!call) return failed(call.error());
  auto reg = register_call(c, {c.request->job_id, c.admission.cst, &call->jail(), std::nullopt});
  if (auto killed = reg.killed()) return killed_unstarted(*killed);  // the jail is dropped unreleased
  if (auto s = call->jail().release(); !s) return failed(s.error());
  auto outcome = wait_watching_client(call->jail(), c.conn, reg);
  auto result = call->result();
  return fs_ran(c, op, std::move(result), outcome, reg);
}

// A file tool is cancelled like a command: by its client, `job stop`, a revocation, shutdown;
// that kills the job's file worker, and its next operation gets a new one.
RunResult run_fs(CallState& c, const sandbox::Io& io, bool inline_fs) {
  const sandbox::FsOp op = fs_op_of(*c.request->fs, inline_fs);
  auto lease = c.ctx.fs_workers().take(c.request->job_id, c.admission.cst, *c.admission.spec);
  if (!lease) {
    RunResult r{{}, lease.reason(), lease.error().detail};
    r.outcome.error = lease.error();
    return r;
  }
  if (!*lease) return run_fs_alone(c, op, io);
  sandbox::FsWorker& worker = (*lease)->worker();
  auto reg = register_call(c, {c.request->job_id, c.admission.cst, nullptr, std::nullopt, &worker});
  if (auto killed = reg.killed()) return killed_unstarted(*killed);  // not sent to the worker
  auto result = worker.run(*c.admission.spec, op, io, c.conn, [&] { reg.kill({Reason::CLIENT_DISCONNECTED, "the client closed its connection"}); });
  sandbox::Outcome outcome;
  if (result) outcome = result->outcome;
  else outcome.error = result.error();
  return fs_ran(c, op, std::move(result), std::move(outcome), reg);
}

// What the jail could never take (a NUL byte in an argument, a path it cannot hold) is a bad
// request, refused with a `blocked` receipt before the `started` one: the tool never starts.
Status check_arguments(const Request& r, bool inline_fs) {
  if (r.exec) return sandbox::check_command(command_of(*r.exec));
  if (r.fs) return sandbox::check_fs_paths(fs_op_of(*r.fs, inline_fs));
  return ok_status();
}

// 0 or 1 for the operation itself; a killed or timed-out file tool exits as `run` would.
int fs_exit_code(const RunResult& run) {
  const auto& o = run.outcome;
  if (o.status == RunStatus::success) return 0;
  if (o.status == RunStatus::killed || o.status == RunStatus::timeout) return exit_code_of(o);
  return run.reason == Reason::FS_OP_FAILED || run.reason == Reason::PATH_OUTSIDE_WORKSPACE ? 1 : 125;
}

// An inline read's answer carries its bytes: exactly those its `finished` receipt hashes. A read
// cut by the WPC's output cap did not reach the end: the client reads on from where it stopped.
void answer_inline_read(CallState& c, int stdout_memfd, RunResult& run) {
  if (c.request->fs->op != FsOpKind::read || run.outcome.status != RunStatus::success || !c.response.value ||
      !c.response.value->is_object())
    return;
  auto bytes = inline_output(stdout_memfd);
  if (bytes && static_cast<int64_t>(bytes->size()) != run.outcome.stdout_bytes)
    bytes = fail(Reason::INTERNAL_ERROR, "the read's bytes are not those relayed");
  if (!bytes) {
    c.response.value.reset();
    run.outcome.status = RunStatus::error;
    run.outcome.error = bytes.error();
    run.reason = bytes.reason();
    run.detail = bytes.error().detail;
    return;
  }
  (*c.response.value)["data_b64"] = policy::b64_encode(*bytes);
  if (run.outcome.output_truncated) (*c.response.value)["eof"] = false;
}

void finish(CallState& c, const RunResult& run) {
  auto d = draft(c, ReceiptPhase::finished);
  d.reason = run.reason;
  d.reason_detail = run.detail;
  d.result = run.outcome.to_json();
  auto& resp = c.response;
  resp.decision = Verdict::allowed;
  resp.status = call_status_of(run.outcome.status);
  resp.signal = run.outcome.signal;
  resp.reason = run.reason;
  resp.reason_detail = run.detail;
  resp.exit_code = c.request->fs ? fs_exit_code(run) : exit_code_of(run.outcome);
  auto written = c.ctx.receipts().record(d);
  c.finished = true;
  if (!written) {
    spdlog::error("call {}: finished receipt not stored: {}", c.call_id, written.error().detail);
    resp.reason = Reason::RECEIPT_STORE_FAILED;
    resp.reason_detail = written.error().detail;
    resp.status = CallStatus::failed;
    resp.exit_code = kExitSupervisor;
  } else {
    resp.receipt_ids.push_back(written->receipt_id);
  }
  send_response(c);  // the log line is not the client's to wait for
  spdlog::info("call {} of job {} finished: {} exit {} ({})", c.call_id, *c.job_id, name_of(run.outcome.status),
               resp.exit_code, reason_name(resp.reason));
}

// What clawproxy needs to bind its gateway receipt to this call's `started` event, as the fields
// of Claw's receipt_binding and as the headers Claw's provider plugin sends (docs/claw-bundles.md).
policy::Json model_binding(const CallState& c, const receipts::Written& started) {
  const auto& a = c.admission;
  policy::Json b = {{"run_id", *c.job_id},
                    {"event_hash_b64u", started.claw_event_hash_b64u},
                    {"nonce", c.call_id},
                    {"policy_hash", a.wpc->policy.hash_b64u},
                    {"provider", c.request->model->provider},
                    {"model", c.request->model->model}};
  b["headers"] = {{"X-Run-Id", *c.job_id},
                  {"X-Event-Hash", started.claw_event_hash_b64u},
                  {"X-Idempotency-Key", c.call_id},
                  {"X-Policy-Hash", a.wpc->policy.hash_b64u}};
  if (a.cst && a.cst->token_scope_hash_b64u) b["token_scope_hash_b64u"] = *a.cst->token_scope_hash_b64u;
  return b;
}

// A model call's `finished` says what the supervisor did: it handed out the binding, whose bytes
// its stdout hash commits to. The call itself is clawproxy's; its gateway receipt proves it.
RunResult model_call_ended(const policy::Json& binding, std::chrono::steady_clock::time_point began) {
  RunResult run;
  auto& o = run.outcome;
  const std::string bytes = binding.dump();
  o.status = RunStatus::success;
  o.exit_code = 0;
  o.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count();
  o.stdout_hash_b64u = policy::sha256_b64u(bytes);
  o.stdout_bytes = static_cast<int64_t>(bytes.size());
  o.stderr_hash_b64u = policy::sha256_b64u("");
  return run;
}

void run_call(CallState& c, std::vector<UniqueFd>& fds) {
  const bool inline_fs = fds.empty();  // check_call_descriptors admitted it for a file tool
  if (inline_fs) {
    auto made = inline_descriptors(*c.request->fs);
    if (!made) return refuse(c, made.error());
    fds = std::move(*made);
    c.request->fs->data.reset();  // in the memfd now: not held for the whole call as well
  }
  if (c.admission.cst) {  // for the job's proof bundle
    if (auto s = receipts::record_job_cst(c.ctx.snapshot().config->state_dir, *c.job_id, *c.admission.cst); !s)
      return refuse(c, fail(Reason::RECEIPT_STORE_FAILED, "cannot record the job's CST: " + s.error().detail));
  }
  sandbox::Io io{fds[0].get(), fds[1].get(), fds[2].get(), c.request->exec && c.request->exec->pty};
  if (c.request->exec && c.request->exec->pty_size) {
    io.pty_rows = static_cast<unsigned short>(c.request->exec->pty_size->rows);
    io.pty_cols = static_cast<unsigned short>(c.request->exec->pty_size->cols);
  }
  // The jail is built while the `started` receipt is made durable; its command runs only once
  // the receipt is (run_exec releases it). Without the receipt the jail is dropped unrun.
  std::optional<Result<sandbox::Jail>> jail;
  if (c.request->exec) jail.emplace(c.ctx.jails().begin(*c.admission.spec, command_of(*c.request->exec), io));
  const auto began = std::chrono::steady_clock::now();
  auto started = c.ctx.receipts().record(draft(c, ReceiptPhase::started));
  if (!started) {
    // No action without evidence: the tool does not run.
    spdlog::error("call {}: started receipt not stored: {}", c.call_id, started.error().detail);
    c.response.reason = Reason::RECEIPT_STORE_FAILED;
    c.response.reason_detail = started.error().detail;
    c.response.status = CallStatus::failed;
    c.response.exit_code = kExitSupervisor;
    return send_response(c);
  }
  c.response.receipt_ids.push_back(started->receipt_id);
  c.started = true;
  if (c.request->model) {
    c.response.value = model_binding(c, *started);
    return finish(c, model_call_ended(*c.response.value, began));
  }
  RunResult run = jail ? run_exec(c, *jail) : run_fs(c, io, inline_fs);
  if (inline_fs) answer_inline_read(c, fds[1].get(), run);
  finish(c, run);
  if (jail) c.ctx.jails().build_ahead(*c.admission.spec);
}

constexpr std::chrono::seconds kStopWaitsForCalls{5};

void stop_job(CallState& c) {
  const auto& job = c.request->job_id;
  auto s = c.ctx.ledger().revoke_job(job);
  if (!s) {
    c.response.reason = s.reason();
    c.response.reason_detail = s.error().detail;
    c.response.status = CallStatus::failed;
    c.response.exit_code = kExitSupervisor;
    return send_response(c);
  }
  c.response.type = ResponseType::stopped;
  c.response.decision = Verdict::allowed;
  c.response.status = CallStatus::success;
  c.response.reason = Reason::OK;
  c.response.exit_code = 0;
  c.response.killed_calls = c.ctx.calls().kill_job(job, {Reason::JOB_STOPPED, "job " + job + " was stopped"});
  c.ctx.fs_workers().drop_job(job);
  spdlog::warn("job {} stopped: {} running call(s) killed", job, c.response.killed_calls);
  // The answer comes once the killed calls have ended (their processes are gone), so that nothing
  // of the job runs after it; a call that cannot end in time does not hold the answer for ever.
  if (!c.ctx.calls().wait_job_ended(job, std::chrono::steady_clock::now() + kStopWaitsForCalls))
    spdlog::warn("job {} stopped: a killed call had not ended after {} s", job, kStopWaitsForCalls.count());
  send_response(c);
}

// A bug met while handling one call must not take the supervisor down with every other running
// call: the call ends with the receipt it still owes (`finished` once started, else `blocked`).
void fail_internally(CallState& c, const std::string& what) noexcept {
  try {
    const Error why = fail(Reason::INTERNAL_ERROR, "internal error: " + policy::utf8_text(what));
    spdlog::error("call {}: {}", c.call_id, policy::printable(why.detail));
    c.response.value.reset();
    c.response.truncated = false;
    if (!c.started) return refuse(c, why);
    if (!c.finished) {
      RunResult run;
      run.outcome.error = why;
      run.reason = why.reason;
      run.detail = why.detail;
      return finish(c, run);
    }
    c.response.reason = why.reason;
    c.response.reason_detail = why.detail;
    c.response.status = CallStatus::failed;
    c.response.exit_code = kExitSupervisor;
    send_response(c);
  } catch (...) {
    spdlog::critical("call {}: could not even report an internal error", c.call_id);
  }
}

void handle(CallState& c, const Peer& peer) {
  auto frame = proto::read_frame(c.conn, std::chrono::steady_clock::now() + proto::kRequestDeadline);
  if (!frame) return refuse(c, frame.error());
  if (auto bad = read_request(c, *frame)) return refuse(c, *bad);
  std::string().swap(frame->body);  // parsed and hashed: up to 1 MiB not held for the whole call
  auto snap = c.ctx.snapshot();
  AdmissionInputs in{*snap.config, *snap.store, c.ctx.ledger(), peer};
  in.fleet = c.ctx.fleet();
  if (c.request->type == RequestType::stop_job) {
    if (auto s = admit_stop(*c.request, in, c.admission); !s) return refuse(c, s.error());
    return stop_job(c);
  }
  if (auto s = check_call_descriptors(*c.request, frame->fds.size()); !s) return refuse(c, s.error());
  if (auto s = check_arguments(*c.request, frame->fds.empty()); !s) return refuse(c, s.error());
  if (c.ctx.draining()) return refuse(c, fail(Reason::SUPERVISOR_SHUTTING_DOWN, "the supervisor is shutting down"));
  if (auto s = admit(*c.request, in, c.admission); !s) return refuse(c, s.error());
  const auto max = static_cast<size_t>(snap.config->max_calls_per_job);
  auto slot = c.ctx.job_slots().take(c.request->job_id, max);
  if (!slot)
    return refuse(c, fail(Reason::JOB_CALL_LIMIT, "job " + c.request->job_id + " already has " + std::to_string(max) +
                                                      " calls running (max_calls_per_job)"));
  run_call(c, frame->fds);
}

}  // namespace

void serve_connection(DaemonContext& ctx, UniqueFd conn) {
  timeval send_timeout{10, 0};  // a client that never reads its answer cannot hold the thread
  ::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
  CallState c{ctx, conn.get(), new_call_id(), {}, {}, {}, {}, {}};
  auto peer = peer_of(conn.get());
  if (!peer) return refuse(c, peer.error());
  if (auto s = authorize_peer(*peer, *ctx.snapshot().config); !s) return refuse(c, s.error());
  try {
    handle(c, *peer);
  } catch (const std::exception& e) {
    fail_internally(c, e.what());
  } catch (...) {
    fail_internally(c, "an exception that is not a std::exception");
  }
}

}  // namespace clawjail
