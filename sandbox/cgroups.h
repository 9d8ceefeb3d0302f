// Each jail's cgroup (v2 delegated subtree or v1 memory+pids) and the host uid leases.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

bool write_value(const std::string& path, const std::string& value);  // a cgroup control file
inline constexpr const char* kV1MemoryRoot = "/sys/fs/cgroup/memory";
inline constexpr const char* kV1PidsRoot = "/sys/fs/cgroup/pids";
class JailCgroup {
 public:
  // The per-jail cgroup (v2 delegated subtree, else v1 memory+pids) when available: a spare one
  // with the same limits when there is one, else a new one.
  static Result<JailCgroup> create(const policy::Limits& limits);
  JailCgroup() = default;
  JailCgroup(JailCgroup&&) noexcept;
  JailCgroup& operator=(JailCgroup&&) noexcept;
  // Kept as a spare when it is empty, saw no limit hit and holds at most 1/16 of its memory
  // limit charged; else removed.
  ~JailCgroup();
  bool memory() const { return memory_; }
  bool pids() const { return pids_; }
  Status add(pid_t pid) const;
  // v1 (cgroup_thread.cc): moves the calling thread into the jail's cgroups, so that a clone3
  // from it is born there, without add()'s RCU grace period; leave_thread() moves it back.
  // false: not possible here, add() the child after the clone instead.
  bool enter_thread();
  Status leave_thread();
  bool limit_hit() const;  // OOM kill or pids.max reached
  std::string kind() const { return kind_; }
  const std::string& limits_key() const { return limits_key_; }
  void discard();  // removes it now, never a spare
 private:
  Status open_files();
  bool reusable() const;
  void release();
  std::vector<std::string> dirs_;
  std::vector<UniqueFd> tasks_;   // v1: each dir's `tasks`, where enter_thread() writes
  std::vector<UniqueFd> events_;  // read by limit_hit(): OOM kills, then pids.max events
  std::vector<std::string> home_;  // where enter_thread() found the thread (`tasks` files)
  std::string kind_ = "none";
  std::string limits_key_;  // kind and limits: which jails may take it as a spare
  int64_t memory_limit_ = 0;  // bytes
  bool memory_ = false, pids_ = false;
};

}  // namespace clawjail::sandbox::detail
