// By-hand benchmark (not a test): latency of `clawjail run -- /bin/true` through a running
// supervisor next to bwrap and plain /bin/true, throughput with concurrent clients, and the
// supervisor's memory and descriptors across many calls. `clawjail_bench --help` lists the options.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>
#include <tuple>

#include <CLI/CLI.hpp>

#include "receipts/receipts.h"
#include "supervisor/common/commands.h"
#include "supervisor/common/subprocess.h"
#include "supervisor/demo/world.h"
#include "tests/common/journald.h"

extern char** environ;

namespace {

using namespace clawjail;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Options {
  int samples = 200, clients = 8, seconds = 10, leak_calls = 10000;
};

// A command timed by `measure`, and the exit code that means it did what it is timed for.
struct Cmd {
  std::vector<std::string> args;
  int expect = 0;
};

// Spawns argv with all output to /dev/null and returns its exit code.
int quiet(const std::vector<std::string>& args) {
  posix_spawn_file_actions_t a;
  posix_spawn_file_actions_init(&a);
  posix_spawn_file_actions_addopen(&a, 0, "/dev/null", O_RDONLY, 0);
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
  int code = quiet(cmd.args);
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
std::vector<Stats> measure(const std::vector<Cmd>& commands, int samples, std::chrono::milliseconds pause) {
  for (int i = 0; i < 10; ++i)
    for (const auto& c : commands) quiet(c.args), std::this_thread::sleep_for(pause);  // warm caches
  std::vector<std::vector<double>> ms(commands.size());
  for (int i = 0; i < samples; ++i)
    for (size_t c = 0; c < commands.size(); ++c) {
      ms[c].push_back(time_once(commands[c]));
      std::this_thread::sleep_for(pause);
    }
  return stats_of_each(std::move(ms));
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
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"clawjail_bench: latency, throughput and resource use of clawjail next to bwrap (README, Speed)"};
  add_options(app, o);
  CLI11_PARSE(app, argc, argv);
  // Receipts go to the journal too, as under systemd.
  if (auto why = test::journald::ensure_host(); !why.empty()) return std::cerr << "bench: " << why << "\n", 1;
  std::string bin = CLAWJAIL_BINARY;
  char tmpl[] = "/tmp/clawjail-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) return 1;
  auto world = demo::create_world(tmpl);
  if (!world) return std::cerr << world.error().detail << "\n", 1;
  auto& w = *world;
  auto wpc = demo::install_wpc(w, demo::wpc_payload(w, {}));
  if (!wpc) return std::cerr << wpc.error().detail << "\n", 1;
  UniqueFd log(::open((w.root / "supervisor.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  auto sup = spawn_logged({bin, "serve", "--config", w.config_path.string()}, log.get());
  if (!sup) return 1;
  for (int i = 0; i < 200 && !socket_answers(w.socket); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));

  auto run_args = [&](const std::string& job, const fs::path& socket) {
    auto cst = w.root / (job + ".cst");
    if (!fs::exists(cst)) (void)demo::write_file(cst, demo::issue_token(w, {.job = job, .policy_hash_b64u = *wpc}));
    return std::vector<std::string>{bin, "run", "--socket", socket.string(), "--job", job, "--cst-file", cst.string(),
                                    "--workspace", w.workspace.string(), "--", "/bin/true"};
  };
  std::vector<std::string> bwrap = {"/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                                    "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink",
                                    "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--proc", "/proc",
                                    "--dev", "/dev", "--tmpfs", "/tmp", "/usr/bin/true"};

  // The client alone: started, its CST read, a connection refused (no socket there), an exit.
  auto client_alone = run_args("bench-latency", w.root / "absent.sock");
  const auto pause = std::chrono::milliseconds(20);
  std::printf("latency, %d samples each, taking turns, 20 ms apart (ms) p50  p99   mean\n", o.samples);
  auto lat = measure({{{"/bin/true"}}, {client_alone, kExitSupervisor}, {bwrap}, {run_args("bench-latency", w.socket)}},
                     o.samples, pause);
  auto [plain, client, bw, cj] = std::tuple{lat[0], lat[1], lat[2], lat[3]};
  // Back to back, each call arrives while the supervisor is still busy after the last one.
  auto b2b_pair = measure_back_to_back({{bwrap}, {run_args("bench-latency", w.socket)}}, o.samples);
  auto [bw_b2b, b2b] = std::pair{b2b_pair[0], b2b_pair[1]};
  auto sync = fdatasync_cost(w.state_dir, o.samples, pause);
  auto hot_sync = fdatasync_cost(w.state_dir, o.samples, std::chrono::milliseconds(0));
  for (auto [name, s] : {std::pair{"/bin/true", plain}, {"bwrap --unshare-all … true", bw}, {"clawjail run -- /bin/true", cj},
                         {"bwrap, back to back", bw_b2b}, {"clawjail, back to back", b2b}, {"(clawjail run, no supervisor there)", client},
                         {"(a receipt-sized fdatasync, spaced)", sync}, {"(the same, back to back)", hot_sync}})
    std::printf("  %-36s %7.2f  %7.2f  %7.2f\n", name, s.p50, s.p99, s.mean);
  std::printf("  ratio clawjail/bwrap p50 %.2fx, p99 %.2fx (back to back p50 %.2fx); clawjail/true p50 %.1fx\n",
              cj.p50 / bw.p50, cj.p99 / bw.p99, b2b.p50 / bw_b2b.p50, cj.p50 / plain.p50);
  // What no supervisor can avoid, by p50: the client's own start, the command itself, and two
  // durable receipts; the rest is the supervisor's (admission, signing, jail hand-over, waking).
  double floor = client.p50 + plain.p50 + 2 * sync.p50;
  std::printf("  of clawjail's p50: client start %.2f + /bin/true %.2f + two fdatasyncs %.2f = %.2f ms floor "
              "(%.2fx bwrap); the supervisor's own share %.2f ms; 0.7x bwrap is %.2f ms\n\n",
              client.p50, plain.p50, 2 * sync.p50, floor, floor / bw.p50, cj.p50 - floor, 0.7 * bw.p50);

  // The peer under the same load first, so that both see the same machine.
  auto peer = throughput(o, [&](int) { return bwrap; });
  auto tput = throughput(o, [&](int t) { return run_args("bench-tput-" + std::to_string(t), w.socket); });
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
    auto b = receipts::export_bundle(w.state_dir, *w.supervisor_key, eo);
    auto v = b ? receipts::verify_bundle(*b, {w.supervisor_key->did()}) : receipts::Verdict{};
    receipts_total += v.receipts;
    if (!v.pass) all_pass = false, std::printf("  %s: %s\n", eo.job_id.c_str(), v.line().c_str());
  }
  std::printf("  receipts %ld (expected %ld), every chain verifies: %s\n\n", receipts_total, 2 * calls,
              all_pass ? "yes" : "NO");

  // Measured at rest: a call's jail is dropped just after its answer, and the jail built ahead
  // for the next call (with its monitor thread and descriptors) is there before and after.
  auto settled = [&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return usage(*sup);
  };
  auto args = run_args("bench-leak", w.socket);
  quiet(args);
  auto before = settled();
  for (int i = 0; i < o.leak_calls; ++i) quiet(args);
  auto after = settled();
  std::printf("supervisor across %d calls: RSS %ld kB -> %ld kB, descriptors %ld -> %ld\n", o.leak_calls,
              before.rss_kb, after.rss_kb, before.fds, after.fds);
  ::kill(*sup, SIGTERM);
  wait_exit_code(*sup);
  fs::remove_all(w.root);
  return 0;
}
