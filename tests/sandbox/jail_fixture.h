// Shared helpers for the sandbox suite: real jails, output captured in memfds, unique temp dirs.
#pragma once
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
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

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The v1 cgroup path of one controller in a /proc/<pid>/cgroup (or task) file.
inline std::string cgroup_of(const std::string& proc_cgroup, const std::string& controller) {
  std::stringstream in(proc_cgroup);
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::stringstream controllers(line.substr(first + 1, second - first - 1));
    for (std::string c; std::getline(controllers, c, ',');)
      if (c == controller) return line.substr(second + 1);
  }
  return "";
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

// Root on a host whose jails get v1 memory and pids cgroups (this project's CI machines).
inline bool v1_cgroups_as_root() {
  return getuid() == 0 && host_support().cgroup_v1_memory_pids && !host_support().cgroup_v2_delegated;
}

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
inline Ran bash(const JailSpec& spec, const std::string& script) { return run_in_jail(spec, {"/bin/bash", "-c", script}); }

}  // namespace clawjail::sandbox::testing

namespace clawjail::sandbox::testing {

// The static hostile helper, bound read-only into the jail at /opt/clawjail-test.
inline std::filesystem::path helper_host_path() { return CLAWJAIL_HOSTILE_HELPER; }
inline std::string helper() { return "/opt/clawjail-test/" + helper_host_path().filename().string(); }
inline JailSpec helper_spec() {
  JailSpec spec = base_spec();
  spec.binds.push_back({helper_host_path().parent_path().string(), "/opt/clawjail-test", false});
  return spec;
}
inline Ran hostile(const JailSpec& spec, std::vector<std::string> args) {
  args.insert(args.begin(), helper());
  return run_in_jail(spec, std::move(args));
}
inline bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}
// Host processes whose command line carries `marker` (a process left behind by a jail).
inline int count_host_processes_with(const std::string& marker) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    int fd = open((e.path() / "cmdline").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::string cmd = slurp(fd);
    close(fd);
    if (cmd.find(marker) != std::string::npos) ++n;
  }
  return n;
}

}  // namespace clawjail::sandbox::testing
