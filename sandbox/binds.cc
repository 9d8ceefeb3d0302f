// Which host paths may appear in a jail. Every source is opened first (symlinks followed, as the
// kernel would follow them for a bind) and judged by what the descriptor is: its type from
// fstat and its canonical path from the kernel (/proc/self/fd). The child later reopens the
// resolved path without following any symlink and refuses it unless it is the same inode.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/internal.h"

namespace clawjail::sandbox {
namespace detail {
namespace {

constexpr std::array kSensitiveTrees = {"/proc", "/sys", "/dev", "/run", "/etc", "/boot"};
constexpr std::array kSecretDirs = {".ssh", ".aws", ".gnupg"};

bool within(const std::string& path, const std::string& tree) {
  if (tree == "/") return true;
  return path == tree || (path.size() > tree.size() && path.compare(0, tree.size(), tree) == 0 &&
                          path[tree.size()] == '/');
}

std::string fd_path(int fd) {
  char buf[PATH_MAX];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

bool has_secret_component(const std::string& path) {
  for (const char* dir : kSecretDirs) {
    std::string needle = std::string("/") + dir;
    auto pos = path.find(needle);
    if (pos != std::string::npos && (pos + needle.size() == path.size() || path[pos + needle.size()] == '/'))
      return true;
  }
  return false;
}

bool contains_secret_dir(int dirfd) {
  struct stat st;
  for (const char* dir : kSecretDirs)
    if (fstatat(dirfd, dir, &st, AT_SYMLINK_NOFOLLOW) == 0) return true;
  return false;
}

// The supervisor's own paths (state, socket, key, config) as the kernel resolves them now,
// resolved once per check; one that does not resolve keeps its lexical form.
struct ProtectedPath {
  std::string resolved, lexical;
  const std::string& best() const { return resolved.empty() ? lexical : resolved; }
};
std::vector<ProtectedPath> resolve_protected(const JailSpec& spec) {
  std::vector<ProtectedPath> out;
  for (const auto& p : spec.protected_paths) {
    UniqueFd fd(open(p.c_str(), O_PATH | O_CLOEXEC));
    out.push_back({fd ? fd_path(fd.get()) : std::string(), p.lexically_normal().string()});
  }
  return out;
}

// Why `path` (canonical) may not be bound, or an empty string.
std::string sensitive_reason(const std::string& path, int fd, bool directory, const std::vector<ProtectedPath>& prot) {
  if (path == "/") return "the host root";
  for (const char* tree : kSensitiveTrees)
    if (within(path, tree)) return std::string("inside ") + tree;
  for (const auto& p : prot)
    if (within(path, p.best()) || within(p.best(), path)) return "the supervisor's own state (" + p.best() + ")";
  if (has_secret_component(path)) return "a credentials directory (.ssh, .aws, .gnupg)";
  if (directory && contains_secret_dir(fd)) return "a home directory holding .ssh, .aws or .gnupg";
  return "";
}

Result<ResolvedBind> resolve_source(const std::string& src, const JailSpec& spec, const std::vector<ProtectedPath>& prot) {
  if (src.empty() || src[0] != '/') return fail(Reason::BIND_INVALID, "bind source must be absolute: " + src);
  // Kernel filesystems are refused before they are even opened: their magic links
  // (/proc/<pid>/root, /proc/self/fd/N) lead anywhere, including into other mount namespaces.
  const std::string lexical = std::filesystem::path(src).lexically_normal().string();
  for (const char* tree : {"/proc", "/sys", "/dev"})
    if (within(lexical, tree)) return fail(Reason::BIND_REFUSED_SENSITIVE, src + ": inside " + tree);
  UniqueFd fd(open(src.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR) return fail(Reason::BIND_SOURCE_MISSING, src + ": " + strerror(errno));
    return fail(Reason::BIND_INVALID, src + ": " + strerror(errno));
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return fail(Reason::BIND_INVALID, src + ": " + strerror(errno));
  ResolvedBind r;
  r.source = fd_path(fd.get());
  r.dev = st.st_dev;
  r.ino = st.st_ino;
  r.directory = S_ISDIR(st.st_mode);
  r.socket = S_ISSOCK(st.st_mode);
  if (r.source.empty() || r.source[0] != '/') return fail(Reason::BIND_INVALID, src + ": cannot resolve");
  for (const auto& p : prot)  // the supervisor's socket: never, even as a socket
    if (!p.resolved.empty() && (within(r.source, p.resolved) || within(p.resolved, r.source)))
      return fail(Reason::BIND_REFUSED_SENSITIVE, src + " resolves to " + r.source + ", the supervisor's own state");
  if (r.socket) {
    if (!spec.allow_docker_socket)
      return fail(Reason::BIND_REFUSED_SOCKET, src + " resolves to a socket (" + r.source + ")");
    return r;
  }
  if (std::string why = sensitive_reason(r.source, fd.get(), r.directory, prot); !why.empty())
    return fail(Reason::BIND_REFUSED_SENSITIVE, src + " resolves to " + r.source + ": " + why);
  return r;
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

Status check_workspace(const JailSpec& spec, const std::vector<ProtectedPath>& prot) {
  if (spec.workspace_access == policy::WorkspaceAccess::none) return ok_status();
  if (spec.workspace.empty() || !spec.workspace.is_absolute())
    return fail(Reason::WORKSPACE_INVALID, "workspace must be an absolute host directory");
  UniqueFd fd(open(spec.workspace.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail(Reason::WORKSPACE_INVALID, spec.workspace.string() + ": " + strerror(errno));
  std::string path = fd_path(fd.get());
  if (std::string why = sensitive_reason(path, fd.get(), true, prot); !why.empty())
    return fail(Reason::WORKSPACE_INVALID, spec.workspace.string() + " resolves to " + path + ": " + why);
  return ok_status();
}
}  // namespace

Result<ResolvedBind> resolve_bind_source(const std::string& src, const JailSpec& spec) {
  return resolve_source(src, spec, resolve_protected(spec));
}
}  // namespace detail

Result<BindCheck> check_binds(const JailSpec& spec) {
  const auto prot = detail::resolve_protected(spec);
  if (auto s = detail::check_workspace(spec, prot); !s) return s.error();
  BindCheck check;
  for (const auto& b : spec.binds) {
    if (auto s = detail::check_destination(b.dst); !s) return s.error();
    auto r = detail::resolve_source(b.src, spec, prot);
    if (!r) return r.error();
    check.binds_socket = check.binds_socket || r->socket;
  }
  return check;
}

}  // namespace clawjail::sandbox
