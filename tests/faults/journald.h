// A real systemd-journald for the fault tests: the host's (started when none listens), or a
// private one in this thread's own mount namespace that a test may stop without touching the
// journal other suites use.
#pragma once
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <thread>

#include "tests/load/harness.h"

extern char** environ;

namespace clawjail::test {

inline constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

inline bool journald_listening() {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, kJournalSocket, sizeof addr.sun_path - 1);
  return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

inline pid_t spawn_journald() {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  posix_spawn_file_actions_t io;
  posix_spawn_file_actions_init(&io);
  for (int fd = 0; fd <= 2; ++fd) posix_spawn_file_actions_addopen(&io, fd, "/dev/null", O_RDWR, 0);
  char path[] = "/lib/systemd/systemd-journald";
  char* argv[] = {path, nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path, &io, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&io);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return -1;
  for (int i = 0; i < 100 && !journald_listening(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return journald_listening() ? pid : -1;
}

// The host's journald, started once for every test process (an flock serialises suites) and left
// running for the suites after us.
inline bool ensure_host_journald() {
  if (journald_listening()) return true;
  UniqueFd lock(::open("/run/clawjail-tests-journald.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock) ::flock(lock.get(), LOCK_EX);
  return journald_listening() || spawn_journald() > 0;
}

// A private journald: this thread moves into a new mount namespace where /run/systemd, /run/log
// and /var/log/journal are fresh tmpfs, so the journald started there (and the supervisor
// started after it) see only each other. Returns journald's pid, or -1.
inline pid_t private_journald() {
  if (::unshare(CLONE_NEWNS) != 0) return -1;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return -1;
  for (const char* dir : {"/run/systemd", "/run/log", "/var/log/journal"}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (::mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m") != 0) return -1;
  }
  return spawn_journald();
}

inline std::vector<Json> journal_entries(std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/journalctl", "--no-pager", "-o", "json"});
  auto c = run_captured(args, {}, std::chrono::seconds(30));
  std::vector<Json> out;
  if (!c) return out;
  std::stringstream in(c->out);
  for (std::string line; std::getline(in, line);)
    if (auto j = Json::parse(line, nullptr, false); j.is_object()) out.push_back(j);
  return out;
}

}  // namespace clawjail::test
