// uid/gid maps. As root, the jail's uid 1000 maps to a host uid of its own from the configured
// range (leased host-wide while the jail runs), so RLIMIT_NPROC is a per-jail limit and jails
// cannot signal one another. As an ordinary user, the jail's uid maps to that user (unprivileged
// user namespaces allow exactly one line, and setgroups denied).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sandbox/fd_passing.h"
#include "sandbox/idmap.h"
#include "sandbox/namespaces.h"

namespace clawjail::sandbox::detail {
namespace {

Status write_file(const std::string& path, const std::string& text) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return fail(Reason::JAIL_SETUP_FAILED, path + ": " + strerror(errno));
  return ok_status();
}

Error lease_error(const std::string& what) { return fail(Reason::JAIL_UNAVAILABLE, "jail uid leases: " + what); }

std::string line(uid_t inside, uid_t outside) {
  return std::to_string(inside) + " " + std::to_string(outside) + " 1\n";
}

// Leases are byte locks (open file description locks) on one file of root's, 0600 in a directory
// only root writes: no other user can open it, so none can take or block a uid (an abstract
// socket name would do as a lock, but any local user can bind one first). The file is the same
// for every supervisor on the host, so two of them sharing a uid range never share a uid. A lock
// ends with its descriptor: a crashed supervisor leaks no uid.
Result<UniqueFd> open_lease_file() {
  const std::string path = kJailUidLeaseFile;
  const std::string dir = path.substr(0, path.rfind('/'));
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return lease_error("cannot create " + dir + ": " + strerror(errno));
  struct stat st{};
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
    return lease_error(dir + " must be a directory of root's that only root writes");
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd || fstat(fd.get(), &st) != 0) return lease_error("cannot open " + path + ": " + strerror(errno));
  if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
    return lease_error(path + " must be a regular file of root's, mode 0600");
  return fd;
}

bool try_lock_uid(int fd, uid_t uid) {
  struct flock lock{};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(uid);
  lock.l_len = 1;
  return fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

}  // namespace

// The lowest free uid: jails in a row reuse a few uids, so their idmapped workspaces reuse the
// same user namespaces (shared_idmap_userns). A released uid owns nothing any more: its jail's
// tree is gone, and so are its tmpfs, IPC and network namespaces. Each lease opens the file
// anew: locks of one open file description never conflict with each other.
Result<UidLease> UidLease::acquire(const UidRange& range) {
  if (range.count == 0) return fail(Reason::JAIL_UNAVAILABLE, "uid_range is empty");
  auto file = open_lease_file();
  if (!file) return file.error();
  for (uint32_t i = 0; i < range.count; ++i) {
    uid_t uid = range.first + i;
    if (try_lock_uid(file->get(), uid)) {
      UidLease lease;
      lease.lock_ = std::move(file.value());
      lease.uid_ = uid;
      return lease;
    }
  }
  return fail(Reason::JAIL_UNAVAILABLE, "every uid of uid_range is in use by a running jail");
}

// The child is ours and not yet reaped, so /proc/<pid> cannot name another process here.
Status write_id_maps(pid_t pid, bool root_mode, uid_t host_uid, gid_t host_gid) {
  std::string proc = "/proc/" + std::to_string(pid) + "/";
  if (!root_mode)
    if (auto s = write_file(proc + "setgroups", "deny\n"); !s) return s;
  if (auto s = write_file(proc + "uid_map", line(kJailUid, host_uid)); !s) return s;
  return write_file(proc + "gid_map", line(kJailGid, host_gid));
}

// setfsuid/setfsgid return the previous id whether or not they changed it; asking again with an
// invalid id (-1) reads the current one without changing it.
CreatingAs::CreatingAs(uid_t uid, gid_t gid)
    : old_uid_(static_cast<uid_t>(syscall(SYS_setfsuid, static_cast<uid_t>(-1)))),
      old_gid_(static_cast<gid_t>(syscall(SYS_setfsgid, static_cast<gid_t>(-1)))) {
  syscall(SYS_setfsgid, gid);
  syscall(SYS_setfsuid, uid);
  ok_ = static_cast<gid_t>(syscall(SYS_setfsgid, static_cast<gid_t>(-1))) == gid &&
        static_cast<uid_t>(syscall(SYS_setfsuid, static_cast<uid_t>(-1))) == uid;
  if (!ok_) errno = EPERM;
}

CreatingAs::~CreatingAs() {
  syscall(SYS_setfsuid, old_uid_);
  syscall(SYS_setfsgid, old_gid_);
}

namespace {

// What a helper holding a user namespace gets: the pipe whose EOF ends it, and the socket it
// sends its namespace over.
struct HoldArgs {
  int hold;
  int sock;
};

// Holds the namespace open until the parent has it; raw syscalls only (it runs in the
// supervisor's memory). It opens its own /proc/self/ns/user and sends it: the supervisor opening
// /proc/<pid>/ns/user of a child sharing its memory would take CAP_SYS_PTRACE (not granted by
// clawjail.service) as soon as a jail's change of ids has made that memory non-dumpable. It
// waits for EOF, so it must first drop every other descriptor it inherited: concurrent calls
// clone helpers at the same time, and each would hold the other's write end open (both waiting
// for ever, past the supervisor's death, with the client's socket).
int hold_userns(void* arg) {
  const HoldArgs a = *static_cast<const HoldArgs*>(arg);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  int ns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (ns >= 0) {
    (void)send_fd(a.sock, ns);
    close(ns);
  }
  if (a.hold > 0) close_range(0, static_cast<unsigned>(a.hold) - 1, 0);
  close_range(static_cast<unsigned>(a.hold) + 1, ~0U, 0);
  char c;
  (void)!read(a.hold, &c, 1);
  _exit(0);
}

// The namespace a helper sends, within 5 s.
UniqueFd receive_userns(int sock) {
  pollfd p{sock, POLLIN, 0};
  int n;
  while ((n = poll(&p, 1, 5000)) < 0 && errno == EINTR) {
  }
  return n == 1 ? receive_fd(sock) : UniqueFd();
}

struct HelperChannel {
  UniqueFd hold_r, hold_w, sock_r, sock_w;
};

Status open_channel(HelperChannel& ch) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return fail(Reason::JAIL_SETUP_FAILED, "pipe2 failed");
  ch.hold_r.reset(p[0]);
  ch.hold_w.reset(p[1]);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) != 0) return fail(Reason::JAIL_SETUP_FAILED, "socketpair failed");
  ch.sock_r.reset(p[0]);
  ch.sock_w.reset(p[1]);
  return ok_status();
}

}  // namespace

Result<UniqueFd> make_idmap_userns(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid) {
  HelperChannel ch;
  if (auto s = open_channel(ch); !s) return s.error();
  auto stack = ChildStack::create(64 << 10);
  if (!stack) return stack.error();
  HoldArgs args{ch.hold_r.get(), ch.sock_w.get()};
  int pidfd = -1;
  pid_t pid = clone_sharing_memory(CLONE_NEWUSER, *stack, hold_userns, &args, &pidfd);
  if (pid < 0) return fail(Reason::JAIL_SETUP_FAILED, std::string("clone: ") + strerror(errno));
  UniqueFd pidfd_owner(pidfd);
  ch.sock_w.reset();
  std::string proc = "/proc/" + std::to_string(pid) + "/";
  Status maps = write_file(proc + "uid_map", std::to_string(from_uid) + " " + std::to_string(to_uid) + " 1\n");
  if (maps) maps = write_file(proc + "gid_map", std::to_string(from_gid) + " " + std::to_string(to_gid) + " 1\n");
  UniqueFd ns = receive_userns(ch.sock_r.get());
  ch.hold_w.reset();
  while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
  }
  if (!maps) return maps.error();
  if (!ns) return fail(Reason::JAIL_SETUP_FAILED, "no idmap user namespace from its helper");
  return ns;
}

// Making the namespace costs a process (docs/performance.md "Building a jail"); jails of the same
// workspace owner and host uid need the same one. Jails built ahead take turns on a few host uids
// (the running ones' and the waiting ones'), one more per concurrent call, so the namespaces of
// the most recently used pairs are kept, at most kKeptUserns descriptors; a jail using one that
// was dropped keeps it until it ends.
std::shared_ptr<const UniqueFd> shared_idmap_userns(uid_t from_uid, gid_t from_gid, uid_t to_uid, gid_t to_gid) {
  constexpr size_t kKeptUserns = 32;
  using Key = std::tuple<uid_t, gid_t, uid_t, gid_t>;
  static std::mutex mu;
  static std::vector<std::pair<Key, std::shared_ptr<const UniqueFd>>> kept;  // most recent last
  const Key key{from_uid, from_gid, to_uid, to_gid};
  auto find = [&] { return std::find_if(kept.begin(), kept.end(), [&](const auto& e) { return e.first == key; }); };
  {
    std::lock_guard lock(mu);
    if (auto it = find(); it != kept.end()) {
      std::rotate(it, it + 1, kept.end());
      return kept.back().second;
    }
  }
  auto ns = make_idmap_userns(from_uid, from_gid, to_uid, to_gid);
  if (!ns) return nullptr;
  auto shared = std::make_shared<const UniqueFd>(std::move(ns.value()));
  std::lock_guard lock(mu);
  if (auto it = find(); it != kept.end()) kept.erase(it);  // made meanwhile by another call
  if (kept.size() >= kKeptUserns) kept.erase(kept.begin());
  kept.emplace_back(key, shared);
  return shared;
}

}  // namespace clawjail::sandbox::detail
