#include "sandbox/output_relay.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace clawjail::sandbox::detail {
namespace {

using Clock = std::chrono::steady_clock;

std::string b64u(const unsigned char* bytes, size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(strlen(out.c_str()));
  return out;
}

// The reader of the jail's output (the client) may stall: a blocking write would stall the
// monitor and with it the timeout. So every write waits for POLLOUT only until `deadline` and
// never writes more than the reader has room for: MSG_DONTWAIT on sockets, at most PIPE_BUF
// (which POLLOUT guarantees) on pipes. The descriptor's own flags are shared with the client
// and are left alone.
enum class Written { all, deadline, reader_gone };
Written write_all(int fd, const char* p, size_t n, Clock::time_point deadline) {
  while (n > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count() + 1;
    pollfd pfd{fd, POLLOUT, 0};
    int ready = Clock::now() >= deadline ? 0 : poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (ready == 0) return Written::deadline;
    if (ready < 0) continue;  // EINTR
    ssize_t w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) w = write(fd, p, std::min<size_t>(n, PIPE_BUF));
    if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (w <= 0) return Written::reader_gone;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Written::all;
}

}  // namespace

std::string Stream::digest() {
  unsigned char d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&hash, d);
  return b64u(d, sizeof d);
}

Msg read_msg(int fd, bool& eof) {
  Msg m;
  ssize_t n = read(fd, &m, sizeof m);
  if (n < 0 && errno == EINTR) return Msg{MsgKind{0}};
  eof = n != static_cast<ssize_t>(sizeof m);
  return m;
}

void relay(Stream& s, Cap& cap, Clock::time_point deadline, const std::function<void()>& on_client_gone) {
  char buf[65536];
  ssize_t n = read(s.in, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    s.in = -1;
    return;
  }
  auto keep = static_cast<size_t>(std::min<int64_t>(n, cap.left));
  if (keep < static_cast<size_t>(n)) cap.truncated = true;
  if (keep == 0) return;
  crypto_hash_sha256_update(&s.hash, reinterpret_cast<unsigned char*>(buf), keep);
  s.bytes += static_cast<int64_t>(keep);
  cap.left -= static_cast<int64_t>(keep);
  if (s.out < 0 || s.out_failed) return;
  Written w = write_all(s.out, buf, keep, deadline);
  if (w == Written::all) return;
  s.out_failed = true;
  if (w == Written::reader_gone) on_client_gone();  // a missed deadline ends the call by itself
}

}  // namespace clawjail::sandbox::detail
