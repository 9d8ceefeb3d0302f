// A call that asks for a pty gets the supervisor's terminal as stdin, stdout, stderr and
// controlling terminal; one that does not has no terminal at all. Real jails, real ptys.
#include <sys/wait.h>

#include <random>

#include "tests/sandbox/jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// Runs argv on a pty; `input` (when given) is the client's stdin, through a pipe closed after it.
Ran run_on_pty(const JailSpec& spec, std::vector<std::string> argv, const std::string* input = nullptr) {
  int in = -1;
  if (input) {
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
    EXPECT_EQ(write(p[1], input->data(), input->size()), static_cast<ssize_t>(input->size()));
    close(p[1]);
    in = p[0];
  }
  Ran ran;
  int out = memfd_create("out", MFD_CLOEXEC), err = memfd_create("err", MFD_CLOEXEC);
  Command cmd;
  cmd.argv = std::move(argv);
  auto jail = Jail::start(spec, cmd, Io{in, out, err, true});
  if (!jail) ran.outcome.error = jail.error();
  else ran.outcome = jail->wait();
  ran.out = slurp(out);
  ran.err = slurp(err);
  for (int fd : {in, out, err})
    if (fd >= 0) close(fd);
  return ran;
}

std::string detail(const Ran& r) { return r.out + r.err + (r.outcome.error ? r.outcome.error->detail : ""); }

TEST(Pty, CommandSeesTheTerminalAsItsStdio) {
  Ran r = run_on_pty(base_spec(), {"/bin/sh", "-c", "tty; test -t 0 && echo in-tty; test -t 1 && echo out-tty;"
                                                     " test -t 2 && echo err-tty >&2"});
  ASSERT_EQ(r.outcome.status, RunStatus::success) << detail(r);
  EXPECT_TRUE(contains(r.out, "/dev/pts/")) << r.out;
  EXPECT_TRUE(contains(r.out, "in-tty")) << r.out;
  EXPECT_TRUE(contains(r.out, "out-tty")) << r.out;
  EXPECT_TRUE(contains(r.out, "err-tty")) << r.out;  // stderr is the terminal too
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(r.outcome.stdout_bytes, static_cast<int64_t>(r.out.size()));
  EXPECT_EQ(r.outcome.stderr_bytes, 0);
}

TEST(Pty, WithoutAPtyThereIsNoTerminal) {
  Ran r = sh(base_spec(), "tty; test -t 0 || echo in-not-tty; ls /dev/pts /dev/ptmx 2>&1; exec 3<>/dev/tty || echo no-ctty");
  EXPECT_TRUE(has_line(r.out, "not a tty")) << r.out;
  EXPECT_TRUE(has_line(r.out, "in-not-tty")) << r.out;
  EXPECT_TRUE(contains(r.out, "/dev/pts': No such file")) << r.out;
  EXPECT_TRUE(contains(r.out, "/dev/ptmx': No such file")) << r.out;
  EXPECT_TRUE(contains(r.err, "No such device or address") || contains(r.out, "no-ctty")) << r.out << r.err;
}

// The terminal is the worker's controlling terminal (/dev/tty opens, tty_nr is set), and the jail
// sees exactly that one terminal: no ptmx to open others, no other pts.
TEST(Pty, TerminalIsTheControllingTerminalAndTheOnlyOne) {
  Ran r = run_on_pty(base_spec(), {"/bin/bash", "-c",
                                   "exec 3<>/dev/tty && echo ctty-ok; read -r _ _ _ _ _ _ nr _ < /proc/self/stat;"
                                   " echo tty_nr=$nr; ls /dev/pts | wc -l; test -e /dev/ptmx || echo no-ptmx"});
  ASSERT_EQ(r.outcome.status, RunStatus::success) << detail(r);
  EXPECT_TRUE(contains(r.out, "ctty-ok")) << r.out;
  EXPECT_FALSE(contains(r.out, "tty_nr=0\r")) << r.out;
  EXPECT_TRUE(contains(r.out, "\r\n1\r\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "no-ptmx")) << r.out;
}

TEST(Pty, ClientInputReachesTheCommandAndItsEndIsEndOfFile) {
  std::string input = "hello pty\npartial";
  Ran r = run_on_pty(base_spec(), {"/bin/sh", "-c", "while read -r line; do echo \"got:$line\"; done;"
                                                     " echo \"last:$line\"; echo done"},
                     &input);
  ASSERT_EQ(r.outcome.status, RunStatus::success) << detail(r);
  EXPECT_TRUE(contains(r.out, "got:hello pty")) << r.out;
  EXPECT_TRUE(contains(r.out, "last:partial")) << r.out;  // a line without newline still arrives
  EXPECT_TRUE(contains(r.out, "done")) << r.out;
}

TEST(Pty, NoClientInputIsAnImmediateEndOfFile) {
  Ran r = run_on_pty(base_spec(), {"/bin/cat"});
  EXPECT_EQ(r.outcome.status, RunStatus::success) << detail(r);
  EXPECT_LT(r.outcome.duration_ms, 5000);
}

TEST(Pty, TiocstiOnThePtyIsRefused) {
  Ran r = run_on_pty(helper_spec(), {helper(), "tiocsti"});
  EXPECT_TRUE(contains(r.out, "tiocsti=EPERM")) << r.out;
  EXPECT_TRUE(contains(r.out, "tiocsti_high_bits=EPERM")) << r.out;
  EXPECT_TRUE(contains(r.out, "tioclinux=EPERM")) << r.out;
  EXPECT_TRUE(r.violated("ioctl"));
}

TEST(Pty, ExitStatusIsTheCommands) {
  Ran r = run_on_pty(base_spec(), {"/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(r.outcome.status, RunStatus::error);
  EXPECT_EQ(r.outcome.exit_code, 7);
}

TEST(Pty, TimeoutKillsTheWholeTree) {
  JailSpec spec = base_spec();
  spec.limits.timeout_ms = 800;
  std::string m = "clawjail-pty-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}());
  Ran r = run_on_pty(spec, {"/bin/bash", "-c", "(exec -a " + m + " sleep 60 &) ; exec -a " + m + "x sleep 60"});
  EXPECT_EQ(r.outcome.status, RunStatus::timeout) << detail(r);
  EXPECT_LT(r.outcome.duration_ms, 5000);
  EXPECT_EQ(count_host_processes_with(m), 0);
}

TEST(Pty, BackgroundProcessHoldingTheTerminalDiesWithTheCall) {
  std::string m = "clawjail-pty-bg-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}());
  Ran r = run_on_pty(base_spec(), {"/bin/bash", "-c", "exec -a " + m + " sleep 60 & echo started"});
  EXPECT_EQ(r.outcome.status, RunStatus::success) << detail(r);
  EXPECT_LT(r.outcome.duration_ms, 10000);
  EXPECT_EQ(count_host_processes_with(m), 0);
}

TEST(Pty, OutputIsCountedHashedAndCapped) {
  JailSpec spec = base_spec();
  spec.limits.output_bytes = 1000;
  Ran r = run_on_pty(spec, {"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"});
  EXPECT_EQ(r.outcome.stdout_bytes, 1000);
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_TRUE(r.outcome.output_truncated);
  EXPECT_FALSE(r.outcome.stdout_hash_b64u.empty());
}

TEST(Pty, KillEndsTheCall) {
  Command cmd;
  cmd.argv = {"/bin/sleep", "60"};
  int out = memfd_create("out", MFD_CLOEXEC);
  auto jail = Jail::start(base_spec(), cmd, Io{-1, out, -1, true});
  ASSERT_TRUE(jail.ok()) << jail.error().detail;
  jail->kill();
  Outcome o = jail->wait();
  close(out);
  EXPECT_EQ(o.status, RunStatus::killed);
  EXPECT_LT(o.duration_ms, 5000);
}

}  // namespace
}  // namespace clawjail::sandbox::testing
