// Per-jail cgroup: cgroup v2 in a delegated subtree when one exists, else the v1 memory and pids
// controllers (hybrid hosts), else none — then the rlimits of limits.cc alone hold the limits.
// The cgroup is what lets the supervisor *see* a limit being hit (oom_kill, pids max events).
// An ended jail's cgroup is reused by the next jail with the same limits when nothing of the
// last one is left in it (jail.h, remove_spare_jail_cgroups).
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
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "base/reason.h"
#include "policy/strict_json.h"
#include "base/unique_fd.h"
#include "policy/wpc.h"
#include "sandbox/cgroups.h"

namespace clawjail::sandbox::detail {
namespace {

constexpr const char* kCpuMax = "100000 100000";  // quota and period in µs: one CPU
constexpr size_t kMaxSpares = 16;
// What the last jail left charged to a spare (page cache of the files it wrote) is counted
// against the next one, maybe another job's: above this share of the limit, the cgroup is
// removed instead. An ordinary call leaves far less (docs/performance.md "Building a jail").
constexpr int64_t kMaxSpareChargeDivisor = 16;

// Where a v1 controller keeps the jails' cgroups.
std::string v1_parent(const char* root) { return std::string(root) + "/clawjail"; }

// "key value" lines (memory.events, pids.events, memory.oom_control), read from the start of a
// descriptor kept open: the kernel renders the file afresh at each read from offset 0.
int64_t read_key(const UniqueFd& fd, std::string_view key) {
  char buf[1024];
  ssize_t n = fd ? pread(fd.get(), buf, sizeof buf, 0) : -1;
  if (n <= 0) return 0;
  std::string_view rest(buf, static_cast<size_t>(n));
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

// A file of one number (memory.current, memory.usage_in_bytes); nullopt if unreadable.
std::optional<int64_t> read_number(const std::string& path) {
  auto text = policy::read_file_limited(path, 64);
  int64_t v = 0;
  if (!text || std::from_chars(text->data(), text->data() + text->size(), v).ec != std::errc()) return std::nullopt;
  return v;
}

bool holds_no_task(const std::string& dir) {
  auto procs = policy::read_file_limited(dir + "/cgroup.procs", 64);
  return procs && procs->empty();
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

UniqueFd open_in(const std::string& dir, const char* file, int flags) {
  return UniqueFd(open((dir + "/" + file).c_str(), flags | O_CLOEXEC));
}

// Emptied cgroups waiting for the next jail with the same limits.
class Spares {
 public:
  std::optional<JailCgroup> take(const std::string& limits_key) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(spares_.begin(), spares_.end(),
                           [&](const JailCgroup& c) { return c.limits_key() == limits_key; });
    if (it == spares_.end()) return std::nullopt;
    std::optional<JailCgroup> cg(std::move(*it));
    spares_.erase(it);
    return cg;
  }
  // false: it is not kept (the process is exiting) and the caller removes it. When full, the
  // oldest spare makes room: limits that no WPC asks for any more do not hold the shelf.
  bool put(JailCgroup& cg) {
    std::optional<JailCgroup> oldest;
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      if (spares_.size() >= kMaxSpares) {
        oldest.emplace(std::move(spares_.front()));
        spares_.erase(spares_.begin());
      }
      spares_.push_back(std::move(cg));
    }
    if (oldest) oldest->discard();
    return true;
  }
  int remove_all(bool close) {
    std::vector<JailCgroup> out;
    {
      std::lock_guard lock(mu_);
      closed_ = closed_ || close;
      out.swap(spares_);
    }
    for (auto& cg : out) cg.discard();
    return static_cast<int>(out.size());
  }

 private:
  std::mutex mu_;
  std::vector<JailCgroup> spares_;
  bool closed_ = false;
};

Spares& spares() {
  // Never destroyed: a jail dropped while the process exits still finds it. What it holds then
  // is removed by the object below, at exit, and by remove_stale_jail_cgroups() after a crash.
  static Spares& s = *std::make_unique<Spares>().release();
  static struct RemoveAtExit {
    ~RemoveAtExit() { s.remove_all(true); }
  } at_exit;
  return s;
}

std::string key_of(const char* kind, const std::string& memory, const std::string& pids) {
  return std::string(kind) + " " + memory + " " + pids;
}

}  // namespace

bool write_value(const std::string& path, const std::string& value) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd && write(fd.get(), value.data(), value.size()) == static_cast<ssize_t>(value.size());
}

Result<JailCgroup> JailCgroup::create(const policy::Limits& limits) {
  const HostSupport& host = host_support();
  const char* kind = host.cgroup_v2_delegated ? "v2" : host.cgroup_v1_memory_pids ? "v1" : "none";
  const int64_t mem_bytes = limits.memory_mb * 1024 * 1024;
  const std::string mem = std::to_string(mem_bytes);
  const std::string pids = std::to_string(limits.pids);
  const std::string key = key_of(kind, mem, pids);
  if (auto spare = spares().take(key)) return std::move(*spare);
  JailCgroup cg;
  cg.kind_ = kind;
  cg.limits_key_ = key;
  cg.memory_limit_ = mem_bytes;
  const std::string name = unique_name();
  if (cg.kind_ == "v2") {
    std::string dir = host.cgroup_v2_path + "/" + name;
    if (auto s = make_dir(dir); !s) return s.error();
    cg.dirs_.push_back(dir);
    cg.memory_ = write_value(dir + "/memory.max", mem);
    write_value(dir + "/memory.swap.max", "0");
    cg.pids_ = write_value(dir + "/pids.max", pids);
    if (!cg.memory_ || !cg.pids_) return fail(Reason::JAIL_SETUP_FAILED, "cgroup v2 limits not writable in " + dir);
    // The WPC bounds CPU time (cpu_seconds, RLIMIT_CPU) but has no CPU share: one CPU's worth at
    // most, so that spinning jails cannot starve the host. Absent unless cpu is delegated too.
    write_value(dir + "/cpu.max", kCpuMax);
  } else if (cg.kind_ == "v1") {
    for (const char* root : {kV1MemoryRoot, kV1PidsRoot}) {
      if (auto s = make_dir(v1_parent(root)); !s) return s.error();
      std::string dir = v1_parent(root) + "/" + name;
      if (auto s = make_dir(dir); !s) return s.error();
      cg.dirs_.push_back(dir);
    }
    cg.memory_ = write_value(cg.dirs_[0] + "/memory.limit_in_bytes", mem);
    write_value(cg.dirs_[0] + "/memory.memsw.limit_in_bytes", mem);  // absent without swap accounting
    cg.pids_ = write_value(cg.dirs_[1] + "/pids.max", pids);
    if (!cg.memory_ || !cg.pids_) return fail(Reason::JAIL_SETUP_FAILED, "cgroup v1 limits not writable");
  }
  if (auto s = cg.open_files(); !s) return s.error();
  return cg;
}

Status JailCgroup::open_files() {
  if (kind_ == "none") return ok_status();
  const bool v2 = kind_ == "v2";
  events_.push_back(open_in(dirs_[0], v2 ? "memory.events" : "memory.oom_control", O_RDONLY));
  events_.push_back(open_in(dirs_.back(), "pids.events", O_RDONLY));
  if (!v2)
    for (const auto& dir : dirs_) tasks_.push_back(open_in(dir, "tasks", O_WRONLY));
  for (const auto& fd : events_)
    if (!fd) return fail(Reason::JAIL_SETUP_FAILED, "cgroup event files not readable in " + dirs_[0]);
  return ok_status();
}

JailCgroup::JailCgroup(JailCgroup&& o) noexcept
    : dirs_(std::exchange(o.dirs_, {})), tasks_(std::move(o.tasks_)), events_(std::move(o.events_)),
      home_(std::move(o.home_)), kind_(o.kind_), limits_key_(o.limits_key_), memory_limit_(o.memory_limit_),
      memory_(o.memory_), pids_(o.pids_) {}
JailCgroup& JailCgroup::operator=(JailCgroup&& o) noexcept {
  if (this != &o) {
    release();
    dirs_ = std::exchange(o.dirs_, {});
    tasks_ = std::move(o.tasks_);
    events_ = std::move(o.events_);
    home_ = std::move(o.home_);
    kind_ = o.kind_;
    limits_key_ = o.limits_key_;
    memory_limit_ = o.memory_limit_;
    memory_ = o.memory_;
    pids_ = o.pids_;
  }
  return *this;
}
JailCgroup::~JailCgroup() { release(); }

Status JailCgroup::add(pid_t pid) const {
  for (const auto& dir : dirs_)
    if (!write_value(dir + "/cgroup.procs", std::to_string(pid)))
      return fail(Reason::JAIL_SETUP_FAILED, "cannot move the jail into " + dir + ": " + strerror(errno));
  return ok_status();
}

bool JailCgroup::limit_hit() const {
  if (events_.size() != 2) return false;
  return read_key(events_[0], "oom_kill") > 0 || read_key(events_[1], "max") > 0;
}

// The next jail must find it as a new one would be: no task, every counter at zero (so that
// limit_hit() speaks of that jail alone), little memory charged.
bool JailCgroup::reusable() const {
  if (kind_ == "none" || dirs_.empty() || limit_hit()) return false;
  for (const auto& dir : dirs_)
    if (!holds_no_task(dir)) return false;
  auto charged = read_number(dirs_[0] + (kind_ == "v2" ? "/memory.current" : "/memory.usage_in_bytes"));
  return charged && *charged <= memory_limit_ / kMaxSpareChargeDivisor;
}

// Called once the jail's init has been reaped (the pid namespace is empty by then).
void JailCgroup::release() {
  if (dirs_.empty()) return;
  if (reusable() && spares().put(*this)) return;
  discard();
}

// The kernel may take a moment to drop the last task from the cgroup.
void JailCgroup::discard() {
  tasks_.clear();
  events_.clear();
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

int remove_spare_jail_cgroups() { return detail::spares().remove_all(false); }

LimitsEnforcement limits_enforcement(const HostSupport& host) {
  if (host.cgroup_v2_delegated)
    return {"jail limits: cgroup v2, delegated subtree " + host.cgroup_v2_path + " (memory.max, pids.max" +
                (host.cgroup_v2_cpu ? ", cpu.max" : "; cpu is not delegated, no cpu.max") + ") and rlimits",
            !host.cgroup_v2_cpu};
  if (host.cgroup_v1_memory_pids)
    return {"jail limits: cgroup v1 memory and pids controllers and rlimits (no cpu.max on cgroup v1)", false};
  return {"jail limits: rlimits alone, no cgroup (" + host.cgroup_v2_problem +
              "): a jail's memory is bounded per process, not in total; its processes by RLIMIT_NPROC; its CPU "
              "time by RLIMIT_CPU with no share of the host's CPUs; a limit it hits is reported as `error` or "
              "`timeout`, not `limit`. Run the supervisor from clawjail.service (Delegate=yes)",
          true};
}

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
