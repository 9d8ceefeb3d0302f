// By-hand benchmark (not a test): latency of `clawjail run -- /bin/true` through a running
// supervisor next to bwrap and plain /bin/true, throughput with concurrent clients, the
// supervisor's memory and descriptors across many calls, and file tool operations (stat, read,
// write of a small file) at the supervisor's socket next to the same operation by bwrap and on the
// host. Ends with a summary against the targets of docs/performance.md; `--json FILE` keeps every
// figure. `clawjail_bench --help` lists the options.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>
#include <tuple>

#include <CLI/CLI.hpp>

#include "policy/json.h"
#include "receipts/receipts.h"
#include "supervisor/client/client.h"
#include "supervisor/common/commands.h"
#include "supervisor/common/subprocess.h"
#include "supervisor/demo/world.h"
#include "tests/common/journald.h"

extern char** environ;

namespace {

using namespace clawjail;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

using policy::Json;

struct Options {
  int samples = 200, clients = 8, seconds = 10, leak_calls = 10000, fs_samples = 100;
  std::string only = "all", json_path, binary = CLAWJAIL_BINARY;
  bool exec() const { return only != "fs"; }
  bool files() const { return only != "exec"; }
};

// A command timed by `measure`, and the exit code that means it did what it is timed for.
struct Cmd {
  std::vector<std::string> args;
  int expect = 0;
  std::string stdin_path = "/dev/null";
};

// Spawns argv with all output to /dev/null and returns its exit code.
int quiet(const std::vector<std::string>& args, const std::string& stdin_path = "/dev/null") {
  posix_spawn_file_actions_t a;
  posix_spawn_file_actions_init(&a);
  posix_spawn_file_actions_addopen(&a, 0, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&a, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&a, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv;
  for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &a, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&a);
  return rc == 0 ? wait_exit_code(pid) : -1;
}

struct Stats {
  double p50, p99, mean;
  Json json() const { return {{"p50_ms", p50}, {"p99_ms", p99}, {"mean_ms", mean}}; }
};
Stats stats_of(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double v : ms) sum += v;
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], sum / ms.size()};
}

// One timed run, in ms; a command that does not exit as expected ends the benchmark.
double time_once(const Cmd& cmd) {
  auto t0 = Clock::now();
  int code = quiet(cmd.args, cmd.stdin_path);
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (code != cmd.expect) {
    std::cerr << "bench: " << cmd.args[0] << " exited " << code << ", not " << cmd.expect << "\n";
    std::exit(1);
  }
  return ms;
}

std::vector<Stats> stats_of_each(std::vector<std::vector<double>> ms) {
  std::vector<Stats> out;
  for (auto& m : ms) out.push_back(stats_of(std::move(m)));
  return out;
}

// The commands take turns, sample by sample: a machine that slows down for a while slows all of
// them alike, and the ratios stay comparable. With a pause after each sample, what a command
// leaves to finish in the background (the supervisor's next jail, the kernel's namespace
// teardown) is done before the next one is timed, as between an agent's calls.
// One sample of something timed, in ms; it ends the benchmark when what it times fails.
using Timer = std::function<double()>;

std::vector<Stats> measure(const std::vector<Timer>& timers, int samples, std::chrono::milliseconds pause) {
  for (int i = 0; i < 10; ++i)
    for (const auto& t : timers) t(), std::this_thread::sleep_for(pause);  // warm caches
  std::vector<std::vector<double>> ms(timers.size());
  for (int i = 0; i < samples; ++i)
    for (size_t c = 0; c < timers.size(); ++c) {
      ms[c].push_back(timers[c]());
      std::this_thread::sleep_for(pause);
    }
  return stats_of_each(std::move(ms));
}
std::vector<Stats> measure(const std::vector<Cmd>& commands, int samples, std::chrono::milliseconds pause) {
  std::vector<Timer> timers;
  for (const auto& c : commands) timers.push_back([c] { return time_once(c); });
  return measure(timers, samples, pause);
}

// Back to back: each command runs in blocks of consecutive samples, so that every sample pays
// for what the previous run of the *same* command left in the background; the blocks alternate
// so that a slow spell of the machine hits both commands alike.
std::vector<Stats> measure_back_to_back(const std::vector<Cmd>& commands, int samples) {
  constexpr int kBlock = 25;
  std::vector<std::vector<double>> ms(commands.size());
  for (int done = 0; done < samples; done += kBlock)
    for (size_t c = 0; c < commands.size(); ++c) {
      quiet(commands[c].args);  // the first of a block would follow the other command
      for (int i = 0; i < std::min(kBlock, samples - done); ++i) ms[c].push_back(time_once(commands[c]));
    }
  return stats_of_each(std::move(ms));
}

// What durability alone costs here: a receipt-sized append made durable, in the state
// directory's file system. Every call waits for two of them (`started` and `finished`). Spaced
// like the calls, since a disk left idle for a while answers later than one kept busy.
Stats fdatasync_cost(const fs::path& dir, int samples, std::chrono::milliseconds pause) {
  auto path = dir / "bench-fdatasync.probe";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0600));
  std::string line(700, 'x');
  line.back() = '\n';
  std::vector<double> ms;
  for (int i = 0; i < samples; ++i) {
    auto t0 = Clock::now();
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fdatasync(fd.get()) != 0)
      return {0, 0, 0};
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    std::this_thread::sleep_for(pause);
  }
  fs::remove(path);
  return stats_of(std::move(ms));
}

struct ProcUsage {
  long rss_kb = 0;
  long fds = 0;
};
ProcUsage usage(pid_t pid) {
  ProcUsage u;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) u.rss_kb = std::stol(line.substr(6));
  for ([[maybe_unused]] auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++u.fds;
  return u;
}

bool socket_answers(const fs::path& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
}

// The whole machine's CPU time from /proc/stat, in ms: every process and kernel thread (a jail's
// namespace teardown runs in kworkers), the load driver included.
struct MachineCpu {
  double busy_ms = 0, idle_ms = 0;
  static MachineCpu now() {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
    stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq;
    const double ms_per_tick = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
    return {(user + nice + system + irq + softirq) * ms_per_tick, (idle + iowait) * ms_per_tick};
  }
};

struct Throughput {
  long calls = 0, failures = 0;
  MachineCpu cpu;  // used during the run
  double per_second(const Options& o) const { return double(calls) / o.seconds; }
  double cpu_ms_per_call() const { return calls ? cpu.busy_ms / double(calls) : 0; }
  double idle_share() const { return cpu.idle_ms / (cpu.idle_ms + cpu.busy_ms); }
};
// `clients` threads run their command back to back for `seconds`.
template <typename ArgsOf>
Throughput throughput(const Options& o, ArgsOf args_of) {
  std::atomic<long> calls{0}, failures{0};
  const MachineCpu start = MachineCpu::now();
  auto deadline = Clock::now() + std::chrono::seconds(o.seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t)
    threads.emplace_back([&, t] {
      auto args = args_of(t);
      while (Clock::now() < deadline) (quiet(args) == 0 ? calls : failures)++;
    });
  for (auto& t : threads) t.join();
  const MachineCpu end = MachineCpu::now();
  return {calls.load(), failures.load(), {end.busy_ms - start.busy_ms, end.idle_ms - start.idle_ms}};
}

void add_options(CLI::App& app, Options& o) {
  auto positive = CLI::Range(1, 1000000);
  app.add_option("--samples", o.samples, "latency samples of each command")->capture_default_str()->check(positive);
  app.add_option("--clients", o.clients, "concurrent clients for throughput")->capture_default_str()->check(positive);
  app.add_option("--seconds", o.seconds, "seconds of throughput per command")->capture_default_str()->check(positive);
  app.add_option("--leak-calls", o.leak_calls, "calls between the two memory and descriptor readings")
      ->capture_default_str()
      ->check(positive);
  app.add_option("--fs-samples", o.fs_samples, "latency samples of each file operation and peer")
      ->capture_default_str()
      ->check(positive);
  app.add_option("--only", o.only, "what to measure: all, exec (run, throughput, memory) or fs (file operations)")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "exec", "fs"}));
  app.add_option("--clawjail", o.binary, "the clawjail binary to measure (another build, for a before/after)")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  app.add_option("--json", o.json_path, "also write every figure, the targets and the machine's load to FILE");
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// A target of docs/performance.md: `value` against `limit` (at most, or at least).
struct Target {
  std::string name, peer;
  double value, limit;
  bool at_least;
  std::string unit;
  bool pass() const { return at_least ? value >= limit : value <= limit; }
  Json json() const {
    return {{"target", name}, {"value", value}, {"limit", limit}, {"at_least", at_least},
            {"unit", unit}, {"peer", peer}, {"pass", pass()}};
  }
};

// Everything one run sets up: the supervisor, its world, and the commands' arguments.
struct Bench {
  Options o;
  std::string bin;
  demo::World w;
  std::string wpc;
  pid_t sup = -1;
  Json out = Json::object();
  std::vector<Target> targets;

  fs::path cst_of(const std::string& job) {
    auto cst = w.root / (job + ".cst");
    if (!fs::exists(cst)) (void)demo::write_file(cst, demo::issue_token(w, {.job = job, .policy_hash_b64u = wpc}));
    return cst;
  }
  std::vector<std::string> run_args(const std::string& job, const fs::path& socket) {
    return {bin,      "run", "--socket", socket.string(), "--job", job, "--cst-file", cst_of(job).string(),
            "--workspace", w.workspace.string(), "--", "/bin/true"};
  }
  std::vector<std::string> fs_args(const std::string& job, std::vector<std::string> op) {
    std::vector<std::string> a = {bin,         "fs",           "--socket", w.socket.string(), "--job", job, "--cst-file",
                                  cst_of(job).string(), "--workspace", w.workspace.string()};
    a.insert(a.end(), op.begin(), op.end());
    return a;
  }
  // bwrap with every namespace, /usr read-only and the workspace bound read-write.
  std::vector<std::string> bwrap(std::vector<std::string> command) const {
    std::vector<std::string> a = {"/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                                  "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink",
                                  "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--proc", "/proc",
                                  "--dev", "/dev", "--tmpfs", "/tmp"};
    if (!command.empty() && command[0] != "/usr/bin/true") a.insert(a.end(), {"--bind", w.workspace.string(), "/workspace"});
    a.insert(a.end(), command.begin(), command.end());
    return a;
  }
};

void exec_latency(Bench& b) {
  const auto& o = b.o;
  auto bwrap = b.bwrap({"/usr/bin/true"});
  // The client alone: started, its CST read, a connection refused (no socket there), an exit.
  auto client_alone = b.run_args("bench-latency", b.w.root / "absent.sock");
  const auto pause = std::chrono::milliseconds(20);
  std::printf("latency, %d samples each, taking turns, 20 ms apart (ms) p50  p99   mean\n", o.samples);
  auto lat = measure(std::vector<Cmd>{{{"/bin/true"}}, {client_alone, kExitSupervisor}, {bwrap},
                                      {b.run_args("bench-latency", b.w.socket)}},
                     o.samples, pause);
  auto [plain, client, bw, cj] = std::tuple{lat[0], lat[1], lat[2], lat[3]};
  // Back to back, each call arrives while the supervisor is still busy after the last one.
  auto b2b_pair = measure_back_to_back({{bwrap}, {b.run_args("bench-latency", b.w.socket)}}, o.samples);
  auto [bw_b2b, b2b] = std::pair{b2b_pair[0], b2b_pair[1]};
  auto sync = fdatasync_cost(b.w.state_dir, o.samples, pause);
  auto hot_sync = fdatasync_cost(b.w.state_dir, o.samples, std::chrono::milliseconds(0));
  Json& j = b.out["exec_latency"];
  for (auto [name, s] : {std::pair{"/bin/true", plain}, {"bwrap --unshare-all … true", bw}, {"clawjail run -- /bin/true", cj},
                         {"bwrap, back to back", bw_b2b}, {"clawjail, back to back", b2b}, {"(clawjail run, no supervisor there)", client},
                         {"(a receipt-sized fdatasync, spaced)", sync}, {"(the same, back to back)", hot_sync}}) {
    std::printf("  %-36s %7.2f  %7.2f  %7.2f\n", name, s.p50, s.p99, s.mean);
    j[name] = s.json();
  }
  std::printf("  ratio clawjail/bwrap p50 %.2fx, p99 %.2fx (back to back p50 %.2fx); clawjail/true p50 %.1fx\n",
              cj.p50 / bw.p50, cj.p99 / bw.p99, b2b.p50 / bw_b2b.p50, cj.p50 / plain.p50);
  // What no supervisor can avoid, by p50: the client's own start, the command itself, and two
  // durable receipts; the rest is the supervisor's (admission, signing, jail hand-over, waking).
  double floor = client.p50 + plain.p50 + 2 * sync.p50;
  std::printf("  of clawjail's p50: client start %.2f + /bin/true %.2f + two fdatasyncs %.2f = %.2f ms floor "
              "(%.2fx bwrap); the supervisor's own share %.2f ms; 0.7x bwrap is %.2f ms\n\n",
              client.p50, plain.p50, 2 * sync.p50, floor, floor / bw.p50, cj.p50 - floor, 0.7 * bw.p50);
  auto peer = [](const char* what, double bw_ms, double cj_ms) {
    char s[160];
    std::snprintf(s, sizeof s, "%s: clawjail %.2f ms, bwrap %.2f ms", what, cj_ms, bw_ms);
    return std::string(s);
  };
  b.targets.push_back({"exec p50 latency, spaced (x bwrap)", peer("p50", bw.p50, cj.p50), cj.p50 / bw.p50, 0.75, false, "x"});
  b.targets.push_back({"exec p99 latency, spaced (x bwrap)", peer("p99", bw.p99, cj.p99), cj.p99 / bw.p99, 1.0, false, "x"});
}

void exec_throughput(Bench& b) {
  const auto& o = b.o;
  // The peer under the same load first, so that both see the same machine.
  auto bwrap = b.bwrap({"/usr/bin/true"});
  std::vector<std::vector<std::string>> args;
  for (int t = 0; t < o.clients; ++t) args.push_back(b.run_args("bench-tput-" + std::to_string(t), b.w.socket));
  auto peer = throughput(o, [&](int) { return bwrap; });
  auto tput = throughput(o, [&](int t) { return args[t]; });
  long calls = tput.calls;
  std::printf("throughput, %d clients for %d s each:\n", o.clients, o.seconds);
  std::printf("  %-36s %7.1f calls/s, %ld failed\n", "bwrap --unshare-all … true", peer.per_second(o), peer.failures);
  std::printf("  %-36s %7.1f calls/s, %ld failed\n", "clawjail run -- /bin/true", tput.per_second(o), tput.failures);
  std::printf("  ratio clawjail/bwrap %.2fx\n", tput.per_second(o) / peer.per_second(o));
  // Throughput is CPU per call once the machine is busy: 400 calls/s fits only under n_cpus / 400 s.
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::printf("  machine CPU per call (all processes, driver included): bwrap %.2f ms (idle %.0f%%), clawjail "
              "%.2f ms (idle %.0f%%), %.2fx; 400 calls/s on %ld CPUs needs at most %.2f ms\n",
              peer.cpu_ms_per_call(), 100 * peer.idle_share(), tput.cpu_ms_per_call(), 100 * tput.idle_share(),
              tput.cpu_ms_per_call() / peer.cpu_ms_per_call(), cpus, 1000.0 * double(cpus) / 400);
  long receipts_total = 0;
  bool all_pass = true;
  for (int t = 0; t < o.clients; ++t) {
    receipts::ExportOptions eo;
    eo.job_id = "bench-tput-" + std::to_string(t);
    auto bundle = receipts::export_bundle(b.w.state_dir, *b.w.supervisor_key, eo);
    auto v = bundle ? receipts::verify_bundle(*bundle, {b.w.supervisor_key->did()}) : receipts::Verdict{};
    receipts_total += v.receipts;
    if (!v.pass) all_pass = false, std::printf("  %s: %s\n", eo.job_id.c_str(), v.line().c_str());
  }
  std::printf("  receipts %ld (expected %ld), every chain verifies: %s\n\n", receipts_total, 2 * calls,
              all_pass ? "yes" : "NO");
  auto side = [&](const Throughput& t) {
    return Json{{"calls_per_s", t.per_second(o)}, {"failed", t.failures}, {"machine_cpu_ms_per_call", t.cpu_ms_per_call()},
                {"idle_share", t.idle_share()}};
  };
  b.out["throughput"] = {{"clients", o.clients}, {"seconds", o.seconds}, {"bwrap", side(peer)}, {"clawjail", side(tput)},
                         {"receipts", receipts_total}, {"receipts_expected", 2 * calls}, {"chains_verify", all_pass}};
  char peer_line[160];
  std::snprintf(peer_line, sizeof peer_line, "clawjail %.1f calls/s, bwrap %.1f calls/s", tput.per_second(o), peer.per_second(o));
  b.targets.push_back({"exec throughput, " + std::to_string(o.clients) + " clients (x bwrap)", peer_line,
                       tput.per_second(o) / peer.per_second(o), 1.0, true, "x"});
  if (tput.failures > 0 || !all_pass || receipts_total != 2 * calls)
    b.targets.push_back({"every call succeeds with its two receipts", "", 0, 1, true, ""});
}

void supervisor_leak(Bench& b) {
  // Measured at rest: a call's jail is dropped just after its answer, and the jail built ahead
  // for the next call (with its monitor thread and descriptors) is there before and after.
  auto settled = [&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return usage(b.sup);
  };
  auto args = b.run_args("bench-leak", b.w.socket);
  quiet(args);
  auto before = settled();
  for (int i = 0; i < b.o.leak_calls; ++i) quiet(args);
  auto after = settled();
  std::printf("supervisor across %d calls: RSS %ld kB -> %ld kB, descriptors %ld -> %ld\n\n", b.o.leak_calls,
              before.rss_kb, after.rss_kb, before.fds, after.fds);
  b.out["supervisor_at_rest"] = {{"calls", b.o.leak_calls}, {"rss_kb_before", before.rss_kb}, {"rss_kb_after", after.rss_kb},
                                 {"fds_before", before.fds}, {"fds_after", after.fds}};
}

// The file operations OpenClaw's file tools make most (stat, read, write of a small file), each
// done four ways taking turns: in this process on the host (what OpenClaw does with its sandbox
// off), by bwrap with the workspace bound, through the supervisor's socket by an in-process
// client (the operation at the supervisor: admission, two receipts, the file tool's confinement),
// and by the `clawjail fs` client process (what the OpenClaw plugin spawns).
constexpr size_t kSmallFile = 1024;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

[[noreturn]] void die(const std::string& what) {
  std::cerr << "bench: " << what << "\n";
  std::exit(1);
}

// The host's own operation, as the file tool does it (a write is made durable, as the file
// tool's is).
Timer host_op(const std::string& op, const fs::path& ws) {
  return [op, small = ws / "bench-small.txt", out = ws / "bench-out-host.txt"] {
    auto t0 = Clock::now();
    char buf[kSmallFile + 1];
    struct stat st;
    if (op == "stat") {
      if (::lstat(small.c_str(), &st) != 0) die("host stat: " + std::string(strerror(errno)));
    } else if (op == "read") {
      UniqueFd fd(::open(small.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd || ::read(fd.get(), buf, sizeof buf) != static_cast<ssize_t>(kSmallFile)) die("host read failed");
    } else {
      std::memset(buf, 'x', kSmallFile);
      UniqueFd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (!fd || ::write(fd.get(), buf, kSmallFile) != static_cast<ssize_t>(kSmallFile) || ::fsync(fd.get()) != 0)
        die("host write failed");
    }
    return ms_since(t0);
  };
}

// One `fs` call through the socket, timed from connect to the answer; `inline_data` sends it
// without descriptors (docs/protocol.md "Inline file tools"), as the OpenClaw plugin does.
Timer socket_op(Bench& b, const std::string& op, const std::string& job, bool inline_data = false) {
  proto::Request r;
  r.type = RequestType::call;
  r.job_id = job;
  r.cst = *client::read_cst_file(b.cst_of(job));
  r.wpc_hash_b64u = b.wpc;
  r.tool = op;
  r.workspace = b.w.workspace.string();
  r.fs.emplace();
  r.fs->op = from_name<FsOpKind>(op).value();
  r.fs->paths = {op == "write" ? "bench-out-socket.txt" : "bench-small.txt"};
  if (inline_data && op == "write") r.fs->data = std::string(kSmallFile, 'i');
  const fs::path socket = b.w.socket, small = b.w.workspace / "bench-small.txt";
  return [r, socket, small, op, inline_data] {
    UniqueFd in(::open(op == "write" ? small.c_str() : "/dev/null", O_RDONLY | O_CLOEXEC));
    UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    int fds[3] = {in.get(), null.get(), null.get()};
    auto t0 = Clock::now();
    auto resp = client::call(socket, r, inline_data ? std::span<const int>{} : std::span<const int>(fds));
    double ms = ms_since(t0);
    if (!resp) die("fs " + op + " through the socket: " + resp.error().detail);
    if (resp->exit_code != 0) die("fs " + op + " through the socket: " + std::string(reason_name(resp->reason)) + ": " + resp->reason_detail);
    return ms;
  };
}

// The OpenClaw plugin's own file bridge (Node, inline requests on the socket), after the others;
// the operations it made (a warm-up and the samples of each), 0 without node.
long plugin_fs_ops(Bench& b, const std::string& job) {
  const std::string node = fs::exists("/usr/bin/node") ? "/usr/bin/node" : "/usr/local/bin/node";
  if (!fs::exists(node)) {
    std::printf("  (no node: the OpenClaw plugin's figures are skipped)\n");
    return 0;
  }
  const std::string src = CLAWJAIL_SOURCE_DIR;
  auto ran = run_captured({node, src + "/tests/bench/plugin_fs.mjs", src + "/packaging/openclaw-plugin", b.w.socket.string(),
                           job, b.cst_of(job).string(), b.wpc, b.w.workspace.string(), std::to_string(b.o.fs_samples)},
                          {}, std::chrono::minutes(10));
  if (!ran || ran->exit_code != 0) die("the plugin's file bridge: " + (ran ? ran->err : ran.error().detail));
  const Json figures = Json::parse(ran->out);
  for (const std::string op : {"stat", "read", "write"}) {
    const Json& f = figures[op];
    std::printf("  %-5s %-38s %7.2f  %7.2f  %7.2f\n", op.c_str(), "OpenClaw plugin (node, inline socket)",
                f["p50_ms"].get<double>(), f["p99_ms"].get<double>(), f["mean_ms"].get<double>());
    b.out["fs"][op]["OpenClaw plugin (node, inline socket)"] = f;
  }
  return 3L * (1 + b.o.fs_samples);
}

void fs_ops(Bench& b) {
  const auto& o = b.o;
  const fs::path small = b.w.workspace / "bench-small.txt";
  if (auto s = demo::write_file(small, std::string(kSmallFile, 'a'), 0644); !s) die(s.error().detail);
  const auto pause = std::chrono::milliseconds(5);
  std::printf("file operations on a %zu-byte file, %d samples each, taking turns, 5 ms apart (ms)  p50      p99     mean\n",
              kSmallFile, o.fs_samples);
  const std::string job = "bench-fs";
  struct Way {
    const char* name;
    std::function<Timer(const std::string&)> timer;
  };
  std::vector<Way> ways = {
      {"host (this process)", [&](const std::string& op) { return host_op(op, b.w.workspace); }},
      {"bwrap (cat/stat/sh -c cat >)",
       [&](const std::string& op) -> Timer {
         if (op == "stat") return [c = Cmd{b.bwrap({"/usr/bin/stat", "/workspace/bench-small.txt"})}] { return time_once(c); };
         if (op == "read") return [c = Cmd{b.bwrap({"/usr/bin/cat", "/workspace/bench-small.txt"})}] { return time_once(c); };
         return [c = Cmd{b.bwrap({"/bin/sh", "-c", "cat > /workspace/bench-out-bwrap.txt"}), 0, small.string()}] {
           return time_once(c);
         };
       }},
      {"clawjail at the supervisor (socket)", [&](const std::string& op) { return socket_op(b, op, job); }},
      {"clawjail inline (socket, no descriptors)", [&](const std::string& op) { return socket_op(b, op, job, true); }},
      {"clawjail fs (client process)",
       [&](const std::string& op) -> Timer {
         Cmd c{b.fs_args(job, {op, op == "write" ? "bench-out-client.txt" : "bench-small.txt"}), 0,
               op == "write" ? small.string() : "/dev/null"};
         return [c] { return time_once(c); };
       }},
  };
  for (const std::string op : {"stat", "read", "write"}) {
    std::vector<Timer> timers;
    for (const auto& way : ways) timers.push_back(way.timer(op));
    auto st = measure(timers, o.fs_samples, pause);
    Json& j = b.out["fs"][op];
    for (size_t i = 0; i < ways.size(); ++i) {
      std::printf("  %-5s %-38s %7.2f  %7.2f  %7.2f\n", op.c_str(), ways[i].name, st[i].p50, st[i].p99, st[i].mean);
      j[ways[i].name] = st[i].json();
    }
    char peer[160];
    std::snprintf(peer, sizeof peer, "bwrap %.2f ms, host %.3f ms, clawjail fs process %.2f ms", st[1].p50, st[0].p50, st[4].p50);
    b.targets.push_back({"fs " + op + " p50 at the supervisor (ms)", peer, st[2].p50, 1.0, false, "ms"});
  }
  const long plugin_ops = plugin_fs_ops(b, job);
  // What no file operation at the supervisor avoids: its two receipts made durable.
  auto sync = fdatasync_cost(b.w.state_dir, o.fs_samples, pause);
  std::printf("  floor of an operation at the supervisor: two receipt-sized fdatasyncs, p50 %.2f ms (one %.2f)\n",
              2 * sync.p50, sync.p50);
  b.out["fs_floor_two_fdatasyncs_p50_ms"] = 2 * sync.p50;
  // Every operation left its two receipts in the job's chain.
  receipts::ExportOptions eo;
  eo.job_id = job;
  auto bundle = receipts::export_bundle(b.w.state_dir, *b.w.supervisor_key, eo);
  auto v = bundle ? receipts::verify_bundle(*bundle, {b.w.supervisor_key->did()}) : receipts::Verdict{};
  // 3 ops, 3 ways through the supervisor, warm-up included, and the plugin's.
  const long expected = 2L * (3 * 3 * (10 + o.fs_samples) + plugin_ops);
  std::printf("  receipts of the file operations %ld (expected %ld), the chain verifies: %s\n\n", long(v.receipts), expected,
              v.pass ? "yes" : "NO");
  b.out["fs_receipts"] = {{"receipts", v.receipts}, {"expected", expected}, {"chain_verifies", v.pass}};
  if (!v.pass || long(v.receipts) != expected) b.targets.push_back({"every file operation has its two receipts", "", 0, 1, true, ""});
}

bool summary(Bench& b) {
  bool all = true;
  std::printf("summary (targets: docs/performance.md), load average %s:\n", loadavg().c_str());
  Json& j = b.out["targets"] = Json::array();
  for (const auto& t : b.targets) {
    all = all && t.pass();
    std::printf("  %-4s %-44s %7.2f%-2s (%s %.2f%s)  %s\n", t.pass() ? "PASS" : "FAIL", t.name.c_str(), t.value,
                t.unit.c_str(), t.at_least ? ">=" : "<=", t.limit, t.unit.c_str(), t.peer.c_str());
    j.push_back(t.json());
  }
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  Bench b;
  CLI::App app{"clawjail_bench: latency, throughput and resource use of clawjail next to bwrap (README, Speed)"};
  add_options(app, b.o);
  CLI11_PARSE(app, argc, argv);
  b.bin = b.o.binary;
  // Receipts go to the journal too, as under systemd.
  if (auto why = test::journald::ensure_host(); !why.empty()) return std::cerr << "bench: " << why << "\n", 1;
  char tmpl[] = "/tmp/clawjail-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) return 1;
  auto world = demo::create_world(tmpl);
  if (!world) return std::cerr << world.error().detail << "\n", 1;
  b.w = std::move(*world);
  auto wpc = demo::install_wpc(b.w, demo::wpc_payload(b.w, {}));
  if (!wpc) return std::cerr << wpc.error().detail << "\n", 1;
  b.wpc = *wpc;
  UniqueFd log(::open((b.w.root / "supervisor.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  auto sup = spawn_logged({b.bin, "serve", "--config", b.w.config_path.string()}, log.get());
  if (!sup) return 1;
  b.sup = *sup;
  for (int i = 0; i < 200 && !socket_answers(b.w.socket); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  b.out["load_average_before"] = loadavg();
  b.out["cpus"] = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (b.o.files()) fs_ops(b);
  if (b.o.exec()) {
    exec_latency(b);
    exec_throughput(b);
  }
  b.out["load_average_after"] = loadavg();
  bool met = summary(b);
  b.out["all_targets_met"] = met;
  if (!b.o.json_path.empty()) {
    std::ofstream json(b.o.json_path);
    json << b.out.dump(2) << "\n";
    if (!json) std::cerr << "bench: cannot write " << b.o.json_path << "\n";
  }
  if (b.o.exec()) supervisor_leak(b);
  ::kill(b.sup, SIGTERM);
  wait_exit_code(b.sup);
  fs::remove_all(b.w.root);
  return 0;
}
