// classify_outcome() without a jail: each row is what a monitor could have seen of a jail's end,
// and the status, exit code, signal and error the receipt must then carry (docs/formats.md §4).
// The precedence rows put two causes of an ending together; the real jails of jail_test.cc,
// cgroup_test.cc and lifecycle_test.cc show that the monitor sees these facts.
#include "sandbox/outcome.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

namespace clawjail::sandbox::testing {
namespace {

using detail::EndFacts;

int exited(int code) { return W_EXITCODE(code, 0); }
int signaled(int sig) { return W_EXITCODE(0, sig); }

struct Row {
  const char* name;
  EndFacts facts;
  RunStatus status;
  int exit_code;
  int signal;
  std::optional<Reason> error;  // the Outcome's error reason, if it has one
};

EndFacts ready(std::optional<int> worker_status) {
  EndFacts f;
  f.ready = true;
  f.worker_status = worker_status;
  return f;
}

template <class Change>
EndFacts with(EndFacts f, Change change) {
  change(f);
  return f;
}

const Error kSetup = fail(Reason::JAIL_SETUP_FAILED, "mount: EPERM");
const Error kExec = fail(Reason::JAIL_SETUP_FAILED, "execve: ENOENT");

const Row kRows[] = {
    {"exit 0", ready(exited(0)), RunStatus::success, 0, 0, std::nullopt},
    {"exit 3", ready(exited(3)), RunStatus::error, 3, 0, std::nullopt},
    {"own signal", ready(signaled(SIGSEGV)), RunStatus::error, -1, SIGSEGV, std::nullopt},
    {"deadline", with(ready(signaled(SIGKILL)), [](auto& f) { f.timed_out = true; }), RunStatus::timeout, -1, SIGKILL,
     std::nullopt},
    {"deadline, no status", with(ready(std::nullopt), [](auto& f) { f.timed_out = true; }), RunStatus::timeout, -1,
     SIGKILL, std::nullopt},
    {"kill()", with(ready(signaled(SIGKILL)), [](auto& f) { f.killed = true; }), RunStatus::killed, -1, SIGKILL,
     std::nullopt},
    {"kill() after the exit keeps the code", with(ready(exited(0)), [](auto& f) { f.killed = true; }),
     RunStatus::killed, 0, SIGKILL, std::nullopt},
    {"cgroup limit", with(ready(signaled(SIGKILL)), [](auto& f) { f.limit_hit = true; }), RunStatus::limit, -1, SIGKILL,
     std::nullopt},
    {"cgroup limit, no status", with(ready(std::nullopt), [](auto& f) { f.limit_hit = true; }), RunStatus::limit, -1,
     SIGKILL, std::nullopt},
    {"cgroup limit, command exited", with(ready(exited(1)), [](auto& f) { f.limit_hit = true; }), RunStatus::limit, 1,
     0, std::nullopt},
    {"cpu rlimit", ready(signaled(SIGXCPU)), RunStatus::limit, -1, SIGXCPU, std::nullopt},
    {"file size rlimit", ready(signaled(SIGXFSZ)), RunStatus::limit, -1, SIGXFSZ, std::nullopt},
    {"exec failed", with(ready(exited(126)), [](auto& f) { f.late_error = kExec; }), RunStatus::error, 126, 0,
     Reason::JAIL_SETUP_FAILED},
    {"init died unreported", ready(std::nullopt), RunStatus::killed, -1, 0, std::nullopt},
    // Precedence.
    {"kill() beats the deadline", with(ready(signaled(SIGKILL)), [](auto& f) { f.killed = f.timed_out = true; }),
     RunStatus::killed, -1, SIGKILL, std::nullopt},
    {"kill() beats a limit", with(ready(signaled(SIGKILL)), [](auto& f) { f.killed = f.limit_hit = true; }),
     RunStatus::killed, -1, SIGKILL, std::nullopt},
    {"a limit beats the deadline (fork bomb held at pids.max)",
     with(ready(exited(0)), [](auto& f) { f.limit_hit = f.timed_out = true; }), RunStatus::limit, 0, SIGKILL,
     std::nullopt},
    {"an rlimit signal beats the deadline, which killed the tree",
     with(ready(signaled(SIGXCPU)), [](auto& f) { f.timed_out = true; }), RunStatus::limit, -1, SIGKILL, std::nullopt},
    {"the deadline beats a late error",
     with(ready(std::nullopt),
          [](auto& f) {
            f.timed_out = true;
            f.late_error = kExec;
          }),
     RunStatus::timeout, -1, SIGKILL, std::nullopt},
    {"a late error beats the exit", with(ready(exited(0)), [](auto& f) { f.late_error = kExec; }), RunStatus::error, 0,
     0, Reason::JAIL_SETUP_FAILED},
    // Never built.
    {"set-up failed", with(EndFacts{}, [](auto& f) { f.setup_error = kSetup; }), RunStatus::error, -1, 0,
     Reason::JAIL_SETUP_FAILED},
    {"init ended before ready", EndFacts{}, RunStatus::error, -1, 0, Reason::JAIL_SETUP_FAILED},
    {"deadline during the set-up is a timeout", with(EndFacts{}, [](auto& f) { f.timed_out = true; }),
     RunStatus::timeout, -1, SIGKILL, std::nullopt},
    {"a set-up failure beats the deadline",
     with(EndFacts{},
          [](auto& f) {
            f.timed_out = true;
            f.setup_error = kSetup;
          }),
     RunStatus::error, -1, 0, Reason::JAIL_SETUP_FAILED},
    {"not built beats kill() and limits",
     with(EndFacts{},
          [](auto& f) {
            f.killed = f.limit_hit = true;
            f.setup_error = kSetup;
          }),
     RunStatus::error, -1, 0, Reason::JAIL_SETUP_FAILED},
};

TEST(ClassifyOutcome, EachEndingHasItsStatus) {
  for (const Row& row : kRows) {
    SCOPED_TRACE(row.name);
    Outcome o = detail::classify_outcome(row.facts);
    EXPECT_EQ(o.status, row.status);
    EXPECT_EQ(o.exit_code, row.exit_code);
    EXPECT_EQ(o.signal, row.signal);
    ASSERT_EQ(o.error.has_value(), row.error.has_value());
    if (row.error) {
      EXPECT_EQ(o.error->reason, *row.error);
    }
  }
}

TEST(ClassifyOutcome, TheErrorSaysWhichStepFailed) {
  EndFacts f;
  f.setup_error = kSetup;
  EXPECT_EQ(detail::classify_outcome(f).error->detail, kSetup.detail);
  EXPECT_EQ(detail::classify_outcome(EndFacts{}).error->detail, "the jail's init ended before it was ready");
  EXPECT_EQ(detail::classify_outcome(with(ready(exited(126)), [](auto& g) { g.late_error = kExec; })).error->detail,
            kExec.detail);
}

// The receipt's `result.status` spells each status, and reading it back gives the same status.
TEST(ClassifyOutcome, EachStatusHasOneNameInTheReceipt) {
  const std::pair<RunStatus, const char*> names[] = {{RunStatus::success, "success"},
                                                     {RunStatus::error, "error"},
                                                     {RunStatus::timeout, "timeout"},
                                                     {RunStatus::killed, "killed"},
                                                     {RunStatus::limit, "limit"}};
  for (const auto& [status, name] : names) {
    Outcome o;
    o.status = status;
    EXPECT_EQ(o.to_json()["status"], name);
    EXPECT_EQ(from_name<RunStatus>(name), status);
  }
  EXPECT_EQ(from_name<RunStatus>("failed"), std::nullopt) << "a response status is not a run's";
  EXPECT_EQ(Outcome{}.status, RunStatus::error) << "an Outcome nobody classified must not say success";
}

}  // namespace
}  // namespace clawjail::sandbox::testing
