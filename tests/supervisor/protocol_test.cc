// Hostile bytes on the socket: oversize, garbage, unknown fields, stalled peers, wrong uids.
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <thread>
#include <tuple>

#include "fixture.h"
#include "policy/canonical_json.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "base/unique_fd.h"
#include "supervisor/client/client.h"
#include "supervisor/proto/protocol.h"

namespace clawjail::test {
namespace {

UniqueFd connect_to(const fs::path& socket) { return client::connect_unix(socket); }

Result<proto::Response> answer(int fd) {
  auto frame = proto::read_frame(fd, std::chrono::steady_clock::now() + std::chrono::seconds(20));
  if (!frame) return frame.error();
  return proto::parse_response(Json::parse(frame->body));
}

int std_fds[3] = {0, 1, 2};

class Protocol : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
  Json call_json(const std::string& job) {
    return {{"clawjail_protocol", 1}, {"type", "call"}, {"job_id", job}, {"wpc_hash_b64u", main_wpc},
            {"tool", "exec"}, {"cst", demo::issue_token(world, {.job = job, .policy_hash_b64u = main_wpc})},
            {"exec", {{"argv", {"/bin/true"}}}}};
  }
};

TEST_F(Protocol, OversizeFrameIsRefusedBeforeItIsRead) {
  auto fd = connect_to(world.socket);
  ASSERT_TRUE(fd);
  unsigned char header[4] = {0x00, 0x20, 0x00, 0x00};  // 2 MiB
  ASSERT_EQ(::write(fd.get(), header, 4), 4);
  auto r = answer(fd.get());
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->reason, Reason::REQUEST_TOO_LARGE);
  EXPECT_EQ(r->exit_code, 126);
}

TEST_F(Protocol, GarbageFrameIsRefused) {
  auto fd = connect_to(world.socket);
  ASSERT_TRUE(proto::write_frame(fd.get(), "\x01\x02 this is not json", std_fds).ok());
  auto r = answer(fd.get());
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->decision, Verdict::blocked);
  EXPECT_EQ(r->reason, Reason::REQUEST_MALFORMED);
}

TEST_F(Protocol, DuplicateKeysAreRefusedWithABlockedReceipt) {
  auto body = call_json("job-dup").dump();
  body.insert(1, "\"job_id\":\"job-dup\",");
  auto fd = connect_to(world.socket);
  ASSERT_TRUE(proto::write_frame(fd.get(), body, std_fds).ok());
  auto r = answer(fd.get());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->decision, Verdict::blocked);
  auto receipts_of_job = receipts("job-dup");
  ASSERT_EQ(receipts_of_job.size(), 1u);
  EXPECT_EQ(receipts_of_job[0]["phase"], "blocked");
  EXPECT_EQ(receipts_of_job[0]["request_hash_b64u"], policy::sha256_b64u(body));
}

TEST_F(Protocol, UnknownFieldIsRefusedWithABlockedReceipt) {
  auto j = call_json("job-unknown-field");
  j["exec"]["privileged"] = true;
  auto fd = connect_to(world.socket);
  ASSERT_TRUE(proto::write_frame(fd.get(), j.dump(), std_fds).ok());
  auto r = answer(fd.get());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reason, Reason::UNKNOWN_FIELD);
  EXPECT_NE(r->reason_detail.find("privileged"), std::string::npos);
  auto rs = receipts("job-unknown-field");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0]["reason_code"], "UNKNOWN_FIELD");
  EXPECT_EQ(rs[0]["request_hash_b64u"], policy::canonical_hash_b64u(j));
}

TEST_F(Protocol, ABadTerminalSizeIsRefusedWithABlockedReceipt) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"pty", true}, {"pty_size", {{"rows", 0}, {"cols", 80}}}}, "1-1000"},
      {{{"pty", true}, {"pty_size", {{"rows", 24}, {"cols", 1001}}}}, "1-1000"},
      {{{"pty", true}, {"pty_size", {{"rows", 24}, {"cols", 80}, {"depth", 1}}}}, "1-1000"},
      {{{"pty", true}, {"pty_size", {{"rows", "24"}, {"cols", 80}}}}, "wrong type"},
      {{{"pty_size", {{"rows", 24}, {"cols", 80}}}}, "needs exec.pty"}};
  int n = 0;
  for (const auto& [exec, why] : cases) {
    const std::string job = "job-pty-size-" + std::to_string(n++);
    auto j = call_json(job);
    j["exec"].update(exec);
    auto fd = connect_to(world.socket);
    ASSERT_TRUE(proto::write_frame(fd.get(), j.dump(), std_fds).ok());
    auto r = answer(fd.get());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->reason, Reason::BAD_FIELD) << j.dump();
    EXPECT_NE(r->reason_detail.find(why), std::string::npos) << r->reason_detail;
    EXPECT_EQ(receipts(job).size(), 1u);
  }
}

// A string the jail would hand the kernel cut at a NUL byte (an argument, the command, an
// environment variable, the working directory, the workspace) is a bad request: refused with a
// `blocked` receipt before anything runs, never run as the shorter string it would become.
TEST_F(Protocol, NulBytesInAnExecAreRefusedBeforeAnythingRuns) {
  const std::string nul("\0", 1);
  const std::vector<std::pair<std::string, Json>> cases = {
      {"argv", {{"argv", {"/bin/sh", "-c", "touch /workspace/ran-argv" + nul + "x"}}}},
      {"command", {{"command", "touch /workspace/ran-command" + nul + "x"}}},
      {"env value", {{"argv", {"/bin/sh", "-c", "touch /workspace/ran-env"}}, {"env", {{"A", "b" + nul + "c"}}}}},
      {"env name", {{"argv", {"/bin/sh", "-c", "touch /workspace/ran-env-name"}}, {"env", {{"A" + nul + "B", "c"}}}}},
      {"env name with =", {{"argv", {"/bin/sh", "-c", "touch /workspace/ran-env-eq"}}, {"env", {{"A=B", "c"}}}}},
      {"workdir", {{"argv", {"/bin/sh", "-c", "touch ran-workdir"}}, {"workdir", "/workspace" + nul + "/elsewhere"}}},
  };
  int n = 0;
  for (const auto& [what, exec] : cases) {
    SCOPED_TRACE(what);
    const std::string job = "job-nul-" + std::to_string(n++);
    auto j = call_json(job);
    j["exec"] = exec;
    j["workspace"] = world.workspace.string();
    auto fd = connect_to(world.socket);
    ASSERT_TRUE(proto::write_frame(fd.get(), j.dump(), std_fds).ok());
    auto r = answer(fd.get());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->reason, Reason::BAD_FIELD) << r->reason_detail;
    EXPECT_EQ(r->exit_code, 126) << r->reason_detail;
    auto rs = receipts(job);
    EXPECT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs.empty() ? Json() : rs[0]["phase"], "blocked");
  }
  // The workspace is a host path opened by the supervisor: cut at the NUL it would name another.
  const std::string job = "job-nul-ws";
  auto j = call_json(job);
  j["exec"] = {{"argv", {"/bin/sh", "-c", "touch /workspace/ran-workspace"}}};
  j["workspace"] = world.workspace.string() + nul + "/elsewhere";
  auto fd = connect_to(world.socket);
  ASSERT_TRUE(proto::write_frame(fd.get(), j.dump(), std_fds).ok());
  auto r = answer(fd.get());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reason, Reason::BAD_FIELD) << r->reason_detail;
  EXPECT_EQ(receipts(job).size(), 1u);
  for (const auto& name : {"ran-argv", "ran-command", "ran-env", "ran-env-name", "ran-env-eq", "ran-workdir", "ran-workspace"})
    EXPECT_FALSE(fs::exists(world.workspace / name)) << name;
}

// Numbers are numbers: a boolean, or an integer past the field's range, is the wrong type, not
// 1 or the value cut to fit (docs/protocol.md: wrong types are refused, BAD_FIELD).
TEST_F(Protocol, ABooleanOrAnOutOfRangeIntegerIsNotANumber) {
  auto valid = call_json("job-num-valid");
  valid["workspace"] = world.workspace.string();
  auto fd = connect_to(world.socket);
  ASSERT_TRUE(proto::write_frame(fd.get(), valid.dump(), std_fds).ok());
  auto ok = answer(fd.get());
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->reason, Reason::OK) << "the call itself is acceptable: " << ok->reason_detail;
  const std::vector<std::pair<Json, Reason>> cases = {
      {true, Reason::BAD_FIELD}, {4294967297LL, Reason::BAD_FIELD}, {-4294967295LL, Reason::BAD_FIELD},
      {1.0, Reason::FLOAT_NOT_ALLOWED}};
  int n = 0;
  for (const auto& [version, reason] : cases) {
    const std::string job = "job-num-" + std::to_string(n++);
    auto j = call_json(job);
    j["workspace"] = world.workspace.string();
    j["clawjail_protocol"] = version;
    fd = connect_to(world.socket);
    ASSERT_TRUE(proto::write_frame(fd.get(), j.dump(), std_fds).ok());
    auto r = answer(fd.get());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->decision, Verdict::blocked) << version.dump();
    EXPECT_EQ(r->reason, reason) << version.dump() << ": " << r->reason_detail;
    EXPECT_EQ(receipts(job).size(), 1u);
  }
}

// A model call (docs/claw-bundles.md) is parsed as strictly as any call, and under a WPC without a
// `models` block it is refused: each refusal a blocked receipt.
TEST_F(Protocol, ModelCallsAreStrictAndNeedTheWpcsModels) {
  const std::vector<std::tuple<std::function<void(Json&)>, Reason, std::string>> cases = {
      {[](Json& j) { j["model"]["temperature"] = 1; }, Reason::UNKNOWN_FIELD, "temperature"},
      {[](Json& j) { j["model"]["provider"] = ""; }, Reason::BAD_FIELD, "1 to 256"},
      {[](Json& j) { j["exec"] = {{"argv", {"/bin/true"}}}; }, Reason::BAD_FIELD, "exactly one of exec, fs and model"},
      {[](Json& j) { j["tool"] = "exec"; }, Reason::BAD_FIELD, "does not take model arguments"},
      {[](Json& j) { j["model"].erase("model"); }, Reason::MISSING_FIELD, "model"},
      {[](Json&) {}, Reason::MODEL_CALLS_NOT_CONFIGURED, "no models block"},
  };
  int n = 0;
  for (const auto& [edit, reason, why] : cases) {
    const std::string job = "job-model-" + std::to_string(n++);
    auto j = call_json(job);
    j.erase("exec");
    j["tool"] = "model_call";
    j["model"] = {{"provider", "anthropic"}, {"model", "claude"}};
    edit(j);
    auto fd = connect_to(world.socket);
    ASSERT_TRUE(proto::write_frame(fd.get(), j.dump(), std_fds).ok());
    auto r = answer(fd.get());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(reason_name(r->reason), reason_name(reason)) << j.dump();
    EXPECT_NE(r->reason_detail.find(why), std::string::npos) << r->reason_detail;
    EXPECT_EQ(r->exit_code, 126);
    auto rs = receipts(job);
    ASSERT_EQ(rs.size(), 1u) << j.dump();
    EXPECT_EQ(rs[0]["phase"], "blocked");
  }
}

TEST_F(Protocol, MissingTokenIsRefusedWithABlockedReceipt) {
  auto j = call_json("job-no-cst");
  j.erase("cst");
  auto fd = connect_to(world.socket);
  ASSERT_TRUE(proto::write_frame(fd.get(), j.dump(), std_fds).ok());
  auto r = answer(fd.get());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reason, Reason::CST_MISSING);
  auto rs = receipts("job-no-cst");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0]["reason_code"], "CST_MISSING");
}

TEST_F(Protocol, CallWithoutDescriptorsIsRefused) {
  auto fd = connect_to(world.socket);
  ASSERT_TRUE(proto::write_frame(fd.get(), call_json("job-nofds").dump()).ok());
  auto r = answer(fd.get());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reason, Reason::REQUEST_MALFORMED);
  EXPECT_EQ(receipts("job-nofds").size(), 1u);
}

TEST_F(Protocol, StalledPeerDoesNotStallOthers) {
  std::vector<UniqueFd> stalled;
  for (int i = 0; i < 8; ++i) {
    stalled.push_back(connect_to(world.socket));
    ASSERT_EQ(::write(stalled.back().get(), "\x00\x00", 2), 2);  // half a header, then nothing
  }
  auto cst = job_token("job-while-stalled");
  auto t0 = std::chrono::steady_clock::now();
  auto c = clawjail(run_args("job-while-stalled", cst, {"--", "/bin/echo", "served"}));
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "served\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  // The stalled ones are cut off at the request deadline.
  auto r = answer(stalled[0].get());
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->reason, Reason::REQUEST_TIMEOUT);
}

// Past --max-connections a client is told SUPERVISOR_BUSY (not a silent close), and is served
// again as soon as a connection frees up.
TEST_F(SupervisorTest, PastTheConnectionLimitClientsAreToldBusy) {
  start_supervisor({"--max-connections", "2"});
  // start_supervisor's own probe connection may still be counted for a moment: a connection
  // told busy meanwhile (readable: the answer and the close) is opened again.
  std::vector<UniqueFd> idle;
  for (int round = 0; round < 20 && idle.size() < 2; ++round) {
    while (idle.size() < 2) idle.push_back(connect_to(world.socket));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::erase_if(idle, [](const UniqueFd& fd) {
      pollfd p{fd.get(), POLLIN, 0};
      return ::poll(&p, 1, 0) != 0;
    });
  }
  ASSERT_EQ(idle.size(), 2u) << "two connections accepted and held";
  auto cst = job_token("job-busy");
  auto busy = clawjail(run_args("job-busy", cst, {"--", "/bin/true"}));
  EXPECT_EQ(busy.exit_code, 125);
  EXPECT_NE(busy.err.find("SUPERVISOR_BUSY"), std::string::npos) << busy.err;
  idle.clear();
  Captured served;
  for (int i = 0; i < 30; ++i) {  // the supervisor reaps closed connections at least once a second
    served = clawjail(run_args("job-busy", cst, {"--", "/bin/echo", "served"}));
    if (served.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(served.exit_code, 0) << served.err;
  EXPECT_EQ(served.out, "served\n");
}

TEST_F(Protocol, UnlistedUidIsRefusedAndListedUidIsServed) {
  stop_supervisor();
  demo::WorldOptions options;
  options.client_uids = {4242};
  make_world(options);
  start_supervisor();
  // Both reach the socket through its group (as members of the clawjail group would); only the
  // listed uid is served.
  struct stat st{};
  ASSERT_EQ(::stat(world.socket.c_str(), &st), 0);
  Json stop = {{"clawjail_protocol", 1}, {"type", "stop_job"}, {"job_id", "job-peer"}};
  auto refused = request_as(world.socket, 5151, {st.st_gid}, stop);
  ASSERT_TRUE(refused.ok()) << refused.error().detail << supervisor_log();
  EXPECT_EQ((*refused)["reason_code"], "PEER_NOT_ALLOWED");
  auto served = request_as(world.socket, 4242, {st.st_gid}, stop);
  ASSERT_TRUE(served.ok()) << served.error().detail << supervisor_log();
  EXPECT_NE((*served)["reason_code"], "PEER_NOT_ALLOWED") << served->dump();
}

}  // namespace
}  // namespace clawjail::test
