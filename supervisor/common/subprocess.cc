#include "supervisor/common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

extern char** environ;

namespace clawjail {
namespace {

struct Pipe {
  UniqueFd read, write;
};
Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(Reason::INTERNAL_ERROR, std::string("pipe: ") + std::strerror(errno));
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// This process's environment with `extra` (NAME=VALUE) replacing or adding those names.
std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  auto overridden = [&](std::string_view entry) {
    for (const auto& e : extra)
      if (entry.substr(0, entry.find('=') + 1) == std::string_view(e).substr(0, e.find('=') + 1)) return true;
    return false;
  };
  for (char** e = environ; e && *e; ++e)
    if (!overridden(*e)) out.emplace_back(*e);
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

Result<pid_t> spawn_with(const std::vector<std::string>& argv, int in, int out, int err,
                         const std::vector<std::string>* env = nullptr, bool own_group = false) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, err, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (own_group) {
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
  }
  pid_t pid = 0;
  auto args = c_argv(argv);
  auto envp = env ? c_argv(*env) : std::vector<char*>{};
  int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env ? envp.data() : environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail(Reason::INTERNAL_ERROR, "cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Feeds `input` and drains both outputs together so that neither pipe can fill and block.
// `target` is what kill() is given at the deadline: the child, or minus its process group.
void pump(Pipe& in, Pipe& out, Pipe& err, std::string_view input, Captured& c,
          std::chrono::steady_clock::time_point deadline, pid_t target, size_t max_output) {
  size_t fed = 0;
  if (input.empty()) in.write.reset();
  while (out.read || err.read) {
    pollfd fds[3] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}, {in.write.get(), POLLOUT, 0}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const bool over = max_output && c.out.size() + c.err.size() > max_output;
    if (left.count() <= 0 || over) {
      ::kill(target, SIGKILL);
      deadline = std::chrono::steady_clock::time_point::max();
      max_output = 0;  // killed once; now drain to the end of both pipes
      continue;
    }
    if (::poll(fds, 3, static_cast<int>(std::min<int64_t>(left.count(), 1000))) < 0 && errno != EINTR) break;
    char buf[65536];
    for (auto [i, sink, pipe] : {std::tuple{0, &c.out, &out}, std::tuple{1, &c.err, &err}}) {
      if (!fds[i].revents) continue;
      ssize_t n = ::read(pipe->read.get(), buf, sizeof(buf));
      if (n <= 0) pipe->read.reset();
      else sink->append(buf, static_cast<size_t>(n));
    }
    if (fds[2].revents) {
      ssize_t n = ::write(in.write.get(), input.data() + fed, input.size() - fed);
      if (n > 0) fed += static_cast<size_t>(n);
      if (n <= 0 || fed == input.size()) in.write.reset();
    }
  }
}

}  // namespace

int wait_exit_code(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

Result<Captured> run_captured(const std::vector<std::string>& argv, std::string_view input,
                              std::chrono::milliseconds timeout) {
  RunOptions options;
  options.timeout = timeout;
  return run_captured(argv, input, options);
}

Result<Captured> run_captured(const std::vector<std::string>& argv, std::string_view input, const RunOptions& options) {
  auto in = make_pipe(), out = make_pipe(), err = make_pipe();
  if (!in || !out || !err) return fail(Reason::INTERNAL_ERROR, "cannot create pipes");
  const auto env = merged_env(options.extra_env);
  auto pid = spawn_with(argv, in->read.get(), out->write.get(), err->write.get(),
                        options.extra_env.empty() ? nullptr : &env, options.own_group);
  if (!pid) return pid.error();
  in->read.reset();
  out->write.reset();
  err->write.reset();
  Captured c;
  pump(*in, *out, *err, input, c, std::chrono::steady_clock::now() + options.timeout,
       options.own_group ? -*pid : *pid, options.max_output);
  c.exit_code = wait_exit_code(*pid);
  if (options.own_group) ::kill(-*pid, SIGKILL);  // helpers it left behind
  return c;
}

Result<pid_t> spawn_logged(const std::vector<std::string>& argv, int log_fd) {
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) return fail(Reason::INTERNAL_ERROR, "cannot open /dev/null");
  return spawn_with(argv, null.get(), log_fd, log_fd);
}

std::filesystem::path self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("/proc/self/exe") : p;
}

}  // namespace clawjail
