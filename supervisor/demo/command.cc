// clawjail demo: a throw-away installation, a real supervisor, real calls through the real
// client, the receipts they left and the verdict on the job's proof bundle.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <unistd.h>

#include <functional>
#include <iostream>
#include <thread>

#include "policy/encoding.h"
#include "policy/json.h"
#include "base/unique_fd.h"
#include "receipts/receipts.h"
#include "supervisor/client/client.h"
#include "supervisor/common/commands.h"
#include "supervisor/common/subprocess.h"
#include "supervisor/demo/world.h"

namespace clawjail::cli {
namespace {

using policy::Json;
namespace fs = std::filesystem;

struct DemoFlags {
  bool keep = false;
};

struct Step {
  std::string what;                 // plain words for a newcomer
  std::vector<std::string> args;    // after `clawjail`
  std::string expect;               // what should happen, in words
  std::function<bool(const Captured&)> ok;
};

struct Demo {
  demo::World world;
  std::string main_wpc, locked_wpc;
  fs::path main_cst, locked_cst;
  pid_t supervisor = -1;
  int failures = 0;
};

std::string short_hash(const std::string& h) { return h.substr(0, 12) + "…"; }

void indent(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::cout << "      | " << text.substr(start, end - start) << "\n";
    start = end + 1;
  }
}

void check(Demo& d, bool ok, const std::string& what) {
  std::cout << "    " << (ok ? "ok: " : "UNEXPECTED: ") << what << "\n";
  if (!ok) ++d.failures;
}

void setup(Demo& d) {
  char tmpl[] = "/tmp/clawjail-demo-XXXXXX";
  if (!::mkdtemp(tmpl)) die("demo", "cannot create a temporary directory", 1);
  auto world = demo::create_world(tmpl);
  if (!world) die("demo", world.error().detail, 1);
  d.world = std::move(world.value());
  auto& w = d.world;
  demo::WpcOptions main_policy, locked_policy;
  main_policy.policy_id = "demo";
  locked_policy.policy_id = "demo-locked";
  locked_policy.allow_exec = false;
  auto main = demo::install_wpc(w, demo::wpc_payload(w, main_policy));
  auto locked = demo::install_wpc(w, demo::wpc_payload(w, locked_policy));
  if (!main || !locked) die("demo", "cannot install the demo WPCs: " + (main ? locked.error() : main.error()).detail, 1);
  d.main_wpc = *main;
  d.locked_wpc = *locked;
  d.main_cst = w.root / "demo-job.cst";
  d.locked_cst = w.root / "demo-locked-job.cst";
  (void)demo::write_file(d.main_cst, demo::issue_token(w, {.job = "demo-job", .policy_hash_b64u = d.main_wpc}));
  (void)demo::write_file(d.locked_cst, demo::issue_token(w, {.job = "demo-locked-job", .policy_hash_b64u = d.locked_wpc}));
  std::cout << "1. A throw-away installation in " << w.root.string() << "\n"
            << "   keys:   supervisor " << w.supervisor_key->did() << "\n"
            << "           WPC signer " << w.signer_key->did() << "\n"
            << "           CST issuer " << w.issuer_key->did() << " (kid " << w.issuer_kid << ")\n"
            << "   policy \"demo\"        " << short_hash(d.main_wpc)
            << "  exec allowed; docker_socket and elevated denied; workspace read-write\n"
            << "   policy \"demo-locked\" " << short_hash(d.locked_wpc) << "  exec denied\n"
            << "   tokens: job demo-job pinned to \"demo\", job demo-locked-job pinned to \"demo-locked\"\n\n";
}

bool socket_answers(const fs::path& path) { return static_cast<bool>(client::connect_unix(path)); }

void start_supervisor(Demo& d) {
  auto log = d.world.root / "supervisor.log";
  UniqueFd fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  auto pid = spawn_logged({self_executable().string(), "serve", "--config", d.world.config_path.string()}, fd.get());
  if (!pid) die("demo", pid.error().detail, 1);
  d.supervisor = *pid;
  for (int i = 0; i < 100 && !socket_answers(d.world.socket); ++i) {
    int status;
    if (::waitpid(d.supervisor, &status, WNOHANG) == d.supervisor)
      die("demo", "the supervisor did not start; its log " + log.string() + " says why", 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cout << "2. Supervisor started: clawjail serve --config " << d.world.config_path.string() << " (pid "
            << d.supervisor << ", log " << log.string() << ")\n\n";
}

std::vector<Step> steps(const Demo& d) {
  auto run = [&](std::string job, fs::path cst, std::vector<std::string> tail) {
    std::vector<std::string> a = {"run", "--socket", d.world.socket.string(), "--job", job, "--cst-file", cst.string(),
                                  "--workspace", d.world.workspace.string()};
    a.insert(a.end(), tail.begin(), tail.end());
    return a;
  };
  auto text_file = d.world.workspace / "hello.txt";
  return {
      {"a command that succeeds", run("demo-job", d.main_cst, {"--", "/bin/sh", "-c", "echo hello from inside the jail; echo I am uid $(id -u) in $(pwd)"}),
       "runs, exit 0", [](const Captured& c) { return c.exit_code == 0 && c.out.find("hello from inside") != std::string::npos; }},
      {"a command that writes a file into the workspace",
       run("demo-job", d.main_cst, {"--shell", "--", "echo written in the jail > /workspace/hello.txt"}),
       "exit 0, and the file appears in the host workspace",
       [text_file](const Captured& c) { return c.exit_code == 0 && fs::exists(text_file); }},
      {"the file tool reads it back (no process is started for file tools)",
       {"fs", "--socket", d.world.socket.string(), "--job", "demo-job", "--cst-file", d.main_cst.string(), "--workspace",
        d.world.workspace.string(), "read", "hello.txt"},
       "exit 0, the file's text", [](const Captured& c) { return c.exit_code == 0 && c.out == "written in the jail\n"; }},
      {"a command that tries to read the host's /etc/shadow", run("demo-job", d.main_cst, {"--", "/bin/cat", "/etc/shadow"}),
       "fails inside the jail: the host's /etc is not there",
       [](const Captured& c) { return c.exit_code != 0 && c.exit_code < kExitTimeout; }},
      {"a second job, whose policy denies exec", run("demo-locked-job", d.locked_cst, {"--", "/bin/true"}),
       "blocked before anything starts (exit 126)",
       [](const Captured& c) { return c.exit_code == kExitBlocked && c.err.find("clawjail: blocked: ") != std::string::npos; }},
      {"a request for elevated (host) execution", run("demo-job", d.main_cst, {"--elevated", "--", "/bin/true"}),
       "blocked: the policy does not enable elevated mode (exit 126)",
       [](const Captured& c) { return c.exit_code == kExitBlocked && c.err.find("ELEVATED_DENIED") != std::string::npos; }},
  };
}

void run_steps(Demo& d) {
  std::cout << "3. Tool calls through the supervisor (each: token checked, policy decided, receipts signed)\n";
  int n = 0;
  for (const auto& step : steps(d)) {
    std::cout << "\n  3." << ++n << " " << step.what << "\n    $ clawjail";
    for (const auto& a : step.args) std::cout << " " << (a.find(' ') != std::string::npos ? "'" + a + "'" : a);
    std::cout << "\n";
    std::vector<std::string> argv = {self_executable().string()};
    argv.insert(argv.end(), step.args.begin(), step.args.end());
    auto c = run_captured(argv, {}, std::chrono::seconds(60));
    if (!c) die("demo", c.error().detail, 1);
    if (!c->out.empty()) indent(c->out);
    if (!c->err.empty()) indent(c->err);
    std::cout << "    exit " << c->exit_code << "\n";
    check(d, step.ok(*c), step.expect);
  }
  std::cout << "\n";
}

std::string receipt_line(const Json& envelope) {
  auto bytes = policy::b64_decode(envelope.value("payload", ""));
  if (!bytes) return "(unreadable receipt)";
  auto p = Json::parse(*bytes, nullptr, false);
  if (!p.is_object()) return "(unreadable receipt)";
  std::string line = "seq " + std::to_string(p.value("seq", -1)) + "  " + p.value("phase", "") + "  " +
                     p.value("tool", "") + "  " + p.value("decision", "") + "  " + p.value("reason_code", "");
  if (p.contains("result") && p["result"].is_object())
    line += "  " + p["result"].value("status", "") + " exit " + p["result"].value("exit_code", Json()).dump();
  else if (p.value("decision", "") == "blocked")
    line += "  (" + p.value("reason", "") + ")";
  return line;
}

void show_receipts(Demo& d, const std::string& job, size_t expected) {
  auto log = receipts::read_job_log(d.world.state_dir, job);
  if (!log) return check(d, false, "receipts of " + job + ": " + log.error().detail);
  std::cout << "   job " << job << " (" << (d.world.state_dir / "receipts" / (job + ".log")).string() << ")\n";
  for (const auto& e : log->envelopes) std::cout << "     " << receipt_line(e) << "\n";
  check(d, log->envelopes.size() == expected, std::to_string(expected) + (expected == 1 ? " signed receipt" : " signed receipts") + ", one per decision");
}

void verify_bundle(Demo& d) {
  auto& w = d.world;
  receipts::ExportOptions options;
  options.job_id = "demo-job";
  auto bundle = receipts::export_bundle(w.state_dir, *w.supervisor_key, options);
  if (!bundle) return check(d, false, "bundle export: " + bundle.error().detail);
  auto path = w.root / "demo-job.bundle.json";
  (void)demo::write_file(path, bundle->dump(2) + "\n", 0644);
  auto verdict = receipts::verify_bundle(*bundle, {w.supervisor_key->did()});
  std::cout << "5. Proof bundle of job demo-job: " << path.string() << "\n"
            << "   $ clawjail bundle verify " << path.string() << " --trust " << w.supervisor_key->did() << "\n"
            << "   " << verdict.line() << " (" << verdict.receipts << " receipts)\n";
  check(d, verdict.pass, "the bundle verifies offline against the supervisor's key");
}

void stop_supervisor(Demo& d) {
  if (d.supervisor <= 0) return;
  ::kill(d.supervisor, SIGTERM);
  int code = wait_exit_code(d.supervisor);
  d.supervisor = -1;
  std::cout << "\n6. Supervisor stopped (SIGTERM)\n";
  check(d, code == 0, "it drained and exited cleanly");
}

void demo_main(const DemoFlags& flags) {
  std::cout << "clawjail demo: a supervisor, two signed policies, job tokens and real tool calls.\n\n";
  Demo d;
  setup(d);
  start_supervisor(d);
  run_steps(d);
  std::cout << "4. The receipts the supervisor signed (seq, phase, tool, decision, reason, result)\n";
  show_receipts(d, "demo-job", 9);
  show_receipts(d, "demo-locked-job", 1);
  std::cout << "\n";
  verify_bundle(d);
  stop_supervisor(d);
  if (flags.keep) std::cout << "\nEverything is kept in " << d.world.root.string() << "\n";
  else std::filesystem::remove_all(d.world.root);
  if (d.failures) {
    std::cout << "\n" << d.failures << " step(s) did not behave as expected.\n";
    exit_with(1);
  }
  std::cout << "\nEverything behaved as expected.\n";
  exit_with(0);
}

const CommandRegistrar kDemo("demo", [](CLI::App& app) {
  auto flags = std::make_shared<DemoFlags>();
  auto* sub = app.add_subcommand("demo", "The main job on a throw-away installation: supervisor, keys, WPCs, CSTs, "
                                         "real calls, receipts and a verified bundle. Exit 0 when all behaved as expected");
  sub->add_flag("--keep", flags->keep, "keep the temporary directory (keys, logs, receipts, bundle)");
  sub->callback([flags] { demo_main(*flags); });
});

}  // namespace
}  // namespace clawjail::cli
