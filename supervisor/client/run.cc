// clawjail run --job J --cst-file F [--wpc HASH] … -- CMD [ARG…]
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>

#include "supervisor/client/client.h"
#include "supervisor/common/commands.h"

namespace clawjail::cli {
namespace {

struct RunFlags {
  client::CallFlags call;
  std::string tool = "exec", workdir = "/workspace";
  int64_t timeout_ms = 0;
  std::vector<std::string> env, command;
  bool shell = false, pty = false, elevated = false, background = false;
};

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

proto::ExecArgs exec_args(const RunFlags& f) {
  proto::ExecArgs e;
  if (f.shell) e.command = join(f.command);
  else e.argv = f.command;
  e.workdir = f.workdir;
  for (const auto& kv : f.env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) die("run", "--env wants KEY=VALUE, got " + kv, 2);
    e.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (f.timeout_ms > 0) e.timeout_ms = f.timeout_ms;
  e.pty = f.pty;
  // The jail's terminal starts at the size of ours. A resize during the call is not passed on:
  // after its request the client sends nothing (docs/protocol.md).
  if (winsize ws{}; f.pty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
    e.pty_size = proto::PtySize{std::min<int>(ws.ws_row, 1000), std::min<int>(ws.ws_col, 1000)};
  e.elevated = f.elevated;
  e.background = f.background;
  return e;
}

// With --pty from a terminal of our own, the jail's terminal does the line editing, echo and
// signal keys: ours goes raw for the call, and is restored before any exit.
class RawTerminal {
 public:
  explicit RawTerminal(bool wanted) {
    if (!wanted || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    cfmakeraw(&raw);
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() { restore(); }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  void restore() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    active_ = false;
  }
 private:
  termios saved_{};
  bool active_ = false;
};

void run(const RunFlags& f) {
  auto r = client::call_request("run", f.call, f.tool);
  r.exec = exec_args(f);
  // Resolved before the terminal goes raw, so that a configuration error reads normally.
  auto socket = client::resolve_socket(f.call.socket, f.call.config);
  int fds[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  RawTerminal terminal(f.pty);
  auto response = client::call(socket, r, fds);
  terminal.restore();
  if (!response) die("run", response.error().detail, kExitSupervisor);
  exit_with(client::report("run", *response));
}

const CommandRegistrar kRun("run", [](CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  auto* sub = app.add_subcommand("run", "One tool call through the supervisor; stdin/stdout/stderr are the "
                                        "command's own. Exit: the command's status, 128+N on signal N, 124 "
                                        "timeout, 126 blocked, 125 supervisor unreachable or failed");
  client::add_call_flags(*sub, f->call, false);
  sub->add_option("--tool", f->tool, "tool name (exec)")->check(CLI::IsMember({"exec"}));
  sub->add_option("--workdir", f->workdir, "working directory inside the jail");
  sub->add_option("--timeout-ms", f->timeout_ms, "shorter timeout than the WPC's")->check(CLI::PositiveNumber);
  // One value per --env: a vector option would otherwise swallow the "--" before CMD.
  sub->add_option("--env", f->env, "KEY=VALUE for the command's environment (repeatable)")->allow_extra_args(false);
  sub->add_flag("--shell", f->shell, "run the words of CMD as one /bin/sh -c command");
  sub->add_flag("--pty", f->pty, "give the command a terminal (the size of ours when we run on one, else 24x80)");
  sub->add_flag("--elevated", f->elevated, "ask for elevated mode (blocked unless the WPC enables it)");
  sub->add_flag("--background", f->background,
                "a background call: needs the WPC's process scope; it lives up to sandbox.limits.background_ms "
                "while this client stays connected");
  sub->add_option("command", f->command, "CMD [ARG…] after --")->required();
  sub->callback([f] { run(*f); });
});

}  // namespace
}  // namespace clawjail::cli
