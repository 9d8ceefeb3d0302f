// Shared helpers for the sandbox suite: real jails, output captured in memfds, unique temp dirs.
#pragma once
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/jail.h"

namespace clawjail::sandbox::testing {

struct Ran {
  Outcome outcome;
  std::string out, err;
  bool violated(const std::string& syscall) const {
    for (const auto& v : outcome.violations)
      if (v.syscall == syscall && v.count > 0) return true;
    return false;
  }
};

inline std::string slurp(int fd) {
  std::string s;
  char buf[65536];
  lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) s.append(buf, static_cast<size_t>(n));
  return s;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "clawjail-sandbox-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
 private:
  std::filesystem::path path_;
};

inline JailSpec base_spec() {
  JailSpec spec;
  spec.limits.timeout_ms = 20000;
  return spec;
}

inline Ran run_in_jail(const JailSpec& spec, std::vector<std::string> argv, int stdin_fd = -1,
                       std::map<std::string, std::string> env = {}) {
  Ran ran;
  int out = memfd_create("out", MFD_CLOEXEC), err = memfd_create("err", MFD_CLOEXEC);
  Command cmd;
  cmd.argv = std::move(argv);
  cmd.env = std::move(env);
  Io io{stdin_fd, out, err, false};
  auto jail = Jail::start(spec, cmd, io);
  if (!jail) {
    ran.outcome.error = jail.error();
  } else {
    ran.outcome = jail->wait();
  }
  ran.out = slurp(out);
  ran.err = slurp(err);
  close(out);
  close(err);
  return ran;
}

inline Ran sh(const JailSpec& spec, const std::string& script) { return run_in_jail(spec, {"/bin/sh", "-c", script}); }

}  // namespace clawjail::sandbox::testing
