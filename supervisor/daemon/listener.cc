#include "supervisor/daemon/listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>


namespace clawjail {
namespace {

Error sys_error(const std::string& what) {
  return fail(Reason::CONFIG_INVALID, what + ": " + std::strerror(errno));
}

Result<sockaddr_un> unix_address(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof(addr.sun_path))
    return fail(Reason::CONFIG_INVALID, "socket path too long: " + path.string());
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  return addr;
}

// A stale socket file from a crashed supervisor may go; a live one means a second supervisor.
Status remove_stale_socket(const std::filesystem::path& path, const sockaddr_un& addr) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) return ok_status();
  if (!S_ISSOCK(st.st_mode)) return fail(Reason::CONFIG_INVALID, path.string() + " exists and is not a socket");
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (probe && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0)
    return fail(Reason::CONFIG_INVALID, "another supervisor is listening on " + path.string());
  if (::unlink(path.c_str()) != 0) return sys_error("unlink " + path.string());
  return ok_status();
}

Result<Listener> activated_listener() {
  int n = sd_listen_fds(1);
  if (n < 0) return fail(Reason::CONFIG_INVALID, std::string("sd_listen_fds: ") + std::strerror(-n));
  if (n == 0) return Listener{};
  if (n != 1) return fail(Reason::CONFIG_INVALID, "systemd passed " + std::to_string(n) + " sockets, expected 1");
  int fd = SD_LISTEN_FDS_START;
  if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0)
    return fail(Reason::CONFIG_INVALID, "the socket systemd passed is not a listening Unix stream socket");
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return Listener{UniqueFd(fd), true, {}};
}

}  // namespace

std::optional<gid_t> socket_group(const Config& config) {
  if (!config.client_gids.empty()) return config.client_gids.front();
  if (const struct group* gr = ::getgrnam(kSocketGroupName)) return gr->gr_gid;
  return std::nullopt;
}

Result<Listener> open_listener(const Config& config) {
  auto activated = activated_listener();
  if (!activated || activated->fd) return activated;
  auto addr = unix_address(config.socket);
  if (!addr) return addr.error();
  std::error_code ec;
  std::filesystem::create_directories(config.socket.parent_path(), ec);
  if (ec) return fail(Reason::CONFIG_INVALID, "cannot create " + config.socket.parent_path().string() + ": " + ec.message());
  if (auto s = remove_stale_socket(config.socket, *addr); !s) return s.error();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  // The umask closes the window between bind() and chmod() in which others could connect.
  mode_t old = ::umask(0117);
  int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  ::umask(old);
  if (rc != 0) return sys_error("bind " + config.socket.string());
  // Never connectable by every local user: 0660, root and one group (socket_group()). Listed
  // uids reach it as members of that group; SO_PEERCRED (authorize_peer) then decides.
  if (::chmod(config.socket.c_str(), 0660) != 0) return sys_error("chmod " + config.socket.string());
  if (auto group = socket_group(config); group && ::geteuid() == 0 &&
      ::chown(config.socket.c_str(), static_cast<uid_t>(-1), *group) != 0)
    return sys_error("chown " + config.socket.string());
  if (::listen(fd.get(), 128) != 0) return sys_error("listen");
  return Listener{std::move(fd), false, config.socket};
}

void close_listener(Listener& listener) {
  listener.fd.reset();
  if (!listener.activated && !listener.path.empty()) ::unlink(listener.path.c_str());
}

}  // namespace clawjail
