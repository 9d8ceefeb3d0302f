// Outcome as the receipt's `result` (docs/formats.md §4). Integers only. `output_truncated` says
// when output beyond the cap was cut; `error` appears only when the jail could not be built or
// the command could not be started; `egress` only when the jail had the approved-hosts proxy.
#include "sandbox/outcome.h"

#include <sys/wait.h>

#include <csignal>

#include "base/reason.h"
#include "sandbox/egress.h"
#include "sandbox/jail.h"

namespace clawjail::sandbox {

Json Outcome::to_json() const {
  Json violations_json = Json::array();
  for (const auto& v : violations) violations_json.push_back({{"syscall", v.syscall}, {"count", v.count}});
  Json j = {{"status", std::string(name_of(status))},
            {"exit_code", exit_code},
            {"signal", signal},
            {"duration_ms", duration_ms},
            {"stdout_hash_b64u", stdout_hash_b64u},
            {"stdout_bytes", stdout_bytes},
            {"stderr_hash_b64u", stderr_hash_b64u},
            {"stderr_bytes", stderr_bytes},
            {"output_truncated", output_truncated},
            {"violations", violations_json}};
  if (egress)
    j["egress"] = {{"proxy", detail::kEgressAddress},      {"allowed", egress->allowed},
                   {"refused", egress->refused},          {"failed", egress->failed},
                   {"bad_requests", egress->bad_requests}, {"busy", egress->busy},
                   {"refused_targets", egress->refused_targets}};
  if (error) j["error"] = {{"reason_code", std::string(reason_name(error->reason))}, {"reason", error->detail}};
  return j;
}

namespace detail {
namespace {

// Ended before the jail was built. The deadline counts from the clone: a set-up slowed down by
// a busy host can use it up. The call ran out of time; that is a timeout, not a broken jail.
void classify_unbuilt(const EndFacts& f, Outcome& o) {
  if (f.timed_out && !f.setup_error) {
    o.status = RunStatus::timeout;
    o.signal = SIGKILL;
    return;
  }
  o.status = RunStatus::error;
  o.error = f.setup_error.value_or(fail(Reason::JAIL_SETUP_FAILED, "the jail's init ended before it was ready"));
}

// The tree was killed, not ended by the command: by the deadline after the limit was hit (a
// fork bomb held at pids.max runs until then), or by the OOM killer before the command could
// report. It exits as a killed command (128+9), never as a supervisor failure.
void classify_limit(const EndFacts& f, Outcome& o) {
  o.status = RunStatus::limit;
  if (f.timed_out || !f.worker_status) o.signal = SIGKILL;
}

}  // namespace

// Precedence: not built, then killed by the caller, then a limit, then the deadline, then a
// failure after the build, then the command's own exit.
Outcome classify_outcome(const EndFacts& f) {
  Outcome o;
  const bool exited = f.worker_status && WIFEXITED(*f.worker_status);
  const bool signaled = f.worker_status && WIFSIGNALED(*f.worker_status);
  const int sig = signaled ? WTERMSIG(*f.worker_status) : 0;
  if (exited) o.exit_code = WEXITSTATUS(*f.worker_status);
  o.signal = sig;
  if (!f.ready) {
    classify_unbuilt(f, o);
  } else if (f.killed) {
    o.status = RunStatus::killed;
    o.signal = SIGKILL;
  } else if (f.limit_hit || sig == SIGXCPU || sig == SIGXFSZ) {
    classify_limit(f, o);
  } else if (f.timed_out) {
    o.status = RunStatus::timeout;
    o.signal = SIGKILL;
  } else if (f.late_error) {
    o.status = RunStatus::error;
    o.error = f.late_error;
  } else if (exited) {
    o.status = o.exit_code == 0 ? RunStatus::success : RunStatus::error;
  } else {
    // Killed by a signal of its own: an error. No status at all: the init died without
    // reporting one, killed from outside (e.g. the OOM killer chose the init).
    o.status = signaled ? RunStatus::error : RunStatus::killed;
  }
  return o;
}

}  // namespace detail
}  // namespace clawjail::sandbox
