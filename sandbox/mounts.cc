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

#include "sandbox/internal.h"

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

// Root mode: the workspace is bound through an idmapped mount so that its owner appears as the
// jail's uid (the jail runs as a host uid of its own that owns nothing). The parent builds the
// detached tree; the child only attaches it.
UniqueFd idmapped_tree(const BindPlan& b, int userns_fd, uint64_t attrs) {
  UniqueFd src(open(b.source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st;
  // Another object at the path since it was checked: no idmapped tree, and the child's own
  // identity check then refuses the bind.
  if (!src || fstat(src.get(), &st) != 0 || st.st_dev != b.dev || st.st_ino != b.ino) return {};
  UniqueFd tree(open_tree(src.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH));
  if (!tree) return {};
  mount_attr attr{};
  attr.attr_set = attrs | MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) return {};
  return tree;
}

uint64_t bind_attrs(const BindPlan& b) {
  uint64_t a = MOUNT_ATTR_NOSUID;
  if (!b.device) a |= MOUNT_ATTR_NODEV;
  if (!b.writable) a |= MOUNT_ATTR_RDONLY;
  if (!b.exec) a |= MOUNT_ATTR_NOEXEC;
  return a;
}

Status plan_workspace(MountPlan& plan, const JailSpec& spec, std::vector<UniqueFd>& keep_alive,
                      int idmap_userns_fd) {
  if (spec.workspace_access == policy::WorkspaceAccess::none) return ok_status();
  auto r = resolve_bind_source(spec.workspace.string(), spec);
  if (!r) return fail(Reason::WORKSPACE_INVALID, r.error().detail);
  if (!r->directory) return fail(Reason::WORKSPACE_INVALID, spec.workspace.string() + " is not a directory");
  BindPlan b;
  b.source = r->source;
  b.target = "/workspace";
  b.dev = r->dev;
  b.ino = r->ino;
  b.writable = spec.workspace_access == policy::WorkspaceAccess::rw;
  b.exec = spec.allow_exec;  // writable or not, nothing in the workspace runs when exec is denied
  if (idmap_userns_fd >= 0) {
    if (UniqueFd tree = idmapped_tree(b, idmap_userns_fd, bind_attrs(b))) {
      b.tree_fd = tree.get();
      keep_alive.push_back(std::move(tree));
    }
  }
  plan.binds.push_back(b);
  return ok_status();
}

}  // namespace

Result<MountPlan> plan_mounts(const JailSpec& spec, std::vector<UniqueFd>& keep_alive, int idmap_userns_fd) {
  MountPlan plan;
  plan.root_options = "mode=0755,size=8m";
  plan.tmp_options = "mode=1777,size=" + std::to_string(spec.limits.tmpfs_mb) + "m";
  plan.tmp_noexec = !spec.allow_exec;
  plan.dirs = {"/proc", "/tmp"};
  for (const auto& path : spec.rootfs_binds) plan_host_path(plan, path, path, true);
  plan_etc(plan, spec);
  plan_dev(plan);
  if (auto s = plan_workspace(plan, spec, keep_alive, idmap_userns_fd); !s) return s.error();
  for (const auto& bind : spec.binds) {
    auto r = resolve_bind_source(bind.src, spec);
    if (!r) return r.error();
    BindPlan b;
    b.source = r->source;
    b.target = std::filesystem::path(bind.dst).lexically_normal().string();
    b.dev = r->dev;
    b.ino = r->ino;
    b.directory = r->directory;
    b.writable = bind.writable;
    b.exec = spec.allow_exec;
    plan.binds.push_back(b);
  }
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
  // The source is absolute and canonical: beneath "/" it is the same path, walked without links.
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return failed(Step::open_source);
  int fd = open_beneath(root, b.source.c_str() + 1, O_PATH);
  int err = errno;
  close(root);
  errno = err;
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
