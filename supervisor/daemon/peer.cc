#include "supervisor/daemon/peer.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>


namespace clawjail {

Result<Peer> peer_of(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return fail(Reason::PEER_NOT_ALLOWED, std::string("SO_PEERCRED: ") + std::strerror(errno));
  Peer peer{cred.pid, cred.uid, cred.gid, {}};
  std::vector<gid_t> groups(64);
  len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
    groups.resize(len / sizeof(gid_t));
    peer.groups = std::move(groups);
  } else if (errno == ERANGE) {
    groups.resize(len / sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      groups.resize(len / sizeof(gid_t));
      peer.groups = std::move(groups);
    }
  }
  return peer;
}

Status authorize_peer(const Peer& peer, const Config& config) {
  auto has = [](const auto& list, auto v) { return std::find(list.begin(), list.end(), v) != list.end(); };
  if (peer.uid == 0 || has(config.client_uids, peer.uid) || has(config.client_gids, peer.gid))
    return ok_status();
  for (gid_t g : peer.groups)
    if (has(config.client_gids, g)) return ok_status();
  return fail(Reason::PEER_NOT_ALLOWED, "uid " + std::to_string(peer.uid) + " (pid " + std::to_string(peer.pid) +
                                            ") is not in the configuration's clients");
}

}  // namespace clawjail
