// Which host paths may appear in a jail. Every source is opened once and judged by what the
// descriptor is: its type and owner from fstat, its canonical path from the kernel
// (/proc/self/fd). The jail is then built from that descriptor; the path is not looked up again.
// A bind source is opened following symlinks, as the kernel would follow them for a bind; the
// workspace, which the client names, is opened without following any.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/beneath.h"
#include "sandbox/binds.h"

namespace clawjail::sandbox {
namespace {

constexpr unsigned kAll = 0xf;
constexpr unsigned kNotRootfs = kAll & ~static_cast<unsigned>(PathUse::rootfs_bind);
constexpr unsigned kWritable = static_cast<unsigned>(PathUse::writable_bind) | static_cast<unsigned>(PathUse::workspace);

// docs/operations.md "What a jail may see" lists the same.
const std::vector<SensitiveEntry> kSensitive = {
    {"/", false, kAll},
    // Kernel and runtime state, the boot loader.
    {"/proc", true, kAll}, {"/sys", true, kAll}, {"/dev", true, kAll}, {"/run", true, kAll},
    {"/var/run", true, kAll}, {"/boot", true, kAll},
    // The host's configuration: the rootfs binds of the configuration may show parts (/etc/ssl).
    {"/etc", false, kAll}, {"/etc", true, kNotRootfs},
    // Every user's home, root's, and the system's variable data, as a whole (a root gateway's
    // workspace below /root is allowed: docs/operations.md, "Where workspaces may live").
    {"/home", false, kAll}, {"/root", false, kAll}, {"/var", false, kAll}, {"/var/lib", false, kAll},
    // Credentials, wherever they are.
    {".ssh", true, kAll}, {".aws", true, kAll}, {".gnupg", true, kAll}, {".kube", true, kAll}, {".docker", true, kAll},
    // System trees: readable, never writable nor a workspace.
    {"/usr", true, kWritable}, {"/bin", true, kWritable}, {"/sbin", true, kWritable}, {"/lib", true, kWritable},
    {"/lib32", true, kWritable}, {"/lib64", true, kWritable}, {"/libx32", true, kWritable}, {"/opt", true, kWritable},
    {"/var/lib", true, kWritable}, {"/var/log", true, kWritable}, {"/var/cache", true, kWritable},
    {"/var/spool", true, kWritable}, {"/var/mail", true, kWritable}};

bool within(const std::string& path, const std::string& tree) {
  if (tree == "/") return true;
  return path == tree || (path.size() > tree.size() && path.compare(0, tree.size(), tree) == 0 &&
                          path[tree.size()] == '/');
}

bool has_component(const std::string& path, const std::string& name) {
  for (const auto& part : std::filesystem::path(path))
    if (part == name) return true;
  return false;
}

bool matches(const SensitiveEntry& e, const std::string& path) {
  if (e.path[0] != '/') return has_component(path, e.path);
  return e.tree ? within(path, e.path) : path == e.path;
}

std::string fd_path(int fd) {
  char buf[PATH_MAX];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// A directory holding credentials (a home): the names of the list that are not paths.
std::string secret_inside(int dirfd) {
  struct stat st;
  for (const auto& e : kSensitive)
    if (e.path[0] != '/' && fstatat(dirfd, e.path, &st, AT_SYMLINK_NOFOLLOW) == 0) return e.path;
  return "";
}

// The supervisor's own paths (state, socket, key, config) as the kernel resolves them now; one
// that does not resolve keeps its lexical form.
std::vector<std::string> resolve_protected(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    UniqueFd fd(open(p.c_str(), O_PATH | O_CLOEXEC));
    std::string resolved = fd ? fd_path(fd.get()) : std::string();
    out.push_back(resolved.empty() ? p.lexically_normal().string() : resolved);
  }
  return out;
}

std::string own_state_reason(const std::string& path, const std::vector<std::string>& prot) {
  for (const auto& p : prot)
    if (within(path, p) || within(p, path)) return "the supervisor's own state (" + p + ")";
  return "";
}

std::string list_reason(const std::string& path, PathUse use, int dirfd) {
  for (const auto& e : kSensitive) {
    if (!(e.refused_for & static_cast<unsigned>(use)) || !matches(e, path)) continue;
    if (e.path[0] != '/') return std::string("a credentials directory (") + e.path + ")";
    if (std::string(e.path) == "/") return "the host root";
    return e.tree ? std::string("inside ") + e.path : std::string("the whole of ") + e.path;
  }
  if (dirfd >= 0)
    if (std::string secret = secret_inside(dirfd); !secret.empty()) return "a directory holding " + secret;
  return "";
}

Error stat_error(const std::string& what) { return fail(Reason::BIND_INVALID, what + ": " + strerror(errno)); }

// Type, identity, owner and canonical path, all from the descriptor.
Result<HostSource> describe_fd(UniqueFd fd, const std::string& what) {
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return stat_error(what);
  HostSource s;
  s.path = fd_path(fd.get());
  if (s.path.empty() || s.path[0] != '/') return fail(Reason::BIND_INVALID, what + ": cannot resolve");
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.uid = st.st_uid;
  s.gid = st.st_gid;
  s.directory = S_ISDIR(st.st_mode);
  s.socket = S_ISSOCK(st.st_mode);
  s.fd = std::move(fd);
  return s;
}

Result<HostSource> open_bind_source(const std::string& src, PathUse use) {
  if (src.empty() || src[0] != '/') return fail(Reason::BIND_INVALID, "bind source must be absolute: " + src);
  // Kernel filesystems are refused before they are even opened: their magic links
  // (/proc/<pid>/root, /proc/self/fd/N) lead anywhere, including into other mount namespaces.
  const std::string lexical = std::filesystem::path(src).lexically_normal().string();
  for (const char* tree : {"/proc", "/sys", "/dev"})
    if (within(lexical, tree)) return fail(Reason::BIND_REFUSED_SENSITIVE, src + ": inside " + tree);
  UniqueFd fd(open(src.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    // A sensitive path is refused as such whether or not it exists on this host, as the audit does.
    if (std::string why = list_reason(lexical, use, -1); !why.empty())
      return fail(Reason::BIND_REFUSED_SENSITIVE, src + ": " + why);
    if (err == ENOENT || err == ENOTDIR) return fail(Reason::BIND_SOURCE_MISSING, src + ": " + strerror(err));
    return fail(Reason::BIND_INVALID, src + ": " + strerror(err));
  }
  return describe_fd(std::move(fd), src);
}

PathUse use_of(const policy::BindSpec& b) { return b.writable ? PathUse::writable_bind : PathUse::bind; }

Status check_bind_source(const HostSource& s, const policy::BindSpec& b, const JailSpec& spec,
                         const std::vector<std::string>& prot) {
  // The supervisor's socket: never, even as a socket.
  if (std::string why = own_state_reason(s.path, prot); !why.empty())
    return fail(Reason::BIND_REFUSED_SENSITIVE, b.src + " resolves to " + s.path + ", " + why);
  if (s.socket) {
    if (!spec.allow_docker_socket) return fail(Reason::BIND_REFUSED_SOCKET, b.src + " resolves to a socket (" + s.path + ")");
    return ok_status();
  }
  if (std::string why = list_reason(s.path, use_of(b), s.directory ? s.fd.get() : -1); !why.empty())
    return fail(Reason::BIND_REFUSED_SENSITIVE, b.src + " resolves to " + s.path + ": " + why);
  return ok_status();
}

Status check_destination(const std::string& dst) {
  if (dst.empty() || dst[0] != '/' || dst == "/")
    return fail(Reason::BIND_INVALID, "bind destination must be an absolute path below /: " + dst);
  std::filesystem::path p(dst);
  for (const auto& part : p)
    if (part == ".." || part == ".") return fail(Reason::BIND_INVALID, "bind destination has . or ..: " + dst);
  for (const char* reserved : {"/proc", "/dev", "/workspace", "/tmp", "/etc"})
    if (within(p.lexically_normal().string(), reserved))
      return fail(Reason::BIND_INVALID, "bind destination is reserved by the jail: " + dst);
  return ok_status();
}

Result<HostSource> check_workspace(const JailSpec& spec, const std::vector<std::string>& prot) {
  auto ws = open_workspace(spec.workspace);
  if (!ws) return ws.error();
  std::string why = own_state_reason(ws->path, prot);
  if (why.empty()) why = list_reason(ws->path, PathUse::workspace, ws->fd.get());
  if (!why.empty()) return fail(Reason::WORKSPACE_INVALID, spec.workspace.string() + " is " + ws->path + ": " + why);
  return ws;
}

}  // namespace

namespace detail {
// The one openat2 of sandbox/: a fallback for hosts without it belongs here. Async-signal-safe.
int open_no_symlinks(const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how));
  if (fd >= 0 || errno != ENOSYS || path[0] != '/') return fd;
  // openat2 refused (RestrictSUIDSGID=yes): the same walk without links, beneath "/" (beneath.cc).
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  fd = open_beneath(root, path + 1, flags);
  int err = errno;
  close(root);
  errno = err;
  return fd;
}
}  // namespace detail

namespace {
bool under(const std::filesystem::path& path, const std::filesystem::path& dir) {
  auto rel = path.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

// The supervisor sees the workspace through its own mounts, which the service's sandboxing
// shapes (docs/operations.md, "Where workspaces may live"): the caller learns which rule hid it.
Error workspace_unreachable(const std::filesystem::path& ws, int err) {
  std::string what = "workspace " + ws.string();
  if (err == ENOENT && (under(ws, "/tmp") || under(ws, "/var/tmp")))
    return fail(Reason::WORKSPACE_INVALID,
                what + " is not visible to the supervisor: clawjail.service has a /tmp and /var/tmp of its own "
                       "(PrivateTmp=yes); put workspaces under /home, /srv or /root (docs/operations.md)");
  if (err == ENOENT) return fail(Reason::WORKSPACE_INVALID, what + " does not exist for the supervisor");
  if (err == ENOTDIR) return fail(Reason::WORKSPACE_INVALID, what + " is not a directory");
  return fail(Reason::WORKSPACE_INVALID, what + ": " + strerror(err));
}
}  // namespace

Result<HostSource> open_workspace(const std::filesystem::path& path) {
  if (path.empty() || !path.is_absolute())
    return fail(Reason::WORKSPACE_INVALID, "workspace must be an absolute host directory");
  // No O_NOFOLLOW: with it a trailing symlink would be opened itself (ENOTDIR), not refused (ELOOP).
  UniqueFd fd(detail::open_no_symlinks(path.c_str(), O_PATH | O_DIRECTORY));
  if (!fd && errno == ELOOP)
    return fail(Reason::WORKSPACE_INVALID, path.string() + ": the path contains a symlink; name the workspace by its real path");
  if (!fd) return workspace_unreachable(path, errno);
  auto s = describe_fd(std::move(fd), path.string());
  if (!s) return fail(Reason::WORKSPACE_INVALID, s.error().detail);
  return s;
}

std::string sensitive_path_reason(const std::string& path, PathUse use, int dirfd,
                                  const std::vector<std::filesystem::path>& protected_paths) {
  std::string why = own_state_reason(path, resolve_protected(protected_paths));
  return why.empty() ? list_reason(path, use, dirfd) : why;
}

const std::vector<SensitiveEntry>& sensitive_entries() { return kSensitive; }

std::vector<std::filesystem::path> default_protected_paths() {
  return {"/var/lib/clawjail", "/run/clawjail", "/etc/clawjail"};
}

Result<BindCheck> check_binds(const JailSpec& spec) {
  const auto prot = resolve_protected(spec.protected_paths);
  BindCheck check;
  if (spec.workspace_access != policy::WorkspaceAccess::none) {
    auto ws = check_workspace(spec, prot);
    if (!ws) return ws.error();
    check.workspace = std::move(ws.value());
  }
  for (const auto& b : spec.binds) {
    if (auto s = check_destination(b.dst); !s) return s.error();
    auto source = open_bind_source(b.src, use_of(b));
    if (!source) return source.error();
    if (auto s = check_bind_source(*source, b, spec, prot); !s) return s.error();
    check.binds_socket = check.binds_socket || source->socket;
    check.binds.push_back(std::move(source.value()));
  }
  return check;
}

Status open_sources(JailSpec& spec) {
  if (spec.opened) return ok_status();
  auto check = check_binds(spec);
  if (!check) return check.error();
  spec.opened = std::make_shared<const BindCheck>(std::move(check.value()));
  return ok_status();
}

}  // namespace clawjail::sandbox
