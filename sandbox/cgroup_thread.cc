// Creating the jail inside its cgroup instead of moving it there afterwards.
//
// Moving a process (a pid written to cgroup.procs) takes the kernel's global threadgroup rwsem
// for writing, which waits for an RCU grace period whenever no other migration ran recently:
// longer than the rest of a call (docs/performance.md "Building a jail"). Writing "0" to a v1
// hierarchy's `tasks` moves only the calling thread and needs no such lock, and clone3 puts the
// child in its *thread's* cgroups.
// So the monitor thread steps into the jail's cgroups, clones the jail's init there and steps
// back to where it came from. The jail is never outside its limits, not even for an instant.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sandbox/cgroups.h"

namespace clawjail::sandbox::detail {
namespace {

// The order of JailCgroup's v1 dirs.
constexpr const char* kControllers[] = {"memory", "pids"};
constexpr const char* kRoots[] = {kV1MemoryRoot, kV1PidsRoot};

bool write_zero(int fd) { return fd >= 0 && write(fd, "0", 1) == 1; }

bool write_zero(const std::string& tasks_file) {
  UniqueFd fd(open(tasks_file.c_str(), O_WRONLY | O_CLOEXEC));
  return write_zero(fd.get());
}

// The `tasks` files of the calling thread's current v1 memory and pids cgroups.
std::vector<std::string> current_tasks_files() {
  std::ifstream in("/proc/thread-self/cgroup");
  std::vector<std::string> out(2);
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::stringstream controllers(line.substr(first + 1, second - first - 1));
    for (std::string c; std::getline(controllers, c, ',');)
      for (size_t i = 0; i < 2; ++i)
        if (c == kControllers[i])
          out[i] = kRoots[i] + line.substr(second + 1) + "/tasks";
  }
  if (out[0].empty() || out[1].empty()) return {};
  return out;
}

}  // namespace

bool JailCgroup::enter_thread() {
  if (kind_ != "v1" || tasks_.size() != 2) return false;
  std::vector<std::string> home = current_tasks_files();
  if (home.empty()) return false;
  for (size_t i = 0; i < tasks_.size(); ++i) {
    if (write_zero(tasks_[i].get())) continue;
    for (size_t j = 0; j < i; ++j) write_zero(home[j]);
    return false;
  }
  home_ = std::move(home);
  return true;
}

Status JailCgroup::leave_thread() {
  for (const auto& tasks : home_)
    if (!write_zero(tasks))
      return fail(Reason::JAIL_SETUP_FAILED, "cannot move the supervisor's thread back to " + tasks + ": " + strerror(errno));
  home_.clear();
  return ok_status();
}

}  // namespace clawjail::sandbox::detail
