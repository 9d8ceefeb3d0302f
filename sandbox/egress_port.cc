// Child side of the egress proxy: the jail's init, in the jail's network namespace with `lo` up,
// opens the proxy's port there and hands the listening socket to the supervisor, which accepts
// on it from its own thread (egress_proxy.cc). Raw system calls on the stack only (internal.h).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "sandbox/egress.h"

namespace clawjail::sandbox::detail {
namespace {

StepResult send_fd(int sock, int fd) {
  char byte = 'E';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1) return failed(Step::egress_port);
  return {};
}

}  // namespace

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
    r = send_fd(handover_fd, fd);
  close(fd);
  close(handover_fd);
  return r;
}

}  // namespace clawjail::sandbox::detail
