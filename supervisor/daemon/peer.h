// Who is on the other end of a connection (SO_PEERCRED, SO_PEERGROUPS) and may they call.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "base/reason.h"
#include "supervisor/common/config.h"

namespace clawjail {

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, from the kernel at connect() time
};
Result<Peer> peer_of(int conn_fd);
// root always; else the uid in clients.uids or any of its groups in clients.gids (PEER_NOT_ALLOWED).
Status authorize_peer(const Peer& peer, const Config& config);

}  // namespace clawjail
