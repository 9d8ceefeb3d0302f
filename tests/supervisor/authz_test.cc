// Who may reach the supervisor and what a listed client may do to jobs that are not its own:
// the socket's mode, `job stop` without the job's CST, and uid leases a local user could squat.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "fixture.h"
#include "sandbox/jail.h"
#include "supervisor/client/client.h"

namespace clawjail::test {
namespace {

constexpr uid_t kClient = 4242;    // listed in clients.uids
constexpr uid_t kStranger = 5151;  // a local user the configuration does not name

demo::WorldOptions clients(std::vector<uid_t> uids, std::vector<gid_t> gids = {}) {
  demo::WorldOptions o;
  o.client_uids = std::move(uids);
  o.client_gids = std::move(gids);
  return o;
}

class Authz : public SupervisorTest {
 protected:
  void start_with(demo::WorldOptions options) {
    make_world(options);
    start_supervisor();
  }
  gid_t socket_group() {
    struct stat st{};
    EXPECT_EQ(::stat(world.socket.c_str(), &st), 0);
    return st.st_gid;
  }
  Json stop_request(const std::string& job, const std::optional<std::string>& cst = std::nullopt) {
    Json r = {{"clawjail_protocol", 1}, {"type", "stop_job"}, {"job_id", job}};
    if (cst) r["cst"] = *cst;
    return r;
  }
  std::string token_of(const std::string& job) {
    return demo::issue_token(world, {.job = job, .policy_hash_b64u = main_wpc});
  }
};

TEST_F(Authz, TheSocketIsNeverWorldConnectable) {
  for (const auto& options : {clients({}), clients({kClient}), clients({}, {7373}), clients({kClient}, {7373})}) {
    stop_supervisor();
    start_with(options);
    struct stat st{};
    ASSERT_EQ(::stat(world.socket.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777 & ~0660u, 0u) << "mode " << std::oct << (st.st_mode & 07777);
    // A user in none of the socket's groups cannot even connect, listed uid or not.
    for (uid_t uid : {kStranger, kClient}) {
      auto r = request_as(world.socket, uid, {}, stop_request("job-x"));
      ASSERT_FALSE(r.ok()) << "uid " << uid << " reached the socket: " << r->dump();
      EXPECT_NE(r.error().detail.find("could not connect"), std::string::npos) << r.error().detail;
    }
  }
}

TEST_F(Authz, JobStopNeedsTheJobsTokenOrTheOperator) {
  start_with(clients({kClient}));
  const gid_t group = socket_group();
  auto cst = job_token("job-victim");
  ASSERT_EQ(clawjail(run_args("job-victim", cst, {"--", "/bin/true"})).exit_code, 0);

  // A listed client without a token, or with another job's, cannot stop the job.
  for (const auto& token : {std::optional<std::string>{}, std::optional<std::string>{token_of("job-other")}}) {
    auto refused = request_as(world.socket, kClient, {group}, stop_request("job-victim", token));
    ASSERT_TRUE(refused.ok()) << refused.error().detail << supervisor_log();
    EXPECT_EQ((*refused)["type"], "result") << refused->dump();
    EXPECT_EQ((*refused)["decision"], "blocked") << refused->dump();
    EXPECT_EQ((*refused)["exit_code"], 126) << refused->dump();
    auto r = receipts("job-victim");
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r.back()["phase"], "blocked");
    EXPECT_EQ(r.back()["tool"], "job_stop");
    EXPECT_EQ(r.back()["reason_code"], (*refused)["reason_code"]);
  }
  auto still = clawjail(run_args("job-victim", cst, {"--", "/bin/echo", "still-running"}));
  EXPECT_EQ(still.exit_code, 0) << still.err;
  EXPECT_EQ(still.out, "still-running\n");

  // With the job's own token it stops.
  auto stopped = request_as(world.socket, kClient, {group}, stop_request("job-victim", token_of("job-victim")));
  ASSERT_TRUE(stopped.ok()) << stopped.error().detail;
  EXPECT_EQ((*stopped)["type"], "stopped") << stopped->dump();
  auto after = clawjail(run_args("job-victim", cst, {"--", "/bin/true"}));
  EXPECT_EQ(after.exit_code, 126);
  EXPECT_NE(after.err.find("JOB_STOPPED"), std::string::npos) << after.err;

  // The operator needs no token; the CLI passes one with --cst-file.
  auto by_root = clawjail({"job", "stop", "job-root", "--socket", world.socket.string()});
  EXPECT_EQ(by_root.exit_code, 0) << by_root.err;
  auto other = job_token("job-cli");
  auto by_file = clawjail({"job", "stop", "job-cli", "--socket", world.socket.string(), "--cst-file", other.string()});
  EXPECT_EQ(by_file.exit_code, 0) << by_file.err;
}

// Holds `fd`s in a child running as an unprivileged user until the test ends.
struct Squatter {
  pid_t pid = -1;
  ~Squatter() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      wait_exit_code(pid);
    }
  }
};

// The old lock names (abstract sockets, `@clawjail-jail-uid-N`) and the lease file itself, tried
// by uid 65534: the names can be bound, the lease file cannot be opened, and calls still run.
TEST_F(Authz, ALocalUserCannotSquatTheJailUids) {
  constexpr uid_t kFirst = 231000, kCount = 3;
  demo::WorldOptions options;
  options.uid_range = std::to_string(kFirst) + ":" + std::to_string(kCount);
  start_with(options);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  Squatter squatter;
  squatter.pid = ::fork();
  if (squatter.pid == 0) {
    ::close(ready[0]);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
      _exit(2);
    char report = 'S';  // S: squatted every name
    for (uid_t uid = kFirst; uid < kFirst + kCount; ++uid) {
      int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::string name = "clawjail-jail-uid-" + std::to_string(uid);
      std::memcpy(addr.sun_path + 1, name.data(), name.size());
      auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
      if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) report = 'n';
    }
    int lock = ::open(sandbox::kJailUidLeaseFile, O_RDONLY | O_CLOEXEC);
    if (lock >= 0 && ::flock(lock, LOCK_EX | LOCK_NB) == 0) report = 'L';  // took the lease file
    (void)!::write(ready[1], &report, 1);
    ::pause();
    _exit(0);
  }
  ::close(ready[1]);
  char report = 0;
  ASSERT_EQ(::read(ready[0], &report, 1), 1);
  ::close(ready[0]);
  EXPECT_EQ(report, 'S') << "n: an old name could not be bound; L: the lease file was locked";
  auto cst = job_token("job-squat");
  for (int i = 0; i < 3; ++i) {
    auto c = clawjail(run_args("job-squat", cst, {"--", "/bin/sh", "-c", "id -u"}));
    EXPECT_EQ(c.exit_code, 0) << c.err << supervisor_log();
  }
}

}  // namespace
}  // namespace clawjail::test
