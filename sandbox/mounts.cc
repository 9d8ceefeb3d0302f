// The jail's filesystem: a fresh tmpfs root holding read-only nosuid,nodev binds of what the
// jail needs, a minimal /etc and /dev, a fresh /proc, a size-capped /tmp, the workspace at
// /workspace, then pivot_root and the old root detached.
//
// Binds use the new mount API: open_tree(OPEN_TREE_CLONE|AT_RECURSIVE) clones the source by
// descriptor and mount_setattr(AT_RECURSIVE) makes every submount read-only/nosuid/nodev in one
// call — the old MS_REMOUNT|MS_BIND way is not recursive and must repeat the locked flags.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "sandbox/binds.h"
#include "sandbox/mounts.h"
#include "sandbox/proc_mask.h"

namespace clawjail::sandbox::detail {
namespace {

constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

// ---- parent side ----

std::string passwd_file() {
  return "root:x:0:0:root:/root:/usr/sbin/nologin\n"
         "clawjail:x:1000:1000:clawjail:/workspace:/bin/sh\n"
         "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
}
std::string group_file() { return "root:x:0:\nclawjail:x:1000:\nnogroup:x:65534:\n"; }

// Host paths from the configuration (trusted): a symlink (/bin -> usr/bin on merged-usr hosts)
// is recreated as the same symlink, anything else is bound read-only.
void plan_host_path(MountPlan& plan, const std::string& path, const std::string& target, bool exec) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;  // not on this host
  if (S_ISLNK(st.st_mode)) {
    char buf[PATH_MAX];
    ssize_t n = readlink(path.c_str(), buf, sizeof buf);
    if (n > 0) plan.symlinks.push_back({target, std::string(buf, static_cast<size_t>(n))});
    return;
  }
  BindPlan b;
  b.source = path;
  b.target = target;
  b.dev = st.st_dev;
  b.ino = st.st_ino;
  b.directory = S_ISDIR(st.st_mode);
  b.exec = exec;
  plan.binds.push_back(b);
}

std::string resolved(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

void plan_etc(MountPlan& plan, const JailSpec& spec) {
  plan.dirs.push_back("/etc");
  plan.files.push_back({"/etc/passwd", passwd_file()});
  plan.files.push_back({"/etc/group", group_file()});
  plan.files.push_back({"/etc/hosts", "127.0.0.1 localhost\n::1 localhost\n"});
  plan.files.push_back({"/etc/hostname", "clawjail\n"});
  plan.files.push_back({"/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"});
  plan_host_path(plan, "/etc/ld.so.cache", "/etc/ld.so.cache", false);
  plan_host_path(plan, "/etc/alternatives", "/etc/alternatives", false);  // Debian's /usr/bin/awk etc.
  if (spec.network)
    if (std::string r = resolved("/etc/resolv.conf"); !r.empty()) plan_host_path(plan, r, "/etc/resolv.conf", false);
}

void plan_dev(MountPlan& plan) {
  plan.dirs.push_back("/dev");
  for (const char* dev : kDevices) {
    plan_host_path(plan, std::string("/dev/") + dev, std::string("/dev/") + dev, false);
    if (!plan.binds.empty() && plan.binds.back().target == std::string("/dev/") + dev) plan.binds.back().device = true;
  }
  plan.symlinks.push_back({"/dev/fd", "/proc/self/fd"});
  plan.symlinks.push_back({"/dev/stdin", "/proc/self/fd/0"});
  plan.symlinks.push_back({"/dev/stdout", "/proc/self/fd/1"});
  plan.symlinks.push_back({"/dev/stderr", "/proc/self/fd/2"});
}

uint64_t bind_attrs(const BindPlan& b) {
  uint64_t a = MOUNT_ATTR_NOSUID;
  if (!b.device) a |= MOUNT_ATTR_NODEV;
  if (!b.writable) a |= MOUNT_ATTR_RDONLY;
  if (!b.exec) a |= MOUNT_ATTR_NOEXEC;
  return a;
}

// As root the parent clones each source's tree from the descriptor check_binds opened (open_tree
// needs CAP_SYS_ADMIN over the host's mounts) and the child only attaches it; the workspace's
// tree is idmapped so that its owner appears as the jail's uid (the jail runs as a host uid of
// its own that owns nothing). As an ordinary user the child clones it (clone_source).
Status clone_in_parent(BindPlan& b, const HostSource& source, int idmap_userns_fd, std::vector<UniqueFd>& keep_alive) {
  UniqueFd tree(open_tree(source.fd.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH));
  if (!tree) return fail(Reason::JAIL_SETUP_FAILED, "open_tree " + source.path + ": " + strerror(errno));
  mount_attr attr{};
  attr.attr_set = bind_attrs(b);
  if (idmap_userns_fd >= 0) {
    attr.attr_set |= MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<uint64_t>(idmap_userns_fd);
  }
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
    return fail(Reason::JAIL_SETUP_FAILED, "mount_setattr " + source.path + ": " + strerror(errno));
  b.tree_fd = tree.get();
  keep_alive.push_back(std::move(tree));
  return ok_status();
}

BindPlan bind_of(const HostSource& source, const std::string& target) {
  BindPlan b;
  b.source = source.path;
  b.target = target;
  b.dev = source.dev;
  b.ino = source.ino;
  b.directory = source.directory;
  return b;
}

// The workspace, then the WPC's binds, from the descriptors in spec.opened: their paths are not
// looked up again (a path swapped since the check changes nothing).
Status plan_sources(MountPlan& plan, const JailSpec& spec, const ParentClone& parent) {
  if (!spec.opened) return fail(Reason::INTERNAL_ERROR, "the jail's sources were not opened");
  const BindCheck& opened = *spec.opened;
  if (spec.workspace_access != policy::WorkspaceAccess::none) {
    if (!opened.workspace) return fail(Reason::INTERNAL_ERROR, "the workspace was not opened");
    BindPlan b = bind_of(*opened.workspace, "/workspace");
    b.writable = spec.workspace_access == policy::WorkspaceAccess::rw;
    b.exec = spec.allow_exec;  // writable or not, nothing in the workspace runs when exec is denied
    if (parent.root_mode)
      if (auto s = clone_in_parent(b, *opened.workspace, parent.idmap_userns_fd, parent.keep_alive); !s) return s;
    plan.binds.push_back(b);
  }
  if (opened.binds.size() != spec.binds.size()) return fail(Reason::INTERNAL_ERROR, "the jail's binds were not opened");
  for (size_t i = 0; i < spec.binds.size(); ++i) {
    BindPlan b = bind_of(opened.binds[i], std::filesystem::path(spec.binds[i].dst).lexically_normal().string());
    b.writable = spec.binds[i].writable;
    b.exec = spec.allow_exec;
    if (parent.root_mode)
      if (auto s = clone_in_parent(b, opened.binds[i], -1, parent.keep_alive); !s) return s;
    plan.binds.push_back(b);
  }
  return ok_status();
}

}  // namespace

Result<MountPlan> plan_mounts(const JailSpec& spec, const ParentClone& parent) {
  MountPlan plan;
  plan.root_options = "mode=0755,size=8m";
  plan.tmp_options = "mode=1777,size=" + std::to_string(spec.limits.tmpfs_mb) + "m";
  plan.tmp_noexec = !spec.allow_exec;
  plan.dirs = {"/proc", "/tmp"};
  for (const auto& path : spec.rootfs_binds) plan_host_path(plan, path, path, true);
  plan_etc(plan, spec);
  plan_dev(plan);
  if (auto s = plan_sources(plan, spec, parent); !s) return s.error();
  if (plan.binds.size() > kMaxBinds) return fail(Reason::BIND_INVALID, "too many binds");
  return plan;
}

// ---- child side: raw syscalls and stack buffers only ----
bool join_path(char (&out)[PATH_MAX], const char* a, const char* b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la + lb + 1 > PATH_MAX) return false;
  memcpy(out, a, la);
  memcpy(out + la, b, lb + 1);
  return true;
}

namespace {

// mkdir -p of every parent of `path`, then the mount point itself (a directory or an empty file).
bool make_mount_point(const char* path, bool directory) {
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n >= PATH_MAX) return false;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i < n; ++i) {
    if (buf[i] != '/') continue;
    buf[i] = '\0';
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return false;
    buf[i] = '/';
  }
  if (directory) return mkdir(buf, 0755) == 0 || errno == EEXIST;
  int fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return errno == EEXIST;
  close(fd);
  return true;
}

// Reopens the source without following any symlink and refuses anything but the inode the
// parent checked: a path swapped between check and mount is caught here.
StepResult clone_source(const BindPlan& b, int* tree) {
  int fd = open_no_symlinks(b.source.c_str(), O_PATH);
  if (fd < 0) return failed(Step::open_source);
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_dev != b.dev || st.st_ino != b.ino) {
    close(fd);
    errno = ESTALE;
    return failed(Step::source_changed);
  }
  *tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  close(fd);
  if (*tree < 0) return failed(Step::bind);
  mount_attr attr{};
  attr.attr_set = bind_attrs(b);
  if (mount_setattr(*tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) return failed(Step::bind);
  return {};
}

StepResult attach(int tree, const char* target) {
  if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0) return failed(Step::bind);
  return {};
}

StepResult write_files(const MountPlan& plan) {
  char path[PATH_MAX];
  for (const auto& f : plan.files) {
    if (!join_path(path, kNewRoot, f.path.c_str())) return failed(Step::write_file);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return failed(Step::write_file);
    ssize_t n = write(fd, f.content.data(), f.content.size());
    close(fd);
    if (n != static_cast<ssize_t>(f.content.size())) return failed(Step::write_file);
  }
  for (const auto& s : plan.symlinks) {
    if (!join_path(path, kNewRoot, s.path.c_str()) || symlink(s.value.c_str(), path) != 0) return failed(Step::symlink);
  }
  return {};
}

StepResult mount_binds(const MountPlan& plan) {
  int trees[kMaxBinds];
  size_t n = plan.binds.size();
  // Clone every source before the new root hides the host's /tmp (workspaces often live there).
  for (size_t i = 0; i < n; ++i) {
    trees[i] = plan.binds[i].tree_fd;
    if (trees[i] >= 0) continue;
    if (StepResult r = clone_source(plan.binds[i], &trees[i]); !r.ok()) return r;
  }
  if (mount("tmpfs", kNewRoot, "tmpfs", MS_NOSUID | MS_NODEV, plan.root_options.c_str()) != 0)
    return failed(Step::mount_root);
  char path[PATH_MAX];
  for (const auto& d : plan.dirs)
    if (!join_path(path, kNewRoot, d.c_str()) || !make_mount_point(path, true)) return failed(Step::make_dir);
  for (size_t i = 0; i < n; ++i) {
    const BindPlan& b = plan.binds[i];
    if (!join_path(path, kNewRoot, b.target.c_str()) || !make_mount_point(path, b.directory)) return failed(Step::make_dir);
    if (StepResult r = attach(trees[i], path); !r.ok()) return r;
    if (b.tree_fd < 0) close(trees[i]);
  }
  return {};
}

StepResult mount_proc_and_tmp(const MountPlan& plan) {
  char path[PATH_MAX];
  if (!join_path(path, kNewRoot, "/proc") || mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    return failed(Step::mount_proc);
  char dev_null[PATH_MAX];
  if (!join_path(dev_null, kNewRoot, "/dev/null")) return failed(Step::proc_mask);
  if (StepResult r = harden_proc(path, dev_null); !r.ok()) return r;
  unsigned long tmp_flags = MS_NOSUID | MS_NODEV | (plan.tmp_noexec ? MS_NOEXEC : 0);
  if (!join_path(path, kNewRoot, "/tmp") || mount("tmpfs", path, "tmpfs", tmp_flags, plan.tmp_options.c_str()) != 0)
    return failed(Step::mount_tmp);
  return {};
}

// pivot_root(".", ".") stacks the old root under the new one; detaching it leaves nothing of
// the host reachable but the binds. Propagation is private, so nothing reaches the host.
StepResult switch_root() {
  if (chdir(kNewRoot) != 0 || syscall(SYS_pivot_root, ".", ".") != 0) return failed(Step::pivot_root);
  if (umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) return failed(Step::detach_old_root);
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) != 0) return failed(Step::remount_root);
  return {};
}

}  // namespace

StepResult build_root(const MountPlan& plan) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return failed(Step::make_private);
  if (StepResult r = mount_binds(plan); !r.ok()) return r;
  if (StepResult r = write_files(plan); !r.ok()) return r;
  if (StepResult r = mount_proc_and_tmp(plan); !r.ok()) return r;
  return switch_root();
}

}  // namespace clawjail::sandbox::detail
