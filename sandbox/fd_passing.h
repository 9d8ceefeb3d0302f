// Passing descriptors over the jail's socket pair (SCM_RIGHTS).
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

bool send_fd(int sock, int fd);  // async-signal-safe
UniqueFd receive_fd(int sock);   // non-blocking; invalid on EOF or anything but one descriptor
// The go-ahead that starts a jail's command: a 'G', with the command's stdin when the jail was
// built ahead of its call (fd >= 0). receive_go blocks and is async-signal-safe: it returns the
// descriptor, -1 for a plain 'G', or kNoGo for anything else (EOF: the supervisor dropped the jail).
constexpr int kNoGo = -2;
bool send_go(int sock, int fd);
int receive_go(int sock);

}  // namespace clawjail::sandbox::detail
