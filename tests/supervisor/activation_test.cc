// Socket activation and readiness the way systemd does them, with systemd's own tools:
// systemd-socket-activate binds the socket and starts the supervisor on the first connection
// (LISTEN_FDS/LISTEN_PID), and the supervisor reports READY=1 / STOPPING=1 on NOTIFY_SOCKET.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcntl.h>

#include "fixture.h"
#include "base/unique_fd.h"

namespace clawjail::test {
namespace {

constexpr const char* kActivate = "/usr/bin/systemd-socket-activate";

// A datagram socket standing in for systemd's notification socket.
struct NotifySocket {
  fs::path path;
  UniqueFd fd;
  explicit NotifySocket(fs::path p) : path(std::move(p)), fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
  }
  // Messages received until one contains `want` or the timeout passes.
  std::string wait_for(const std::string& want, std::chrono::milliseconds timeout) {
    std::string seen;
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end && seen.find(want) == std::string::npos) {
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n > 0) seen.append(buf, static_cast<size_t>(n)).push_back('\n');
    }
    return seen;
  }
};

class Activation : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    if (::access(kActivate, X_OK) != 0) GTEST_SKIP() << kActivate << " missing (package systemd)";
  }
  // Starts systemd-socket-activate listening on the configured socket path; it runs the
  // supervisor in its own place when the first client connects.
  void start_activated(const NotifySocket& notify, std::vector<std::string> flags = {}) {
    UniqueFd log(::open((root / "supervisor.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    std::vector<std::string> argv = {kActivate, "-l", world.socket.string(), "-E", "NOTIFY_SOCKET=" + notify.path.string()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    for (std::string a : {std::string(CLAWJAIL_BINARY), std::string("serve"), std::string("--config"), world.config_path.string()})
      argv.push_back(a);
    auto pid = spawn_logged(argv, log.get());
    ASSERT_TRUE(pid.ok()) << pid.error().detail;
    supervisor = *pid;
    for (int i = 0; i < 100 && !fs::exists(world.socket); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(fs::exists(world.socket)) << supervisor_log();
  }
};

TEST_F(Activation, FirstCallStartsTheSupervisorOnTheInheritedSocket) {
  NotifySocket notify(root / "notify.sock");
  start_activated(notify);
  struct stat before{};
  ASSERT_EQ(::stat(world.socket.c_str(), &before), 0);

  auto c = clawjail(run_args("job-activated", job_token("job-activated"), {"/bin/echo", "activated"}));
  EXPECT_EQ(c.exit_code, 0) << c.err << supervisor_log();
  EXPECT_EQ(c.out, "activated\n");
  EXPECT_NE(notify.wait_for("READY=1", std::chrono::seconds(10)).find("READY=1"), std::string::npos)
      << supervisor_log();

  // The supervisor served on systemd's socket: the file is the same one, not re-created.
  struct stat after{};
  ASSERT_EQ(::stat(world.socket.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  auto second = clawjail(run_args("job-activated", job_token("job-activated-2"), {"/bin/true"}));
  EXPECT_EQ(second.exit_code, 126) << "a second token for the same job id but another mission is refused";
  EXPECT_EQ(receipts("job-activated").size(), 3u) << "started, finished, blocked";

  ::kill(supervisor, SIGTERM);
  EXPECT_NE(notify.wait_for("STOPPING=1", std::chrono::seconds(10)).find("STOPPING=1"), std::string::npos);
  int code = wait_exit_code(supervisor);
  supervisor = -1;
  EXPECT_EQ(code, 0) << supervisor_log();
}

TEST_F(Activation, ASocketOfTheWrongKindIsAClearStartUpError) {
  NotifySocket notify(root / "notify.sock");
  start_activated(notify, {"--datagram"});
  // A datagram "connection" is just a message; it is what makes systemd-socket-activate start us.
  UniqueFd poke(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, world.socket.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::sendto(poke.get(), "x", 1, 0, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 1);
  int code = wait_exit_code(supervisor);
  supervisor = -1;
  EXPECT_EQ(code, 1);
  EXPECT_NE(supervisor_log().find("not a listening Unix stream socket"), std::string::npos) << supervisor_log();
  EXPECT_EQ(notify.wait_for("READY=1", std::chrono::milliseconds(300)).find("READY=1"), std::string::npos)
      << "a supervisor that cannot serve must not report ready";
}

}  // namespace
}  // namespace clawjail::test
