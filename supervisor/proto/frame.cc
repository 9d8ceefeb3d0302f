// Length-prefixed frames over a Unix stream socket, with descriptors passed by SCM_RIGHTS.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "base/reason.h"
#include "base/unique_fd.h"
#include "supervisor/proto/protocol.h"

namespace clawjail::proto {
namespace {

using Clock = std::chrono::steady_clock;

int poll_timeout_ms(Deadline deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Collects every descriptor of a control message; refuses more than kMaxFds in total.
Status take_fds(msghdr& msg, std::vector<UniqueFd>& fds) {
  bool too_many = (msg.msg_flags & MSG_CTRUNC) != 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);  // owned now, closed even when refused below
    }
  }
  if (too_many || fds.size() > kMaxFds)
    return fail(Reason::REQUEST_MALFORMED, "more than 3 descriptors attached");
  return ok_status();
}

// Reads exactly `len` bytes, waiting at most until the deadline.
Status read_exact(int fd, char* out, size_t len, Deadline deadline, std::vector<UniqueFd>& fds) {
  size_t got = 0;
  while (got < len) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return fail(Reason::REQUEST_TIMEOUT, "no complete frame before the deadline");
    if (r < 0) return fail(Reason::INTERNAL_ERROR, std::string("poll: ") + std::strerror(errno));
    iovec iov{out + got, len - got};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return fail(Reason::REQUEST_MALFORMED, std::string("recvmsg: ") + std::strerror(errno));
    if (auto s = take_fds(msg, fds); !s) return s;
    if (n == 0) return fail(Reason::REQUEST_MALFORMED, "connection closed inside a frame");
    got += static_cast<size_t>(n);
  }
  return ok_status();
}

}  // namespace

Result<Frame> read_frame(int fd, Deadline deadline, size_t max_bytes) {
  Frame frame;
  unsigned char header[4];
  if (auto s = read_exact(fd, reinterpret_cast<char*>(header), 4, deadline, frame.fds); !s) return s.error();
  size_t len = (size_t{header[0]} << 24) | (size_t{header[1]} << 16) | (size_t{header[2]} << 8) | header[3];
  if (len > max_bytes)
    return fail(Reason::REQUEST_TOO_LARGE, "frame of " + std::to_string(len) + " bytes, limit " +
                                               std::to_string(max_bytes));
  if (len == 0) return fail(Reason::REQUEST_MALFORMED, "empty frame");
  frame.body.resize(len);
  if (auto s = read_exact(fd, frame.body.data(), len, deadline, frame.fds); !s) return s.error();
  return frame;
}

Status write_frame(int fd, std::string_view body, std::span<const int> fds) {
  if (body.size() > kMaxFrameBytes) return fail(Reason::REQUEST_TOO_LARGE, "frame too large to send");
  if (fds.size() > kMaxFds) return fail(Reason::INTERNAL_ERROR, "too many descriptors to send");
  std::string data(4, '\0');
  uint32_t len = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) data[i] = static_cast<char>((len >> (24 - 8 * i)) & 0xff);
  data.append(body);
  size_t sent = 0;
  while (sent < data.size()) {
    iovec iov{data.data() + sent, data.size() - sent};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (sent == 0 && !fds.empty()) {  // descriptors ride on the first byte
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Reason::INTERNAL_ERROR, std::string("sendmsg: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  return ok_status();
}

}  // namespace clawjail::proto
