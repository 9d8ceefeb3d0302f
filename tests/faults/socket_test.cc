// Hostile peers on the socket, many at once: garbage, truncated and oversized frames, a peer that
// sends a header and stalls, 1,000 idle connections, an unauthorized uid. The supervisor answers
// each with a clear error, keeps serving a real client meanwhile, and the journal records the
// refused peer.
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/faults/journald.h"

namespace clawjail::test {
namespace {

constexpr int kIdle = 1000;

class HostileSocket : public SupervisorTest {};

void write_all(int fd, std::string_view bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}
std::string header(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
}

TEST_F(HostileSocket, BadPeersGetClearErrorsWhileARealClientIsServed) {
  start_supervisor();
  // 1,000 connections that say nothing at all.
  std::vector<UniqueFd> idle;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(connect_unix(world.socket));
    ASSERT_TRUE(idle.back()) << "connection " << i << ": " << std::strerror(errno);
  }
  auto garbage = connect_unix(world.socket);
  const std::string junk = "\x01\x02garbage, no JSON!";
  write_all(garbage.get(), header(static_cast<uint32_t>(junk.size())) + junk);
  auto truncated = connect_unix(world.socket);
  write_all(truncated.get(), header(500) + "{\"clawjail_protocol\":1,");
  ::shutdown(truncated.get(), SHUT_WR);
  auto oversized = connect_unix(world.socket);
  write_all(oversized.get(), header(64u << 20));
  auto stalled = connect_unix(world.socket);
  write_all(stalled.get(), header(300));  // promises a body, sends nothing
  auto not_a_frame = connect_unix(world.socket);
  write_all(not_a_frame.get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");

  // A real client, through the real binary, is served promptly meanwhile.
  auto cst = job_token("job-amid-attack");
  auto t0 = Clock::now();
  auto c = clawjail(run_args("job-amid-attack", cst, {"--", "/bin/echo", "served"}));
  EXPECT_EQ(c.exit_code, 0) << c.err << supervisor_log().substr(0, 4000);
  EXPECT_EQ(c.out, "served\n");
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));

  auto expect_reason = [](int fd, Reason want, const char* what) {
    auto r = read_answer(fd, std::chrono::seconds(30));
    ASSERT_TRUE(r.ok()) << what << ": " << r.error().detail;
    EXPECT_EQ(r->reason, want) << what << ": " << reason_name(r->reason) << " " << r->reason_detail;
    EXPECT_EQ(r->decision, Verdict::blocked) << what;
    EXPECT_FALSE(r->reason_detail.empty()) << what;
  };
  expect_reason(garbage.get(), Reason::REQUEST_MALFORMED, "garbage");
  expect_reason(truncated.get(), Reason::REQUEST_MALFORMED, "truncated");
  expect_reason(oversized.get(), Reason::REQUEST_TOO_LARGE, "oversized");
  expect_reason(not_a_frame.get(), Reason::REQUEST_TOO_LARGE, "HTTP bytes (length 'GET ' = 1.2 GB)");
  expect_reason(stalled.get(), Reason::REQUEST_TIMEOUT, "stalled after the header");
  // Every idle connection gets its answer too (the request deadline), none is left hanging.
  int answered = 0;
  for (auto& fd : idle) {
    auto r = read_answer(fd.get(), std::chrono::seconds(30));
    if (r && r->reason == Reason::REQUEST_TIMEOUT) ++answered;
  }
  EXPECT_EQ(answered, kIdle);
  idle.clear();
  // And the supervisor still serves, with nothing of the attack left behind.
  auto after = clawjail(run_args("job-amid-attack", cst, {"--", "/bin/true"}));
  EXPECT_EQ(after.exit_code, 0) << after.err;
  for (int i = 0; i < 50 && usage_of(supervisor).threads > 8; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LE(usage_of(supervisor).threads, 8) << to_string(usage_of(supervisor));
  EXPECT_EQ(receipts("job-amid-attack").size(), 4u);
}

// Connects as `uid` from a forked child, sends a call request and hands back the answer's
// reason code and detail through a pipe.
std::pair<int, std::string> call_as_uid(const fs::path& socket, uid_t uid, const Json& request) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return {-1, "pipe"};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    // In the socket's group (it is 0660): the supervisor's own peer check is what must refuse it.
    struct stat st{};
    if (::stat(socket.c_str(), &st) != 0) _exit(2);
    gid_t gid = static_cast<gid_t>(uid);
    if (::setgroups(1, &st.st_gid) != 0 || ::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0) _exit(2);
    auto r = call_once(socket, request);
    std::string text = r ? std::string(reason_name(r->reason)) + " " + r->reason_detail : "error " + r.error().detail;
    (void)!::write(p[1], text.data(), text.size());
    _exit(0);
  }
  ::close(p[1]);
  std::string text = read_all(p[0]);
  ::close(p[0]);
  return {wait_exit_code(pid), text};
}

TEST_F(HostileSocket, UnauthorizedUidIsRefusedAndTheJournalRecordsIt) {
  ASSERT_TRUE(ensure_host_journald());
  demo::WorldOptions options;
  options.client_uids = {4242};
  make_world(options);
  start_supervisor();
  const uid_t intruder = 50000 + static_cast<uid_t>(::getpid() % 10000);
  Json request = {{"clawjail_protocol", 1}, {"type", "call"}, {"job_id", "job-intruder"}, {"wpc_hash_b64u", main_wpc},
                  {"tool", "exec"}, {"cst", demo::issue_token(world, {.job = "job-intruder", .policy_hash_b64u = main_wpc})},
                  {"exec", {{"argv", {"/bin/true"}}}}};
  auto [code, answer] = call_as_uid(world.socket, intruder, request);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(answer.rfind("PEER_NOT_ALLOWED ", 0), 0u) << answer;
  EXPECT_NE(answer.find(std::to_string(intruder)), std::string::npos) << answer;
  EXPECT_TRUE(receipts("job-intruder").empty()) << "an unauthenticated peer must not write receipts";
  // Still serving root.
  auto ok = clawjail(run_args("job-after-intruder", job_token("job-after-intruder"), {"--", "/bin/true"}));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // The refused peer is in the journal, findable by its uid.
  std::vector<Json> found;
  for (int i = 0; i < 50 && found.empty(); ++i) {
    for (const auto& e : journal_entries({"SYSLOG_IDENTIFIER=clawjail", "--since", "-10min"}))
      if (e.value("MESSAGE", "").find("uid " + std::to_string(intruder)) != std::string::npos) found.push_back(e);
    if (found.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(found.empty()) << "no journal entry names uid " << intruder;
  EXPECT_NE(found[0].value("MESSAGE", "").find("PEER_NOT_ALLOWED"), std::string::npos) << found[0].dump();
}

}  // namespace
}  // namespace clawjail::test
