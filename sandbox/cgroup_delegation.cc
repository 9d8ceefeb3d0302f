// The supervisor's own cgroup v2 subtree, claimed once at start-up (docs/operations.md, "Limits").
//
// systemd's Delegate=yes gives the service its cgroup with every controller available
// (cgroup.controllers) but none enabled for children (cgroup.subtree_control), and the kernel
// enables a controller for children only in a cgroup that holds no process itself. So the
// supervisor moves itself into a leaf, `supervisor/`, enables memory, pids and cpu for the
// children, and every jail gets a child cgroup of its own beside that leaf.
//
// Only a subtree that was handed over is claimed: root may write anywhere in the hierarchy, but a
// cgroup systemd did not delegate (a login session, a service without Delegate=) is systemd's to
// manage. systemd marks a delegated cgroup with the `trusted.delegate` extended attribute (a
// user manager's with `user.delegate`). Jails get cgroups only from a supervisor run as root.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "policy/strict_json.h"
#include "sandbox/cgroup_delegation.h"
#include "sandbox/cgroups.h"

namespace clawjail::sandbox::detail {
namespace {

constexpr const char* kLeaf = "supervisor";
// A process that forks while it is being moved can leave a child behind: a few more rounds.
constexpr int kMoveRounds = 8;

// A cgroup file (cgroup.procs, cgroup.controllers, …); "" if unreadable.
std::string read_small(const std::string& path) {
  auto text = policy::read_file_limited(path, 64 * 1024);
  return text ? *text : "";
}

bool has_words(const std::string& list, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    std::istringstream in(list);
    bool found = false;
    for (std::string item; in >> item;) found = found || item == w;
    if (!found) return false;
  }
  return true;
}

bool xattr_is_one(const std::string& dir, const char* name) {
  char value[8] = {};
  ssize_t n = getxattr(dir.c_str(), name, value, sizeof value - 1);
  return n == 1 && value[0] == '1';
}

bool delegated_to_us(const std::string& dir) {
  return xattr_is_one(dir, "trusted.delegate") || xattr_is_one(dir, "user.delegate");
}

// The calling process's cgroup v2 directory, or "" (no cgroup2 mount, not in one).
std::string own_cgroup_dir() {
  std::ifstream self("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(self, line))
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  std::string mountpoint;
  std::ifstream mounts("/proc/self/mounts");
  while (std::getline(mounts, line)) {
    std::istringstream in(line);
    std::string dev, dir, type;
    in >> dev >> dir >> type;
    if (type == "cgroup2") mountpoint = dir;
  }
  if (path.empty() || mountpoint.empty()) return "";
  return mountpoint + (path == "/" ? "" : path);
}

// Moves every process of `from` into `to`: the supervisor itself (all its threads: cgroup.procs
// moves a whole process) and whatever else the unit started in its cgroup.
bool move_all(const std::string& from, const std::string& to) {
  for (int round = 0; round < kMoveRounds; ++round) {
    std::istringstream procs(read_small(from + "/cgroup.procs"));
    bool any = false;
    for (std::string pid; procs >> pid;) {
      any = true;
      // ESRCH: it exited meanwhile.
      if (!write_value(to + "/cgroup.procs", pid) && errno != ESRCH) return false;
    }
    if (!any) return true;
  }
  return read_small(from + "/cgroup.procs").empty();
}

// Makes `dir` a parent for jails: the supervisor in its leaf, the controllers enabled.
std::string claim(const std::string& dir, CgroupV2& out) {
  const std::string leaf = dir + "/" + kLeaf;
  if (mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) return "creating " + leaf + ": " + strerror(errno);
  if (!move_all(dir, leaf)) return "moving the supervisor into " + leaf + ": " + strerror(errno);
  if (!write_value(dir + "/cgroup.subtree_control", "+memory +pids"))
    return "enabling memory and pids in " + dir + "/cgroup.subtree_control: " + strerror(errno);
  // cpu is refused while a realtime thread runs in the subtree; memory and pids still hold.
  out.cpu = write_value(dir + "/cgroup.subtree_control", "+cpu");
  out.subtree = dir;
  return "";
}

}  // namespace

CgroupV2 find_cgroup_v2_subtree() {
  CgroupV2 out;
  struct statfs fs{};
  out.unified_only = statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
  if (geteuid() != 0) {
    out.problem = "not root: jails get no cgroup";
    return out;
  }
  std::string dir = own_cgroup_dir();
  if (dir.empty()) {
    out.problem = "the supervisor is in no cgroup v2";
    return out;
  }
  // Claimed before (a supervisor started again in the same delegated cgroup): use the parent.
  const auto slash = dir.rfind('/');
  if (slash != std::string::npos && dir.substr(slash + 1) == kLeaf) {
    std::string parent = dir.substr(0, slash);
    SubtreeControllers enabled = subtree_controllers(parent);
    if (delegated_to_us(parent) && enabled.memory_pids) {
      out.subtree = parent;
      out.cpu = enabled.cpu;
      return out;
    }
  }
  const std::string controllers = read_small(dir + "/cgroup.controllers");
  if (!has_words(controllers, {"memory", "pids"})) {
    out.problem = dir + " has no memory and pids controllers (cgroup.controllers: \"" +
                  controllers.substr(0, controllers.find('\n')) + "\")";
    return out;
  }
  // A subtree set up beforehand: the supervisor at the root of a cgroup namespace, where the
  // no-process rule does not apply, with the controllers already enabled for children.
  SubtreeControllers enabled = subtree_controllers(dir);
  if (enabled.memory_pids && access(dir.c_str(), W_OK) == 0) {
    out.subtree = dir;
    out.cpu = enabled.cpu;
    return out;
  }
  if (!delegated_to_us(dir)) {
    out.problem = dir + " was not delegated to the supervisor (no trusted.delegate mark, not its own)";
    return out;
  }
  out.problem = claim(dir, out);
  if (!out.problem.empty()) out.subtree.clear();
  return out;
}

}  // namespace clawjail::sandbox::detail

namespace clawjail::sandbox {
SubtreeControllers subtree_controllers(const std::string& dir) {
  SubtreeControllers c;
  c.text = detail::read_small(dir + "/cgroup.subtree_control");
  c.text = c.text.substr(0, c.text.find('\n'));
  c.memory_pids = detail::has_words(c.text, {"memory", "pids"});
  c.cpu = detail::has_words(c.text, {"cpu"});
  return c;
}
}  // namespace clawjail::sandbox
