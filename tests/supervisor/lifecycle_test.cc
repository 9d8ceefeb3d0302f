// Start-up refusals, SIGTERM with running calls, SIGHUP reload, and the demo.
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "fixture.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "receipts/receipts.h"

namespace clawjail::test {
namespace {

class Lifecycle : public SupervisorTest {
 protected:
  Captured serve_once() { return clawjail({"serve", "--config", world.config_path.string()}); }
  void edit_config(const std::function<void(Json&)>& edit) {
    std::ifstream in(world.config_path);
    Json j = Json::parse(in);
    edit(j);
    ASSERT_TRUE(demo::write_file(world.config_path, j.dump(2), 0644).ok());
  }
};

TEST_F(Lifecycle, NoWpcSignersIsAStartUpError) {
  edit_config([](Json& j) { j["wpc_signers"] = Json::array(); });
  auto c = serve_once();
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find("clawjail: serve: WPC_NO_SIGNERS"), std::string::npos) << c.err;
}

TEST_F(Lifecycle, NoCstIssuersIsAStartUpError) {
  edit_config([](Json& j) { j["cst_issuers"] = Json::array(); });
  auto c = serve_once();
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find("cst_issuers"), std::string::npos) << c.err;
}

TEST_F(Lifecycle, UnknownConfigKeyIsAStartUpError) {
  edit_config([](Json& j) { j["sokcet"] = "/tmp/x"; });
  auto c = serve_once();
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find("sokcet"), std::string::npos) << c.err;
}

TEST_F(Lifecycle, GroupReadableSigningKeyIsRefused) {
  ASSERT_EQ(::chmod((world.keys_dir / "supervisor.key").c_str(), 0640), 0);
  auto c = serve_once();
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find("KEY_PERMISSIONS"), std::string::npos) << c.err;
}

TEST_F(Lifecycle, MissingSigningKeyIsRefused) {
  fs::remove(world.keys_dir / "supervisor.key");
  auto c = serve_once();
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find("KEY_MISSING"), std::string::npos) << c.err;
}

TEST_F(Lifecycle, SecondSupervisorOnTheSameSocketIsRefused) {
  start_supervisor();
  auto c = serve_once();
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_NE(c.err.find("another supervisor"), std::string::npos) << c.err;
}

TEST_F(Lifecycle, SigtermKillsRunningCallsAndLeavesConsistentLogs) {
  start_supervisor({"--drain-grace-ms", "300"});
  auto cst = job_token("job-term");
  auto c = start_client(run_args("job-term", cst, {"--", "/bin/sh", "-c", "sleep 30; : marker-term"}));
  ASSERT_TRUE(wait_receipts("job-term", 1));
  // started is durable before the jail exists: wait for the jailed process itself.
  for (int i = 0; i < 250 && !process_with_marker_exists("marker-term"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(process_with_marker_exists("marker-term")) << supervisor_log();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(stop_supervisor(SIGTERM), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(wait_exit_code(c.pid), 128 + SIGKILL);
  auto r = receipts("job-term");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["result"]["status"], "killed");
  EXPECT_EQ(r[1]["reason_code"], "SUPERVISOR_SHUTTING_DOWN");
  receipts::ExportOptions options;
  options.job_id = "job-term";
  auto bundle = receipts::export_bundle(world.state_dir, *world.supervisor_key, options);
  ASSERT_TRUE(bundle.ok()) << bundle.error().detail;
  auto verdict = receipts::verify_bundle(*bundle, {world.supervisor_key->did()});
  EXPECT_TRUE(verdict.pass) << verdict.line();
  EXPECT_FALSE(fs::exists(world.socket)) << "the socket was left behind";
}

TEST_F(Lifecycle, SighupReloadsTheConfiguration) {
  start_supervisor();
  auto cst = job_token("job-hup");
  EXPECT_EQ(clawjail(run_args("job-hup", cst, {"--", "/bin/true"})).exit_code, 0);
  edit_config([](Json& j) { j["pinned_wpc_hashes"] = {policy::sha256_b64u("some other policy")}; });
  ::kill(supervisor, SIGHUP);
  // The reload is asynchronous: calls may still pass until it lands, within a bound.
  Captured c;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
    c = clawjail(run_args("job-hup", cst, {"--", "/bin/true"}));
    if (c.exit_code != 0) break;
  }
  EXPECT_EQ(c.exit_code, 126) << c.err << supervisor_log();
  EXPECT_NE(c.err.find("WPC_NOT_PINNED"), std::string::npos) << c.err;
}

TEST_F(Lifecycle, ReceiptThatCannotBeStoredMeansTheCommandNeverRuns) {
  start_supervisor();
  // The job's log path is taken by a directory: every durable append fails, as on a full disk.
  fs::create_directories(world.state_dir / "receipts" / "job-nostore.log");
  auto cst = job_token("job-nostore");
  auto c = clawjail(run_args("job-nostore", cst, {"--", "/bin/touch", "/workspace/ran"}));
  EXPECT_EQ(c.exit_code, 125) << c.err;
  EXPECT_NE(c.err.find("RECEIPT_STORE_FAILED"), std::string::npos) << c.err;
  EXPECT_FALSE(fs::exists(world.workspace / "ran")) << "the command ran without evidence";
}

TEST_F(Lifecycle, KilledSupervisorTakesItsJailsAlongAndRestarts) {
  start_supervisor();
  auto cst = job_token("job-sigkill");
  auto c = start_client(run_args("job-sigkill", cst, {"--", "/bin/sh", "-c", "sleep 30; : marker-sigkill"}));
  ASSERT_TRUE(wait_receipts("job-sigkill", 1));
  for (int i = 0; i < 500 && !process_with_marker_exists("marker-sigkill"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop_supervisor(SIGKILL);
  EXPECT_EQ(wait_exit_code(c.pid), 125);
  for (int i = 0; i < 100 && process_with_marker_exists("marker-sigkill"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(process_with_marker_exists("marker-sigkill")) << "a jail outlived its supervisor";
  start_supervisor();
  auto after = clawjail(run_args("job-sigkill", cst, {"--", "/bin/true"}));
  EXPECT_EQ(after.exit_code, 0) << after.err;
  receipts::ExportOptions options;
  options.job_id = "job-sigkill";
  auto bundle = receipts::export_bundle(world.state_dir, *world.supervisor_key, options);
  ASSERT_TRUE(bundle.ok()) << bundle.error().detail;
  // The call the kill cut short is accounted for by the restarted supervisor, as interrupted.
  auto verdict = receipts::verify_bundle(*bundle, {world.supervisor_key->did()});
  EXPECT_TRUE(verdict.pass) << verdict.line();
  EXPECT_EQ(verdict.interrupted_calls.size(), 1u) << verdict.line();
  EXPECT_TRUE(verdict.unfinished_calls.empty()) << verdict.line();
}

TEST_F(Lifecycle, DemoRunsAndEverythingBehaves) {
  auto c = clawjail({"demo"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("PASS"), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find("UNEXPECTED"), std::string::npos) << c.out;
}

}  // namespace
}  // namespace clawjail::test
