// Child side of the egress proxy: the jail's init, in the jail's network namespace with `lo` up,
// opens the proxy's port there and hands the listening socket to the supervisor, which accepts
// on it from its own thread (egress_proxy.cc). Raw system calls on the stack only (sandbox/steps.h).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/egress.h"
#include "sandbox/fd_passing.h"
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

StepResult open_egress_port(int handover_fd) {
  if (handover_fd < 0) return {};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed(Step::egress_port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(kEgressPort);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  StepResult r;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 64) != 0)
    r = failed(Step::egress_port);
  else
    r = send_fd(handover_fd, fd) ? StepResult{} : failed(Step::egress_port);
  close(fd);
  close(handover_fd);
  return r;
}

}  // namespace clawjail::sandbox::detail
