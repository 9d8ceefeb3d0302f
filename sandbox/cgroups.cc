// Per-jail cgroup: cgroup v2 in a delegated subtree when one exists, else the v1 memory and pids
// controllers (hybrid hosts), else none — then the rlimits of limits.cc alone hold the limits.
// The cgroup is what lets the supervisor *see* a limit being hit (oom_kill, pids max events).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include "sandbox/internal.h"

namespace clawjail::sandbox::detail {
namespace {

constexpr const char* kCpuMax = "100000 100000";  // quota and period in µs: one CPU

// Where a v1 controller keeps the jails' cgroups.
std::string v1_parent(const char* root) { return std::string(root) + "/clawjail"; }

bool write_value(const std::string& path, const std::string& value) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd && write(fd.get(), value.data(), value.size()) == static_cast<ssize_t>(value.size());
}

// "key value" lines (memory.events, pids.events, memory.oom_control). Read once per call, after
// the command.
int64_t read_key(const std::string& path, const std::string& key) {
  auto text = policy::read_file_limited(path, 64 * 1024);
  if (!text) return 0;
  std::string_view rest(*text);
  while (!rest.empty()) {
    std::string_view line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ' ') continue;
    int64_t v = 0;
    std::from_chars(line.data() + key.size() + 1, line.data() + line.size(), v);
    return v;
  }
  return 0;
}

std::string unique_name() {
  static std::atomic<uint64_t> counter{0};
  return "jail-" + std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

Status make_dir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return fail(Reason::JAIL_SETUP_FAILED, "cgroup " + path + ": " + strerror(errno));
  return ok_status();
}

}  // namespace

Result<JailCgroup> JailCgroup::create(const policy::Limits& limits) {
  const HostSupport& host = host_support();
  JailCgroup cg;
  const std::string name = unique_name();
  const std::string mem = std::to_string(limits.memory_mb * 1024 * 1024);
  const std::string pids = std::to_string(limits.pids);
  if (host.cgroup_v2_delegated) {
    std::string dir = host.cgroup_v2_path + "/" + name;
    if (auto s = make_dir(dir); !s) return s.error();
    cg.dirs_.push_back(dir);
    cg.kind_ = "v2";
    cg.memory_ = write_value(dir + "/memory.max", mem);
    write_value(dir + "/memory.swap.max", "0");
    cg.pids_ = write_value(dir + "/pids.max", pids);
    if (!cg.memory_ || !cg.pids_) return fail(Reason::JAIL_SETUP_FAILED, "cgroup v2 limits not writable in " + dir);
    // The WPC bounds CPU time (cpu_seconds, RLIMIT_CPU) but has no CPU share: one CPU's worth at
    // most, so that spinning jails cannot starve the host. Absent unless cpu is delegated too.
    write_value(dir + "/cpu.max", kCpuMax);
    return cg;
  }
  if (host.cgroup_v1_memory_pids) {
    for (const char* root : {kV1MemoryRoot, kV1PidsRoot}) {
      if (auto s = make_dir(v1_parent(root)); !s) return s.error();
      std::string dir = v1_parent(root) + "/" + name;
      if (auto s = make_dir(dir); !s) return s.error();
      cg.dirs_.push_back(dir);
    }
    cg.kind_ = "v1";
    cg.memory_ = write_value(cg.dirs_[0] + "/memory.limit_in_bytes", mem);
    write_value(cg.dirs_[0] + "/memory.memsw.limit_in_bytes", mem);  // absent without swap accounting
    cg.pids_ = write_value(cg.dirs_[1] + "/pids.max", pids);
    if (!cg.memory_ || !cg.pids_) return fail(Reason::JAIL_SETUP_FAILED, "cgroup v1 limits not writable");
  }
  return cg;
}

JailCgroup::JailCgroup(JailCgroup&& o) noexcept
    : dirs_(std::move(o.dirs_)), kind_(o.kind_), memory_(o.memory_), pids_(o.pids_) {
  o.dirs_.clear();
}
JailCgroup& JailCgroup::operator=(JailCgroup&& o) noexcept {
  if (this != &o) {
    remove();
    dirs_ = std::move(o.dirs_);
    o.dirs_.clear();
    kind_ = o.kind_;
    memory_ = o.memory_;
    pids_ = o.pids_;
  }
  return *this;
}
JailCgroup::~JailCgroup() { remove(); }

Status JailCgroup::add(pid_t pid) const {
  for (const auto& dir : dirs_)
    if (!write_value(dir + "/cgroup.procs", std::to_string(pid)))
      return fail(Reason::JAIL_SETUP_FAILED, "cannot move the jail into " + dir + ": " + strerror(errno));
  return ok_status();
}

bool JailCgroup::limit_hit() const {
  if (kind_ == "v2")
    return read_key(dirs_[0] + "/memory.events", "oom_kill") > 0 || read_key(dirs_[0] + "/pids.events", "max") > 0;
  if (kind_ == "v1")
    return read_key(dirs_[0] + "/memory.oom_control", "oom_kill") > 0 || read_key(dirs_[1] + "/pids.events", "max") > 0;
  return false;
}

// Called once the jail's init has been reaped: the pid namespace is empty by then, but the
// kernel may take a moment to drop the last task from the cgroup.
void JailCgroup::remove() {
  for (const auto& dir : dirs_) {
    if (kind_ == "v2") write_value(dir + "/cgroup.kill", "1");
    for (int i = 0; i < 100 && rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  dirs_.clear();
}

}  // namespace clawjail::sandbox::detail

namespace clawjail::sandbox {
namespace {

// "jail-<pid>-<n>": the pid of the supervisor that made it.
std::optional<pid_t> owner_of(const std::string& name) {
  if (name.rfind("jail-", 0) != 0) return std::nullopt;
  size_t dash = name.find('-', 5);
  if (dash == std::string::npos || dash == 5) return std::nullopt;
  pid_t pid = 0;
  for (size_t i = 5; i < dash; ++i) {
    if (name[i] < '0' || name[i] > '9' || pid > 100000000) return std::nullopt;
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

std::vector<std::string> jail_parents() {
  const HostSupport& host = host_support();
  std::vector<std::string> parents;
  if (host.cgroup_v2_delegated) parents.push_back(host.cgroup_v2_path);
  if (host.cgroup_v1_memory_pids) {
    parents.push_back(detail::v1_parent(detail::kV1MemoryRoot));
    parents.push_back(detail::v1_parent(detail::kV1PidsRoot));
  }
  return parents;
}

}  // namespace

int remove_stale_jail_cgroups() {
  int removed = 0;
  for (const auto& parent : jail_parents()) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
      auto owner = owner_of(entry.path().filename().string());
      if (!owner || *owner == getpid() || ::kill(*owner, 0) == 0 || errno != ESRCH) continue;
      if (::rmdir(entry.path().c_str()) == 0) ++removed;  // EBUSY: it still holds a task
    }
  }
  return removed;
}

}  // namespace clawjail::sandbox
