// One descriptor over a Unix socket (SCM_RIGHTS), with a one-byte payload so that EOF and a
// message are told apart. send_fd is async-signal-safe: the jail's init uses it after the clone.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "sandbox/fd_passing.h"

namespace clawjail::sandbox::detail {
namespace {

struct FdMessage {
  char byte = 'F';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  FdMessage() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
};

}  // namespace

namespace {

bool send_byte_with_fd(int sock, char byte, int fd) {
  FdMessage m;
  m.byte = byte;
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return sendmsg(sock, &m.msg, MSG_NOSIGNAL) == 1;
}

}  // namespace

bool send_fd(int sock, int fd) { return send_byte_with_fd(sock, 'F', fd); }

bool send_go(int sock, int fd) {
  if (fd < 0) return send(sock, "G", 1, MSG_NOSIGNAL) == 1;
  return send_byte_with_fd(sock, 'G', fd);
}

int receive_go(int sock) {
  FdMessage m;
  ssize_t n;
  while ((n = recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n != 1 || m.byte != 'G') return kNoGo;
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  if (!c) return -1;
  if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) return kNoGo;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

UniqueFd receive_fd(int sock) {
  FdMessage m;
  if (recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) != 1) return {};
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return {};
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return UniqueFd(fd);
}

}  // namespace clawjail::sandbox::detail
