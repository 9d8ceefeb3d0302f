// One connection, start to end: authenticate the peer, read the request within its deadline,
// admit it, record `started`, run the jail or the file tool, record `finished`, answer.
#pragma once
#include "base/unique_fd.h"
#include "supervisor/daemon/daemon.h"

namespace clawjail {

void serve_connection(DaemonContext& ctx, UniqueFd conn);

}  // namespace clawjail
