// User namespaces and their id maps, and idmapped workspace mounts.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

// A host uid from the range, held (system-wide) while the jail runs.
class UidLease {
 public:
  static Result<UidLease> acquire(const UidRange& range);
  uid_t uid() const { return uid_; }
 private:
  UniqueFd lock_;
  uid_t uid_ = 0;
};
Status write_id_maps(pid_t pid, bool root_mode, uid_t host_uid, gid_t host_gid);
// While it lives, what the calling thread creates (pipes, terminals) belongs to uid:gid, since a
// new inode takes its owner from the creating thread's fsuid/fsgid, and the files it opens are
// checked as theirs. Ownership at creation needs CAP_SETUID/CAP_SETGID only, no CAP_CHOWN
// (docs/operations.md, "What the service may do"). Other threads keep their own identity.
class CreatingAs {
 public:
  CreatingAs(uid_t uid, gid_t gid);
  ~CreatingAs();
  CreatingAs(const CreatingAs&) = delete;
  CreatingAs& operator=(const CreatingAs&) = delete;
  bool ok() const { return ok_; }
 private:
  uid_t old_uid_;
  gid_t old_gid_;
  bool ok_;
};
// A user namespace mapping the workspace owner to the jail's host uid (for an idmapped bind).
Result<UniqueFd> make_idmap_userns(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid);
// The same, made once per mapping and shared (null when it cannot be made).
std::shared_ptr<const UniqueFd> shared_idmap_userns(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid);

}  // namespace clawjail::sandbox::detail
