// What every jail gets whatever its WPC says: the host paths bound into all of them, and the host
// uids they run as. A jail uid that belongs to someone else can read that someone's files and
// signal their processes.
#include <fstream>
#include <sstream>

#include "supervisor/audit/checks.h"

namespace clawjail::audit {
namespace {

struct UidOwner {
  std::string name;
  uint64_t first = 0, count = 0;  // [first, first + count)
};

// passwd: "name:x:uid:…" (count 1); subuid: "name:first:count".
std::vector<UidOwner> read_uid_file(const std::filesystem::path& path, bool passwd) {
  std::vector<UidOwner> owners;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string part; std::getline(fields, part, ':');) f.push_back(part);
    try {
      if (passwd && f.size() >= 3) owners.push_back({f[0], std::stoull(f[2]), 1});
      if (!passwd && f.size() == 3) owners.push_back({f[0], std::stoull(f[1]), std::stoull(f[2])});
    } catch (const std::exception&) {
      continue;  // a malformed line is not ours to judge
    }
  }
  return owners;
}

bool overlaps(const UidOwner& o, const sandbox::UidRange& r) {
  const uint64_t first = r.first, end = first + r.count;
  return o.first < end && first < o.first + o.count;
}

}  // namespace

void check_rootfs_binds(const Config& config, Report& report) {
  for (const auto& bind : config.rootfs_binds)
    if (std::string why = sensitive_reason(bind, sandbox::PathUse::rootfs_bind, config); !why.empty())
      report.add("jail.rootfs_bind_sensitive", Severity::critical,
                 "every jail sees a sensitive host path read-only", "jail.rootfs_binds contains " + bind + ": " + why,
                 "remove " + bind + " from \"jail\": {\"rootfs_binds\"} in " + config.path.string());
}

void check_uid_range(const Config& config, const HostPaths& host, Report& report) {
  const auto& r = config.uid_range;
  const std::string range = std::to_string(r.first) + ":" + std::to_string(r.count);
  const std::string fix = "choose a \"jail\": {\"uid_range\"} that no account and no /etc/subuid entry uses, "
                          "and reserve it in /etc/subuid for root";
  for (const auto& user : read_uid_file(host.passwd, true))
    if (overlaps(user, r))
      report.add("jail.uid_range_overlaps_user", Severity::critical,
                 "jails run as host uids that belong to an account: they can read its files and signal its processes",
                 "uid_range " + range + " contains uid " + std::to_string(user.first) + " (" + user.name + ", " +
                     host.passwd.string() + ")",
                 fix);
  for (const auto& sub : read_uid_file(host.subuid, false))
    if (sub.name != "root" && overlaps(sub, r))
      report.add("jail.uid_range_overlaps_subuid", Severity::warn,
                 "jail uids overlap another user's subordinate uids (rootless containers run as them)",
                 "uid_range " + range + " overlaps " + sub.name + ":" + std::to_string(sub.first) + ":" +
                     std::to_string(sub.count) + " in " + host.subuid.string(),
                 fix);
}

}  // namespace clawjail::audit
