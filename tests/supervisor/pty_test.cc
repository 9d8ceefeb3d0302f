// `clawjail run --pty` end to end: the real binary, a real supervisor, the call's own terminal.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "fixture.h"
#include "policy/encoding.h"
#include "base/unique_fd.h"

namespace clawjail::test {
namespace {

class PtyCall : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
};

TEST_F(PtyCall, TtyPrintsTheJailsTerminalAndTheReceiptCountsItsOutput) {
  auto cst = job_token("job-pty");
  auto c = clawjail(run_args("job-pty", cst, {"--pty", "--", "/usr/bin/tty"}));
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out.rfind("/dev/pts/", 0), 0u) << c.out;
  EXPECT_EQ(c.out.substr(c.out.size() - 2), "\r\n") << c.out;  // the terminal's own line ending
  auto r = receipts("job-pty");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["result"]["stdout_bytes"], c.out.size());
  EXPECT_EQ(r[1]["result"]["stdout_hash_b64u"], policy::sha256_b64u(c.out));
}

TEST_F(PtyCall, WithoutPtyThereIsNoTerminal) {
  auto cst = job_token("job-nopty");
  auto c = clawjail(run_args("job-nopty", cst, {"--", "/usr/bin/tty"}));
  EXPECT_EQ(c.exit_code, 1) << c.err;
  EXPECT_EQ(c.out, "not a tty\n");
}

TEST_F(PtyCall, StdinStdoutAndStderrAreTheTerminalAndInputArrives) {
  auto cst = job_token("job-pty-io");
  auto c = clawjail(run_args("job-pty-io", cst,
                             {"--pty", "--", "/bin/sh", "-c",
                              "test -t 0 && test -t 1 && test -t 2 && echo all-tty; read -r l; echo got:$l; exit 3"}),
                    "hello\n");
  EXPECT_EQ(c.exit_code, 3) << c.err;
  EXPECT_NE(c.out.find("all-tty\r\n"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("got:hello\r\n"), std::string::npos) << c.out;
  EXPECT_EQ(c.err, "");
}

TEST_F(PtyCall, TimeoutIs124WithAPtyToo) {
  auto cst = job_token("job-pty-timeout");
  auto c = clawjail(run_args("job-pty-timeout", cst, {"--pty", "--timeout-ms", "300", "--", "/bin/sleep", "20"}));
  EXPECT_EQ(c.exit_code, 124) << c.err;
  auto r = receipts("job-pty-timeout");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["result"]["status"], "timeout");
}

// A terminal to run the client on, as a user's shell would give it.
struct Terminal {
  UniqueFd master, slave;
  static Terminal open(unsigned short rows, unsigned short cols) {
    Terminal t;
    t.master.reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!t.master || grantpt(t.master.get()) != 0 || unlockpt(t.master.get()) != 0) return t;
    t.slave.reset(::open(ptsname(t.master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    winsize size{};
    size.ws_row = rows;
    size.ws_col = cols;
    if (t.slave) ::ioctl(t.slave.get(), TIOCSWINSZ, &size);
    return t;
  }
  // Starts the client with the terminal as its stdin, stdout and stderr.
  pid_t spawn(std::vector<std::string> args) {
    args.insert(args.begin(), CLAWJAIL_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int fd : {0, 1, 2}) posix_spawn_file_actions_adddup2(&actions, slave.get(), fd);
    pid_t pid = -1;
    if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    return pid;
  }
  // spawn(), then what the terminal showed until the client exited (killed after `limit`; a
  // terminal whose output was suspended is resumed for that).
  std::string run(std::vector<std::string> args, int* status, std::chrono::seconds limit = std::chrono::seconds(60)) {
    pid_t pid = spawn(std::move(args));
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string out;
    for (;;) {
      pollfd p{master.get(), POLLIN, 0};
      char buf[256];
      if (::poll(&p, 1, 200) == 1) {
        ssize_t n = ::read(master.get(), buf, sizeof buf);
        if (n > 0) out.append(buf, static_cast<size_t>(n));
      } else if (pid < 0 || waitpid(pid, status, WNOHANG) == pid) {
        return out;
      } else if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        tcflow(slave.get(), TCOON);
        out += "[client killed after " + std::to_string(limit.count()) + " s]";
      }
    }
  }
};

TEST_F(PtyCall, TheJailsTerminalHasTheSizeOfTheClientsOwn) {
  auto cst = job_token("job-pty-size");
  auto t = Terminal::open(41, 133);
  ASSERT_TRUE(t.slave);
  int status = -1;
  auto out = t.run(run_args("job-pty-size", cst, {"--pty", "--", "/bin/stty", "size"}), &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << " " << out;
  EXPECT_NE(out.find("41 133\r\n"), std::string::npos) << out;
  // Without a terminal of its own the client asks for none: the jail's is 24x80.
  auto c = clawjail(run_args("job-pty-size", cst, {"--pty", "--", "/bin/stty", "size"}));
  EXPECT_EQ(c.out, "24 80\r\n") << c.err;
}

// From a terminal of its own, the client puts it in raw mode for the call (a key reaches the jail
// without Enter, as over ssh) and restores it afterwards.
TEST_F(PtyCall, ClientTerminalIsRawDuringTheCallAndRestoredAfter) {
  auto cst = job_token("job-pty-raw");
  auto terminal = Terminal::open(24, 80);
  const UniqueFd& master = terminal.master;
  const UniqueFd& slave = terminal.slave;
  ASSERT_TRUE(slave);
  termios before{};
  ASSERT_EQ(tcgetattr(slave.get(), &before), 0);
  ASSERT_TRUE(before.c_lflag & ICANON);
  pid_t pid = terminal.spawn(run_args("job-pty-raw", cst, {"--pty", "--", "/bin/sh", "-c", "stty raw -echo; echo ready; head -c 1 >/dev/null; stty sane; echo got-one"}));
  ASSERT_GT(pid, 0);
  // Raw once the client has switched: then one key, no Enter, is enough.
  termios t{};
  for (int i = 0; i < 500 && tcgetattr(slave.get(), &t) == 0 && (t.c_lflag & ICANON); ++i) usleep(10000);
  EXPECT_FALSE(t.c_lflag & ICANON);
  std::string out;
  auto read_until = [&](const std::string& what) {
    for (int i = 0; i < 100 && out.find(what) == std::string::npos; ++i) {
      pollfd p{master.get(), POLLIN, 0};
      char buf[256];
      ssize_t n = ::poll(&p, 1, 100) == 1 ? ::read(master.get(), buf, sizeof buf) : 0;
      if (n > 0) out.append(buf, static_cast<size_t>(n));
    }
  };
  read_until("ready");  // the jail's terminal is raw too: the key is not held for a line there
  ASSERT_EQ(::write(master.get(), "x", 1), 1);
  read_until("got-one");
  EXPECT_NE(out.find("got-one"), std::string::npos) << out;
  if (out.find("got-one") == std::string::npos) ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  termios after{};
  ASSERT_EQ(tcgetattr(slave.get(), &after), 0);
  EXPECT_TRUE(after.c_lflag & ICANON);
  EXPECT_TRUE(after.c_lflag & ECHO) << out;
}

// Without --pty the client's terminal is never the jail's: stdin comes through a pipe of the
// supervisor's like stdout and stderr, so what the jail writes reaches the terminal only through
// the relay (and is counted), and the terminal's modes, size and flow control stay the caller's.
TEST_F(PtyCall, WithoutPtyTheClientsTerminalIsOutOfReach) {
  auto cst = job_token("job-tty-reach");
  auto terminal = Terminal::open(24, 80);
  ASSERT_TRUE(terminal.slave);
  termios before{};
  winsize size_before{};
  ASSERT_EQ(tcgetattr(terminal.slave.get(), &before), 0);
  ASSERT_EQ(::ioctl(terminal.slave.get(), TIOCGWINSZ, &size_before), 0);
  const std::string script =
      "echo visible; echo via-dev-stdin >/dev/stdin; echo via-fd0 >&0; echo via-proc >/proc/self/fd/0; "
      "stty -echo -icanon rows 3 cols 7; stty -echo -icanon rows 3 cols 7 <&1; "
      "perl -e 'for my $fh (\\*STDIN, \\*STDOUT, \\*STDERR) { my $size = pack(q(S4), 3, 7, 0, 0); "
      "my $modes = pack(q(x60)); ioctl($fh, 0x5414, $size); ioctl($fh, 0x5402, $modes); ioctl($fh, 0x540A, 0) }'; "
      "echo done";  // TIOCSWINSZ, TCSETS (every mode off), TCXONC TCOOFF (output suspended)
  int status = -1;
  auto out = terminal.run(run_args("job-tty-reach", cst, {"--", "/bin/sh", "-c", script}), &status,
                          std::chrono::seconds(20));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << " " << out;
  EXPECT_NE(out.find("visible"), std::string::npos) << out;
  EXPECT_NE(out.find("done"), std::string::npos) << out;
  termios after{};
  winsize size_after{};
  ASSERT_EQ(tcgetattr(terminal.slave.get(), &after), 0);
  ASSERT_EQ(::ioctl(terminal.slave.get(), TIOCGWINSZ, &size_after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
  EXPECT_EQ(after.c_oflag, before.c_oflag);
  EXPECT_EQ(after.c_cflag, before.c_cflag);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(after.c_cc), NCCS), std::string(reinterpret_cast<char*>(before.c_cc), NCCS));
  EXPECT_EQ(size_after.ws_row, size_before.ws_row);
  EXPECT_EQ(size_after.ws_col, size_before.ws_col);
  // Every byte the terminal showed came through the relay (the terminal writes \n as \r\n).
  std::string shown;
  for (size_t i = 0; i < out.size(); ++i)
    if (!(out[i] == '\r' && i + 1 < out.size() && out[i + 1] == '\n')) shown += out[i];
  auto r = receipts("job-tty-reach");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["result"]["stdout_bytes"].get<size_t>() + r[1]["result"]["stderr_bytes"].get<size_t>(), shown.size())
      << shown;
  EXPECT_EQ(shown.find("via-"), std::string::npos) << shown;
}

}  // namespace
}  // namespace clawjail::test
