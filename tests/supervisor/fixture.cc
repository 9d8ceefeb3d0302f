#include "fixture.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "base/unique_fd.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "receipts/receipts.h"
#include "supervisor/client/client.h"
#include "supervisor/proto/protocol.h"

extern char** environ;

namespace clawjail::test {

void SupervisorTest::SetUp() {
  ::signal(SIGPIPE, SIG_IGN);
  char tmpl[] = "/tmp/clawjail-suptest-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  root = tmpl;
  make_world();
}

void SupervisorTest::make_world(const demo::WorldOptions& options) {
  fs::remove_all(root);
  auto w = demo::create_world(root, options);
  ASSERT_TRUE(w.ok()) << w.error().detail;
  world = std::move(w.value());
  auto hash = demo::install_wpc(world, demo::wpc_payload(world, {}));
  ASSERT_TRUE(hash.ok()) << hash.error().detail;
  main_wpc = *hash;
}

void SupervisorTest::TearDown() {
  if (supervisor > 0) stop_supervisor(SIGKILL);
  if (!HasFailure()) fs::remove_all(root);
  else std::cerr << "kept " << root << " for inspection; supervisor log:\n" << supervisor_log() << "\n";
}

namespace {
bool socket_answers(const fs::path& path) { return static_cast<bool>(client::connect_unix(path)); }
}  // namespace

void SupervisorTest::start_supervisor(std::vector<std::string> extra) {
  UniqueFd log(::open((root / "supervisor.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  std::vector<std::string> argv = {CLAWJAIL_BINARY, "serve", "--config", world.config_path.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto pid = spawn_logged(argv, log.get());
  ASSERT_TRUE(pid.ok()) << pid.error().detail;
  supervisor = *pid;
  for (int i = 0; i < 200; ++i) {
    if (socket_answers(world.socket)) return;
    int status;
    if (::waitpid(supervisor, &status, WNOHANG) == supervisor) {
      supervisor = -1;
      FAIL() << "supervisor exited at start-up: " << supervisor_log();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL() << "supervisor socket never answered: " << supervisor_log();
}

int SupervisorTest::stop_supervisor(int sig) {
  if (supervisor <= 0) return -1;
  ::kill(supervisor, sig);
  int code = wait_exit_code(supervisor);
  supervisor = -1;
  return code;
}

std::vector<std::string> SupervisorTest::run_args(const std::string& job, const fs::path& cst,
                                                  std::vector<std::string> tail) {
  std::vector<std::string> a = {"run", "--socket", world.socket.string(), "--job", job, "--cst-file", cst.string(),
                                "--workspace", world.workspace.string()};
  a.insert(a.end(), tail.begin(), tail.end());
  return a;
}

Captured SupervisorTest::clawjail(std::vector<std::string> args, std::string_view input) {
  args.insert(args.begin(), CLAWJAIL_BINARY);
  auto c = run_captured(args, input, std::chrono::seconds(60));
  EXPECT_TRUE(c.ok()) << c.error().detail;
  return c.ok() ? c.value() : Captured{};
}

Client SupervisorTest::start_client(std::vector<std::string> args, bool piped_stdin) {
  args.insert(args.begin(), CLAWJAIL_BINARY);
  int in[2] = {-1, -1}, out[2], err[2];
  Client c;
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return c;
  if (piped_stdin && ::pipe2(in, O_CLOEXEC) != 0) return c;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (piped_stdin)
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  else
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::posix_spawn(&c.pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  for (int fd : {in[0], out[1], err[1]})
    if (fd >= 0) ::close(fd);
  c.in.reset(in[1]);
  c.out.reset(out[0]);
  c.err.reset(err[0]);
  return c;
}

std::string SupervisorTest::install_background_wpc(int64_t timeout_ms, int64_t background_ms) {
  Json payload = demo::wpc_payload(world, {.policy_id = "background-" + std::to_string(background_ms)});
  payload["tools"]["allow"].push_back("process");
  payload["sandbox"]["limits"] = {{"timeout_ms", timeout_ms}, {"background_ms", background_ms}};
  auto hash = demo::install_wpc(world, payload);
  EXPECT_TRUE(hash.ok()) << (hash.ok() ? "" : hash.error().detail);
  return hash.ok() ? *hash : "";
}

fs::path SupervisorTest::token_file(const std::string& name, const demo::TokenOptions& options) {
  auto path = root / (name + ".cst");
  EXPECT_TRUE(demo::write_file(path, demo::issue_token(world, options)).ok());
  return path;
}

std::vector<Json> SupervisorTest::receipts(const std::string& job) {
  std::vector<Json> out;
  auto log = receipts::read_job_log(world.state_dir, job);
  if (!log) return out;
  for (const auto& e : log->envelopes) {
    auto bytes = policy::b64_decode(e.value("payload", ""));
    if (bytes) out.push_back(Json::parse(*bytes));
  }
  return out;
}

bool SupervisorTest::wait_receipts(const std::string& job, size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (receipts(job).size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string SupervisorTest::supervisor_log() {
  std::ifstream in(root / "supervisor.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<Json> request_as(const fs::path& socket, uid_t uid, const std::vector<gid_t>& groups, const Json& request) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail(Reason::INTERNAL_ERROR, "pipe");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    auto gid = static_cast<gid_t>(uid);
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0)
      _exit(2);
    auto fd = client::connect_unix(socket);
    if (!fd) _exit(3);
    // A refused peer may be answered and closed before its request is written (EPIPE): the
    // answer is still there to read, as the real client does.
    (void)proto::write_frame(fd.get(), request.dump());
    auto frame = proto::read_frame(fd.get(), std::chrono::steady_clock::now() + std::chrono::seconds(20));
    if (!frame) _exit(5);
    (void)!::write(pipefd[1], frame->body.data(), frame->body.size());
    _exit(0);
  }
  ::close(pipefd[1]);
  UniqueFd from_child(pipefd[0]);
  std::string body = read_all(from_child.get());
  int code = wait_exit_code(pid);
  static const char* const kSteps[] = {"", "", "could not drop privileges", "could not connect", "", "got no answer"};
  if (code != 0)
    return fail(Reason::INTERNAL_ERROR, "uid " + std::to_string(uid) + ": " +
                                            (code > 0 && code < 6 ? kSteps[code] : "exit " + std::to_string(code)));
  return Json::parse(body);
}

bool process_with_marker_exists(const std::string& marker) {
  // A process may exit between the listing and the read: its cmdline then reads as ESRCH, which
  // an istreambuf_iterator would throw; read with the fd and treat any error as "gone".
  for (const auto& entry : fs::directory_iterator("/proc")) {
    int fd = ::open((entry.path() / "cmdline").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::string cmdline = read_all(fd);
    ::close(fd);
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(marker) != std::string::npos && cmdline.find("clawjail") == std::string::npos) return true;
  }
  return false;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace clawjail::test
