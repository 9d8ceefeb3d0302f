// The supervisor's own log: spdlog to a real journald when its socket exists, else stderr, at the
// configured level; a level that is not one never silences the log.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "policy/json.h"
#include "base/unique_fd.h"
#include "supervisor/daemon/logging.h"
#include "tests/common/journald.h"

extern char** environ;

namespace clawjail {
namespace {

namespace fs = std::filesystem;

std::string unique(const std::string& prefix) {
  std::random_device rd;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/var/tmp/clawjail-logging-XXXXXX";
    if (::mkdtemp(tmpl)) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

::testing::AssertionResult ensure_journald() {
  std::string why = test::journald::ensure_host();
  return why.empty() ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << why;
}

// Everything a pipe gives until its writers are gone.
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

// journalctl -o json MATCH…, one entry per line.
std::vector<policy::Json> journal(const std::vector<std::string>& matches) {
  std::vector<std::string> args = {"/usr/bin/journalctl", "--no-pager", "-o", "json"};
  args.insert(args.end(), matches.begin(), matches.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::array<int, 2> p{};
  if (::pipe2(p.data(), O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t io;
  posix_spawn_file_actions_init(&io);
  posix_spawn_file_actions_adddup2(&io, p[1], STDOUT_FILENO);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &io, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&io);
  ::close(p[1]);
  const std::string out = rc == 0 ? read_all(p[0]) : "";
  ::close(p[0]);
  if (rc == 0) ::waitpid(pid, nullptr, 0);
  std::vector<policy::Json> entries;
  size_t start = 0;
  for (size_t end; (end = out.find('\n', start)) != std::string::npos; start = end + 1)
    if (auto j = policy::Json::parse(out.substr(start, end - start), nullptr, false); j.is_object())
      entries.push_back(j);
  return entries;
}

std::vector<policy::Json> wait_for(const std::vector<std::string>& matches) {
  std::vector<policy::Json> entries;
  for (int i = 0; i < 100 && entries.empty(); ++i) {
    entries = journal(matches);
    if (entries.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return entries;
}

fs::path bound_socket(const fs::path& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return path;
}

TEST(Logging, LevelsParseAndUnknownNamesAreRefused) {
  EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
  EXPECT_EQ(parse_log_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("warning"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("error"), spdlog::level::err);
  EXPECT_EQ(parse_log_level("off"), spdlog::level::off);
  // spdlog's own from_str maps these to "off"; ours must not.
  EXPECT_EQ(parse_log_level("loud"), std::nullopt);
  EXPECT_EQ(parse_log_level(""), std::nullopt);
  EXPECT_EQ(parse_log_level("INFO"), std::nullopt);
}

TEST(Logging, WithoutJournaldLinesGoToStderr) {
  TempDir dir;
  init_logging("info", dir.path() / "no-journal.socket");
  ASSERT_EQ(spdlog::default_logger()->sinks().size(), 1u);
  EXPECT_EQ(std::dynamic_pointer_cast<JournalOrStderrSink>(spdlog::default_logger()->sinks()[0]), nullptr);
  const std::string token = unique("stderr-line");
  ::testing::internal::CaptureStderr();
  spdlog::info("{}", token);
  spdlog::debug("{}-debug", token);
  spdlog::default_logger()->flush();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find(token + "\n"), std::string::npos) << err;
  EXPECT_NE(err.find("clawjail["), std::string::npos) << err;
  EXPECT_EQ(err.find(token + "-debug"), std::string::npos) << "debug printed at level info: " << err;
}

TEST(Logging, ConfiguredLevelFilters) {
  TempDir dir;
  init_logging("error", dir.path() / "no-journal.socket");
  const std::string token = unique("level");
  ::testing::internal::CaptureStderr();
  spdlog::warn("{}-warn", token);
  spdlog::error("{}-error", token);
  spdlog::default_logger()->flush();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find(token + "-warn"), std::string::npos) << err;
  EXPECT_NE(err.find(token + "-error"), std::string::npos) << err;
}

TEST(Logging, UnknownLevelFallsBackToInfoAndSaysSo) {
  TempDir dir;
  ::testing::internal::CaptureStderr();
  init_logging("loud", dir.path() / "no-journal.socket");
  spdlog::default_logger()->flush();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
  EXPECT_NE(err.find("log_level \"loud\" is not a level"), std::string::npos) << err;
}

TEST(Logging, JournalSocketSelectsTheJournal) {
  TempDir dir;
  init_logging("debug", bound_socket(dir.path() / "journal.socket"));
  ASSERT_EQ(spdlog::default_logger()->sinks().size(), 1u);
  EXPECT_NE(std::dynamic_pointer_cast<JournalOrStderrSink>(spdlog::default_logger()->sinks()[0]), nullptr);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);
}

TEST(Logging, LinesReachARealJournaldWithIdentifierAndPriority) {
  ASSERT_TRUE(ensure_journald());
  init_logging("info");
  const std::string token = unique("journal-line");
  spdlog::warn("{}", token);
  spdlog::default_logger()->flush();
  auto entries = wait_for({"SYSLOG_IDENTIFIER=clawjail", "MESSAGE=" + token});
  ASSERT_EQ(entries.size(), 1u) << "journalctl SYSLOG_IDENTIFIER=clawjail MESSAGE=" << token << " found nothing";
  EXPECT_EQ(entries[0]["PRIORITY"], "4");  // LOG_WARNING
  EXPECT_EQ(entries[0]["_PID"], std::to_string(::getpid()));
}

// journald stopped (or restarting) while its socket file stays: sd_journal_send() fails, and the
// lines go to stderr instead of nowhere, after one warning that says why. Run in a child with its
// own mount namespace, where a socket nobody reads is bound over journald's.
TEST(Logging, AJournaldThatStoppedTakingLinesDoesNotSwallowThem) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: a mount namespace with journald's socket replaced";
  ASSERT_TRUE(ensure_journald());
  TempDir dir;
  const fs::path dead = bound_socket(dir.path() / "dead.socket");  // closed at once: ECONNREFUSED
  const std::string token = unique("refused-line");
  std::array<int, 2> err{};
  ASSERT_EQ(::pipe2(err.data(), O_CLOEXEC), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(err[1], STDERR_FILENO);
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount(dead.c_str(), kJournalSocket, nullptr, MS_BIND, nullptr) != 0)
      ::_exit(3);
    init_logging("info");
    spdlog::warn("{}-1", token);
    spdlog::error("{}-2", token);
    spdlog::default_logger()->flush();
    ::_exit(0);
  }
  ::close(err[1]);
  const std::string out = read_all(err[0]);
  ::close(err[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child could not replace the socket: " << status;
  EXPECT_NE(out.find(token + "-1\n"), std::string::npos) << out;
  EXPECT_NE(out.find(token + "-2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("journald does not take the log"), std::string::npos) << out;
  EXPECT_EQ(out.find("journald does not take the log"), out.rfind("journald does not take the log")) << "warned twice";
  EXPECT_TRUE(journal({"MESSAGE=" + token + "-1"}).empty()) << "the line reached journald after all";
}

}  // namespace
}  // namespace clawjail
