// Faults: kill -9 of the supervisor in the middle of load, a full state directory, journald
// stopped under a running supervisor, a client killed mid-call. Each against the real binary,
// real jails and the real CLI evidence commands.
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "tests/faults/journald.h"

namespace clawjail::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class Faults : public SupervisorTest {
 protected:
  Json exec_request(const std::string& job, const std::string& token, Json exec) {
    return {{"clawjail_protocol", 1}, {"type", "call"}, {"job_id", job}, {"wpc_hash_b64u", main_wpc}, {"tool", "exec"},
            {"cst", token}, {"workspace", world.workspace.string()}, {"exec", std::move(exec)}};
  }
  // `clawjail bundle export` then `bundle verify --json`, as an auditor would; the verdict.
  Json verify_job(const std::string& job, std::string* export_err = nullptr) {
    auto bundle = root / (job + ".bundle.json");
    auto e = clawjail({"bundle", "export", "--config", world.config_path.string(), "--job", job, "--out", bundle.string()});
    EXPECT_EQ(e.exit_code, 0) << e.err;
    if (export_err) *export_err = e.err;
    auto v = clawjail({"bundle", "verify", "--trust", world.supervisor_key->did(), "--json", bundle.string()});
    auto verdict = Json::parse(v.out, nullptr, false);
    EXPECT_TRUE(verdict.is_object()) << v.out << v.err;
    return verdict.is_object() ? verdict : Json::object();
  }
  // Calls of the job's log with a started and no finished receipt.
  std::set<std::string> unfinished_in_log(const std::string& job) {
    std::map<std::string, std::string> last;
    for (const auto& r : receipts(job)) last[r["call_id"]] = r["phase"];
    std::set<std::string> out;
    for (const auto& [call, phase] : last)
      if (phase == "started") out.insert(call);
    return out;
  }
  std::string slurp_log(const std::string& job) {
    std::ifstream in(world.state_dir / "receipts" / (job + ".log"), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  bool wait_gone(const std::string& marker, seconds within = seconds(10)) {
    auto deadline = Clock::now() + within;
    while (process_with_marker_exists(marker))
      if (Clock::now() > deadline) return false;
      else std::this_thread::sleep_for(milliseconds(50));
    return true;
  }
};

TEST_F(Faults, KillNineMidLoadThenRestartLosesNothing) {
  start_supervisor();
  const std::string marker = "crashmark" + std::to_string(::getpid());
  const long per_client = env_count("CLAWJAIL_CRASH_CALLS", 40);
  std::map<std::string, std::string> tok;
  for (const char* j : {"crash-a", "crash-b", "crash-long", "crash-revoked", "crash-stopped"})
    tok[j] = demo::issue_token(world, {.job = j, .policy_hash_b64u = main_wpc});
  // A token bound to no job: its jti is bound to crash-a at first use, which the ledger must remember.
  auto free_token = demo::issue_token(world, {.job = "crash-a", .policy_hash_b64u = main_wpc, .bind_job = false});
  auto first = call_once(world.socket, exec_request("crash-a", free_token, {{"argv", {"/bin/true"}}}));
  ASSERT_TRUE(first.ok() && first->status == CallStatus::success) << (first ? proto::response_to_json(*first).dump() : first.error().detail);
  for (const char* j : {"crash-revoked", "crash-stopped"})
    ASSERT_TRUE(call_once(world.socket, exec_request(j, tok[j], {{"argv", {"/bin/true"}}})).ok());
  auto revoked_file = root / "revoked.cst";
  ASSERT_TRUE(demo::write_file(revoked_file, tok["crash-revoked"]).ok());
  auto rv = clawjail({"cst", "revoke", "--token-file", revoked_file.string(), "--reason", "test", "--config", world.config_path.string()});
  ASSERT_EQ(rv.exit_code, 0) << rv.err;
  auto st = clawjail({"job", "stop", "crash-stopped", "--socket", world.socket.string()});
  ASSERT_EQ(st.exit_code, 0) << st.err;

  // Long calls whose whole tree carries the marker, then load from 8 clients while we kill.
  ASSERT_TRUE(demo::write_file(root / "crash-long.cst", tok["crash-long"]).ok());
  std::vector<Client> long_calls;
  for (int i = 0; i < 3; ++i)
    long_calls.push_back(start_client(run_args("crash-long", root / "crash-long.cst",
        {"--", "/bin/sh", "-c", "/bin/sh -c 'sleep 60; : " + marker + "-child' & sleep 60; : " + marker})));
  std::atomic<bool> stop{false};
  std::atomic<long> answered{0};
  std::vector<std::thread> load;
  for (int c = 0; c < 8; ++c)
    load.emplace_back([&, c] {
      auto job = c % 2 ? "crash-a" : "crash-b";
      for (long i = 0; i < per_client && !stop; ++i) {
        Json exec = i % 3 == 2 ? Json{{"argv", {"/bin/sleep", "0.3"}}} : Json{{"argv", {"/bin/true"}}};
        if (call_once(world.socket, exec_request(job, tok[job], exec)).ok()) ++answered;
      }
    });
  for (int i = 0; i < 200 && (answered < 8 || !process_with_marker_exists(marker + "-child")); ++i)
    std::this_thread::sleep_for(milliseconds(50));
  if (!process_with_marker_exists(marker + "-child")) {
    stop = true;
    for (auto& t : load) t.join();
    FAIL() << "the long calls never started: " << supervisor_log();
  }
  std::this_thread::sleep_for(milliseconds(300));
  const pid_t dead = supervisor;
  stop_supervisor(SIGKILL);
  stop = true;
  for (auto& t : load) t.join();
  for (auto& c : long_calls) EXPECT_NE(wait_exit_code(c.pid), 0) << "a client of a killed supervisor reported success";
  std::printf("CRASH killed supervisor %d after %ld answered calls\n", dead, answered.load());

  // Their jails die with the supervisor (every process of the tree, not just the first).
  EXPECT_TRUE(wait_gone(marker)) << "a jail process survived the supervisor's SIGKILL";

  // A torn final line, as a crash in the middle of a write leaves it.
  const std::string torn = R"({"payloadType":"application/vnd.clawjail.receipt.v1+json","payload":"eyJ)";
  {
    std::ofstream out(world.state_dir / "receipts" / "crash-a.log", std::ios::app | std::ios::binary);
    out << torn;
  }
  const std::string ledger_before = [&] {
    std::ifstream in(world.state_dir / "tokens" / "ledger.json");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }();
  ASSERT_FALSE(ledger_before.empty());

  std::map<std::string, std::set<std::string>> running;  // the calls the kill left open, by job
  for (const char* job : {"crash-a", "crash-b", "crash-long", "crash-revoked", "crash-stopped"})
    running[job] = unfinished_in_log(job);
  EXPECT_EQ(running["crash-long"].size(), 3u) << "the three long calls were running";

  start_supervisor();
  {  // the jti ledger and revocation list, byte for byte
    std::ifstream in(world.state_dir / "tokens" / "ledger.json");
    std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(after, ledger_before);
  }
  // The torn line is set aside beside the log, byte for byte, and reported; never dropped.
  bool kept = false;
  for (const auto& e : fs::directory_iterator(world.state_dir / "receipts")) {
    auto name = e.path().filename().string();
    if (name.rfind("crash-a.log.torn-", 0) != 0) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    kept = kept || bytes == torn;
  }
  EXPECT_TRUE(kept) << "the torn line was not kept beside crash-a.log";
  auto log_a = ::clawjail::receipts::read_job_log(world.state_dir, "crash-a");
  ASSERT_TRUE(log_a.ok());
  ASSERT_TRUE(log_a->torn.has_value()) << "read_job_log does not mention the torn line";
  std::string export_err;
  verify_job("crash-a", &export_err);
  EXPECT_NE(export_err.find("torn"), std::string::npos) << "bundle export is silent about the torn line: " << export_err;

  // Service resumes; new receipts chain onto the recovered logs.
  for (const char* job : {"crash-a", "crash-b"}) {
    auto r = call_once(world.socket, exec_request(job, tok[job], {{"argv", {"/bin/true"}}}));
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_EQ(r->status, CallStatus::success) << proto::response_to_json(*r).dump();
  }
  // Every log verifies; the calls that were running are exactly the interrupted ones.
  long interrupted_total = 0;
  for (const char* job : {"crash-a", "crash-b", "crash-long", "crash-revoked", "crash-stopped"}) {
    auto verdict = verify_job(job);
    EXPECT_EQ(verdict.value("result", ""), "PASS") << job << ": " << verdict.dump();
    EXPECT_EQ(unfinished_in_log(job), std::set<std::string>()) << job;
    std::set<std::string> reported;
    for (const auto& c : verdict.value("interrupted_calls", Json::array())) reported.insert(c.get<std::string>());
    EXPECT_EQ(reported, running[job]) << job << ": " << verdict.dump();
    EXPECT_EQ(verdict.value("receipts", 0L), static_cast<long>(receipts(job).size())) << job << ": " << verdict.dump();
    interrupted_total += static_cast<long>(reported.size());
  }
  std::printf("CRASH after restart: %ld interrupted calls reported by bundle verify\n", interrupted_total);

  // The ledger still acts: the bound jti, the revoked token, the stopped job.
  auto replay = call_once(world.socket, exec_request("crash-z", free_token, {{"argv", {"/bin/true"}}}));
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->reason, Reason::CST_JTI_REPLAYED) << proto::response_to_json(*replay).dump();
  auto revoked = call_once(world.socket, exec_request("crash-revoked", tok["crash-revoked"], {{"argv", {"/bin/true"}}}));
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->reason, Reason::CST_REVOKED) << proto::response_to_json(*revoked).dump();
  auto stopped = call_once(world.socket, exec_request("crash-stopped", tok["crash-stopped"], {{"argv", {"/bin/true"}}}));
  ASSERT_TRUE(stopped.ok());
  // `job stop` revoked the job's jtis and the job: either refusal proves the ledger kept it.
  EXPECT_TRUE(stopped->reason == Reason::JOB_STOPPED || stopped->reason == Reason::CST_REVOKED)
      << proto::response_to_json(*stopped).dump();
}

// The installation's state directory moved onto a small tmpfs of its own (2 MiB), for as long as
// this lives.
struct SmallStateDir {
  SmallStateDir(const fs::path& state_dir, const fs::path& root) : dir(state_dir) {
    auto saved = root / "state.saved";
    fs::rename(dir, saved);
    fs::create_directories(dir);
    mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=2m,mode=0700") == 0;
    error = std::strerror(errno);
    if (mounted) fs::copy(saved, dir, fs::copy_options::recursive);
  }
  ~SmallStateDir() {
    if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
  }
  fs::path dir;
  bool mounted = false;
  std::string error;
};

// Fills the file system holding `dir` (a tmpfs) and returns the filler's path.
fs::path fill(const fs::path& dir) {
  auto filler = dir / "filler";
  UniqueFd fd(::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  std::string block(64 * 1024, 'x');
  while (::write(fd.get(), block.data(), block.size()) > 0) {}
  while (::write(fd.get(), block.data(), 1) > 0) {}
  return filler;
}

TEST_F(Faults, FullStateDirectoryRefusesCallsThenResumesWithoutRestart) {
  SmallStateDir small(world.state_dir, root);
  ASSERT_TRUE(small.mounted) << small.error;
  start_supervisor();
  auto token = demo::issue_token(world, {.job = "job-full", .policy_hash_b64u = main_wpc});
  auto ran = [&](int i) { return fs::exists(world.workspace / ("ran-" + std::to_string(i))); };
  auto touch = [&](int i) {
    return exec_request("job-full", token, {{"argv", {"/bin/sh", "-c", "echo > /workspace/ran-" + std::to_string(i)}}});
  };
  auto r0 = call_once(world.socket, touch(0));
  ASSERT_TRUE(r0.ok() && r0->status == CallStatus::success) << (r0 ? proto::response_to_json(*r0).dump() : r0.error().detail);
  ASSERT_TRUE(ran(0));

  auto filler = fill(world.state_dir);
  // The log's last page may still hold a started receipt (tmpfs allocates by page): such a call
  // runs, and its answer says its finished receipt could not be stored. Never may a call run
  // without its started receipt in the log; once the page is full, calls are refused.
  int refused = 0;
  std::set<std::string> lost_finish;
  for (int i = 1; i <= 6; ++i) {
    auto r = call_once(world.socket, touch(i));
    ASSERT_TRUE(r.ok()) << "no answer on a full disk: " << r.error().detail;
    auto text = proto::response_to_json(*r).dump();
    EXPECT_EQ(r->reason, Reason::RECEIPT_STORE_FAILED) << text;
    EXPECT_NE(r->exit_code, 0) << text;
    EXPECT_FALSE(r->reason_detail.empty()) << text;
    if (ran(i)) {
      bool started = false;
      for (const auto& p : receipts("job-full")) started = started || (p["call_id"] == r->call_id && p["phase"] == "started");
      EXPECT_TRUE(started) << "call " << i << " ran without a durable started receipt: " << text;
      EXPECT_EQ(r->status, CallStatus::failed) << text;
      lost_finish.insert(r->call_id);
    } else {
      EXPECT_EQ(r->decision, Verdict::blocked) << text;
      ++refused;
    }
  }
  EXPECT_GE(refused, 4);
  // What the client sees, through the real binary.
  auto cst = root / "job-full.cst";
  ASSERT_TRUE(demo::write_file(cst, token).ok());
  auto c = clawjail(run_args("job-full", cst, {"--", "/bin/sh", "-c", "echo > /workspace/ran-cli"}));
  EXPECT_NE(c.exit_code, 0);
  EXPECT_NE(c.err.find("RECEIPT_STORE_FAILED"), std::string::npos) << c.err;
  EXPECT_FALSE(fs::exists(world.workspace / "ran-cli"));

  // Space returns: service resumes, same supervisor.
  fs::remove(filler);
  const pid_t same = supervisor;
  auto back = call_once(world.socket, touch(9));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->status, CallStatus::success) << proto::response_to_json(*back).dump();
  EXPECT_TRUE(ran(9));
  EXPECT_EQ(supervisor, same);
  EXPECT_EQ(::kill(same, 0), 0);
  // A finished receipt that met the full disk was kept and written once there was room: every
  // call that ran has started and finished, and the whole chain verifies.
  std::set<std::string> finished;
  for (const auto& p : receipts("job-full"))
    if (p["phase"] == "finished") finished.insert(p["call_id"].get<std::string>());
  for (const auto& id : lost_finish) EXPECT_TRUE(finished.count(id)) << id << " has no finished receipt";
  auto verdict = verify_job("job-full");
  EXPECT_EQ(verdict.value("unfinished_calls", Json::array()), Json::array()) << verdict.dump();
  EXPECT_EQ(verdict.value("result", ""), "PASS") << verdict.dump();
  EXPECT_EQ(verdict.value("receipts", 0L), static_cast<long>(receipts("job-full").size())) << verdict.dump();
  stop_supervisor();
}

TEST_F(Faults, JournaldStoppedCallsGoOnWithOneWarning) {
  const pid_t journald = private_journald();
  ASSERT_GT(journald, 0) << "could not start a private systemd-journald";
  start_supervisor();
  auto token = demo::issue_token(world, {.job = "job-journal", .policy_hash_b64u = main_wpc});
  auto call = [&] { return call_once(world.socket, exec_request("job-journal", token, {{"argv", {"/bin/true"}}})); };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(call().ok());
  std::vector<Json> entries;
  for (int i = 0; i < 50 && entries.size() < 6; ++i) {
    // Persistent storage when /var/log/journal exists (our tmpfs), else volatile in /run/log.
    entries = journal_entries({"-D", "/var/log/journal", "CLAWJAIL_JOB=job-journal"});
    if (entries.empty()) entries = journal_entries({"-D", "/run/log/journal", "CLAWJAIL_JOB=job-journal"});
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(entries.size(), 6u) << "the journal holds a copy of each receipt while journald runs";

  ::kill(journald, SIGKILL);
  ::waitpid(journald, nullptr, 0);
  for (int i = 0; i < 20; ++i) {
    auto r = call();
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_EQ(r->status, CallStatus::success) << proto::response_to_json(*r).dump();
  }
  EXPECT_EQ(receipts("job-journal").size(), 46u) << "the disk log is complete";
  EXPECT_EQ(verify_job("job-journal").value("result", ""), "PASS");
  stop_supervisor();
  // Exactly one warning about the journal, on the supervisor's stderr (its journal is gone).
  auto log = supervisor_log();
  size_t warnings = 0;
  for (size_t at = 0; (at = log.find("journald is not reachable", at)) != std::string::npos; ++at) ++warnings;
  EXPECT_EQ(warnings, 1u) << log;
  // The supervisor's own log sink (the journal) failing is said once too, not once per message.
  size_t sink = 0;
  for (size_t at = 0; (at = log.find("log sink failed", at)) != std::string::npos; ++at) ++sink;
  EXPECT_LE(sink, 1u) << log;
  EXPECT_EQ(log.find("LOG ERROR"), std::string::npos) << log;
}

TEST_F(Faults, ClientKilledMidCallKillsTheWholeTree) {
  start_supervisor();
  const std::string marker = "treemark" + std::to_string(::getpid());
  auto cst = job_token("job-tree");
  // A tree: a shell, a subshell in the background, a grandchild sleeping, a detached setsid child.
  auto c = start_client(run_args("job-tree", cst, {"--", "/bin/sh", "-c",
      "(/bin/sh -c 'sleep 60; : " + marker + "-grandchild' &) ; setsid /bin/sh -c 'sleep 60; : " + marker +
      "-detached' & sleep 60; : " + marker}));
  for (int i = 0; i < 600 && !(process_with_marker_exists(marker + "-grandchild") && process_with_marker_exists(marker + "-detached")); ++i)
    std::this_thread::sleep_for(milliseconds(25));
  ASSERT_TRUE(process_with_marker_exists(marker + "-grandchild")) << supervisor_log();
  ASSERT_TRUE(process_with_marker_exists(marker + "-detached"));
  ::kill(c.pid, SIGKILL);
  wait_exit_code(c.pid);
  ASSERT_TRUE(wait_receipts("job-tree", 2, seconds(30))) << supervisor_log();
  auto r = receipts("job-tree");
  EXPECT_EQ(r[1]["phase"], "finished");
  EXPECT_EQ(r[1]["result"]["status"], "killed") << r[1].dump();
  EXPECT_EQ(r[1]["reason_code"], "CLIENT_DISCONNECTED");
  EXPECT_TRUE(wait_gone(marker, seconds(10))) << "a process of the jail's tree survived";
}

// What the independent verifier (tests/receipts/verify_bundle.mjs) says of a bundle.
std::string node_verdict(const fs::path& bundle, const std::string& trust, bool strict) {
  std::vector<std::string> argv = {"/usr/bin/env", "node", CLAWJAIL_JS_VERIFIER, bundle.string(), "--trust", trust};
  if (strict) argv.push_back("--strict");
  auto c = run_captured(argv);
  return c.ok() ? c->out + c->err : c.error().detail;
}

// Each call the kill left open has exactly one finished receipt, interrupted, with nothing made up.
void expect_interrupted_once(const std::vector<Json>& log, const std::set<std::string>& open) {
  std::map<std::string, int> finished;
  for (const auto& p : log) {
    if (p["phase"] != "finished") continue;
    const std::string call = p["call_id"];
    ++finished[call];
    if (!open.count(call)) continue;
    EXPECT_EQ(p["reason_code"], "SUPERVISOR_RESTARTED") << p.dump();
    EXPECT_NE(p["reason"].get<std::string>().find("restarted at 20"), std::string::npos) << p.dump();
    EXPECT_EQ(p["result"]["status"], "interrupted") << p.dump();
    for (const char* key : {"exit_code", "signal", "duration_ms", "stdout_hash_b64u", "stdout_bytes", "stderr_hash_b64u",
                            "stderr_bytes", "violations"})
      EXPECT_TRUE(p["result"].at(key).is_null()) << key << ": " << p.dump();
  }
  for (const auto& p : log) {
    if (p["phase"] == "started") {
      EXPECT_EQ(finished[p["call_id"]], 1) << "call " << p["call_id"];
    }
  }
}

// Six long calls of two jobs run when the supervisor is killed outright. The restarted supervisor
// records each as interrupted before it serves anything; auditors (the C++ and the independent
// verifier) count them and PASS, --strict fails them; another restart adds nothing; the job is
// served again on the same chain.
TEST_F(Faults, KillNineWithLongCallsOfTwoJobsRecordsEachInterruptedOnce) {
  start_supervisor();
  const std::string marker = "intrmark" + std::to_string(::getpid());
  const std::vector<std::string> jobs = {"intr-a", "intr-b"};
  std::vector<Client> clients;
  for (const auto& job : jobs) {
    auto cst = job_token(job);  // written once: a client started earlier may still be reading it
    ASSERT_EQ(clawjail(run_args(job, cst, {"--", "/bin/true"})).exit_code, 0) << supervisor_log();
    for (int i = 0; i < 3; ++i)
      clients.push_back(start_client(run_args(job, cst, {"--", "/bin/sh", "-c", "sleep 60; : " + marker})));
  }
  for (const auto& job : jobs) ASSERT_TRUE(wait_receipts(job, 5, seconds(30))) << supervisor_log();
  for (int i = 0; i < 200 && !process_with_marker_exists(marker); ++i) std::this_thread::sleep_for(milliseconds(50));
  stop_supervisor(SIGKILL);
  for (auto& c : clients) EXPECT_NE(wait_exit_code(c.pid), 0) << "a client of a killed supervisor reported success";
  EXPECT_TRUE(wait_gone(marker)) << "a jail outlived the supervisor";
  std::map<std::string, std::set<std::string>> open;
  for (const auto& job : jobs) {
    open[job] = unfinished_in_log(job);
    ASSERT_EQ(open[job].size(), 3u) << job;
  }

  start_supervisor();
  const std::string trust = world.supervisor_key->did();
  std::map<std::string, std::string> logs;
  for (const auto& job : jobs) {
    expect_interrupted_once(receipts(job), open[job]);
    auto verdict = verify_job(job);
    EXPECT_EQ(verdict.value("result", ""), "PASS") << verdict.dump();
    std::set<std::string> reported;
    for (const auto& c : verdict.value("interrupted_calls", Json::array())) reported.insert(c.get<std::string>());
    EXPECT_EQ(reported, open[job]) << verdict.dump();
    auto bundle = root / (job + ".bundle.json");
    auto text = clawjail({"bundle", "verify", "--trust", trust, bundle.string()});
    EXPECT_EQ(text.exit_code, 0);
    EXPECT_NE(text.out.find("3 call(s) interrupted"), std::string::npos) << text.out;
    auto strict = clawjail({"bundle", "verify", "--strict", "--trust", trust, bundle.string()});
    EXPECT_EQ(strict.exit_code, 1);
    EXPECT_EQ(strict.out.rfind("FAIL RECEIPT_INTERRUPTED_CALL", 0), 0u) << strict.out;
    EXPECT_EQ(node_verdict(bundle, trust, false), "PASS 8 receipts, 3 interrupted\n");
    EXPECT_EQ(node_verdict(bundle, trust, true).rfind("FAIL RECEIPT_INTERRUPTED_CALL", 0), 0u);
    logs[job] = slurp_log(job);
  }

  stop_supervisor(SIGKILL);  // nothing runs: a second restart finds nothing open
  start_supervisor();
  for (const auto& job : jobs) EXPECT_EQ(slurp_log(job), logs[job]) << job << " changed at the second restart";
  ASSERT_EQ(clawjail(run_args("intr-a", job_token("intr-a"), {"--", "/bin/true"})).exit_code, 0) << supervisor_log();
  auto after = receipts("intr-a");
  ASSERT_EQ(after.size(), 10u);
  EXPECT_EQ(after[8]["seq"], 8);
  EXPECT_EQ(after[8]["phase"], "started");
  EXPECT_EQ(after[9]["result"]["status"], "success");
  auto verdict = verify_job("intr-a");
  EXPECT_EQ(verdict.value("result", ""), "PASS") << verdict.dump();
  EXPECT_EQ(verdict.value("interrupted_calls", Json::array()).size(), 3u) << verdict.dump();
}

// A finished receipt that waits in memory for room dies with the supervisor; after the restart
// its call looks like any other the kill left open.
TEST_F(Faults, KillNineWhileAFinishedReceiptWaitsForRoomRecordsItInterrupted) {
  SmallStateDir small(world.state_dir, root);
  ASSERT_TRUE(small.mounted) << small.error;
  start_supervisor();
  auto token = demo::issue_token(world, {.job = "job-owed", .policy_hash_b64u = main_wpc});
  auto cst = root / "job-owed.cst";
  ASSERT_TRUE(demo::write_file(cst, token).ok());
  auto slow = start_client(run_args("job-owed", cst, {"--", "/bin/sleep", "3"}));
  ASSERT_TRUE(wait_receipts("job-owed", 1)) << supervisor_log();
  const std::string slow_call = receipts("job-owed")[0]["call_id"];
  auto filler = fill(world.state_dir);
  // Use up the log's last page (tmpfs allocates by page): calls until one is refused.
  bool refused = false;
  for (int i = 0; i < 20 && !refused; ++i) {
    auto r = call_once(world.socket, exec_request("job-owed", token, {{"argv", {"/bin/true"}}}));
    refused = r.ok() && r->decision == Verdict::blocked;
  }
  ASSERT_TRUE(refused) << "the state directory never filled up";
  EXPECT_NE(wait_exit_code(slow.pid), 0) << "its finished receipt could not be stored";
  auto open = unfinished_in_log("job-owed");
  ASSERT_TRUE(open.count(slow_call)) << "the finished receipt found room; nothing waited in memory";
  stop_supervisor(SIGKILL);
  fs::remove(filler);

  start_supervisor();
  expect_interrupted_once(receipts("job-owed"), open);
  auto verdict = verify_job("job-owed");
  EXPECT_EQ(verdict.value("result", ""), "PASS") << verdict.dump();
  std::set<std::string> reported;
  for (const auto& c : verdict.value("interrupted_calls", Json::array())) reported.insert(c.get<std::string>());
  EXPECT_EQ(reported, open) << verdict.dump();
  stop_supervisor();
}

}  // namespace
}  // namespace clawjail::test
