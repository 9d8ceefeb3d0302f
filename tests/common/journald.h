// A real systemd-journald for tests, shared by every suite that checks the journal: the host's
// (started once when none listens, and left running for the suites after), or a private one in
// the calling thread's own mount namespace that a test may stop without touching the others.
#pragma once
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "base/unique_fd.h"

extern char** environ;

namespace clawjail::test::journald {

inline constexpr const char* kSocket = "/run/systemd/journal/socket";

inline bool listening() {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, kSocket, sizeof addr.sun_path - 1);
  return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

// Starts /lib/systemd/systemd-journald in its own session; its pid once it listens, else -1.
inline pid_t spawn() {
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
  for (int i = 0; i < 100 && !listening(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return listening() ? pid : -1;
}

// The host's journald, started at most once across concurrent test processes (an flock
// serialises them). Empty when it listens, else why not.
inline std::string ensure_host() {
  if (listening()) return {};
  UniqueFd lock(::open("/run/clawjail-tests-journald.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock) ::flock(lock.get(), LOCK_EX);
  if (listening() || spawn() > 0) return {};
  return "systemd-journald (/lib/systemd/systemd-journald) did not start";
}

// A private journald: this thread moves into a new mount namespace where /run/systemd, /run/log
// and /var/log/journal are fresh tmpfs, so the journald started there (and whatever this thread
// starts after it) see only each other. Returns journald's pid, or -1.
inline pid_t start_private() {
  if (::unshare(CLONE_NEWNS) != 0) return -1;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return -1;
  for (const char* dir : {"/run/systemd", "/run/log", "/var/log/journal"}) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (::mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64m") != 0) return -1;
  }
  return spawn();
}

}  // namespace clawjail::test::journald
