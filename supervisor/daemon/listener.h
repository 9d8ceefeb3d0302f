// The listening socket: inherited from systemd (socket activation) or bound here, mode 0660.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <optional>

#include "base/reason.h"
#include "base/unique_fd.h"
#include "supervisor/common/config.h"

namespace clawjail {

struct Listener {
  UniqueFd fd;
  bool activated = false;  // from systemd: never unlink its path
  std::filesystem::path path;
};
// The socket's group: the first of clients.gids, else the `clawjail` group when the host has one
// (the package creates it; clawjail.socket uses it), else none (root only).
inline constexpr const char* kSocketGroupName = "clawjail";
std::optional<gid_t> socket_group(const Config& config);
// Refuses to replace a socket another supervisor still answers on.
Result<Listener> open_listener(const Config& config);
void close_listener(Listener& listener);

}  // namespace clawjail
