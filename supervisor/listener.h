// The listening socket: inherited from systemd (socket activation) or bound here, mode 0660.
#pragma once
#include <filesystem>

#include "policy/reason.h"
#include "policy/unique_fd.h"
#include "supervisor/config.h"

namespace clawjail {

struct Listener {
  UniqueFd fd;
  bool activated = false;  // from systemd: never unlink its path
  std::filesystem::path path;
};
// Refuses to replace a socket another supervisor still answers on.
Result<Listener> open_listener(const Config& config);
void close_listener(Listener& listener);

}  // namespace clawjail
