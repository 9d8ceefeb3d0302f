// Supervisor side of the egress proxy (see egress.h). One accept thread per jail and one thread
// per connection, at most EgressLimits::max_tunnels of them. Every wait also watches the stop
// eventfd, so stop() ends every connection at once and joins every thread: nothing of the proxy
// outlives its jail. The resolver is the one wait that cannot be interrupted; it runs only for
// approved names and is bounded by resolv.conf's own timeout.
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <system_error>

#include "base/reason.h"
#include "base/unique_fd.h"
#include "sandbox/egress.h"
#include "sandbox/fd_passing.h"
#include "sandbox/sigpipe.h"
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

using Clock = std::chrono::steady_clock;

struct EgressProxy::Shared {
  std::vector<std::string> approved;
  EgressLimits limits;
  UniqueFd stop;  // eventfd, readable once stop() was called
  std::mutex mu;
  EgressStats stats;

  void count(int64_t EgressStats::*field) {
    std::lock_guard lock(mu);
    ++(stats.*field);
  }
  void refused(const std::string& target) {
    std::lock_guard lock(mu);
    ++stats.refused;
    auto& list = stats.refused_targets;
    if (list.size() < limits.max_refused_targets && std::find(list.begin(), list.end(), target) == list.end())
      list.push_back(target);
  }
};

namespace {

constexpr auto kForever = Clock::time_point::max();
constexpr auto kLinger = std::chrono::seconds(1);

// Waits for `events` on fd. Returns its revents, 0 when `deadline` passed, -1 when the proxy stops.
int wait_for(int fd, short events, int stop_fd, Clock::time_point deadline) {
  for (;;) {
    int ms = -1;
    if (deadline != kForever) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left < 0) return 0;
      ms = static_cast<int>(std::min<int64_t>(left + 1, 60000));
    }
    pollfd p[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    int n = poll(p, 2, ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || p[1].revents) return -1;
    if (n > 0) return p[0].revents;
  }
}

bool send_all(int fd, std::string_view data, int stop_fd) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait_for(fd, POLLOUT, stop_fd, kForever) < 0) return false;
    } else {
      return false;
    }
  }
  return true;
}

const char* status_text(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

std::string error_response(int status, const std::string& reason) {
  std::string body = "clawjail egress proxy: " + reason + "\n";
  return "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// Answers and closes gracefully: closing with unread request bytes would send a reset that can
// destroy the answer before the client reads it, so the rest of the request is drained (briefly).
void refuse(int fd, int status, const std::string& reason, int stop_fd) {
  std::string response = error_response(status, reason);
  send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);  // small: fits the empty buffer
  shutdown(fd, SHUT_WR);
  const auto until = Clock::now() + kLinger;
  char buf[4096];
  for (size_t drained = 0; drained < (1 << 20);) {
    if (wait_for(fd, POLLIN, stop_fd, until) <= 0) return;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return;
    drained += static_cast<size_t>(n);
  }
}

enum class Head { ok, closed, too_big, too_slow, stopped };

// Reads up to the blank line that ends the request head; bytes after it are kept in `rest`.
Head read_head(int fd, const EgressLimits& lim, int stop_fd, std::string& head, std::string& rest) {
  const auto deadline = Clock::now() + lim.head_timeout;
  char buf[4096];
  for (;;) {
    int ev = wait_for(fd, POLLIN, stop_fd, deadline);
    if (ev < 0) return Head::stopped;
    if (ev == 0) return Head::too_slow;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return Head::closed;
    size_t from = head.size() < 3 ? 0 : head.size() - 3;
    head.append(buf, static_cast<size_t>(n));
    auto end = head.find("\r\n\r\n", from);
    if (end != std::string::npos && end + 4 <= lim.max_head_bytes) {
      rest = head.substr(end + 4);
      head.resize(end + 4);
      return Head::ok;
    }
    if (head.size() >= lim.max_head_bytes) return Head::too_big;
  }
}

struct Upstream {
  UniqueFd fd;
  int status = 0;  // when !fd: 502, 504, or 0 when the proxy stopped
  std::string why;
};

// Resolves on the host (after the approved-hosts check) and tries each address in turn.
Upstream connect_upstream(const std::string& host, int port, const EgressLimits& lim, int stop_fd) {
  Upstream up;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    up.status = 502;
    up.why = "cannot resolve " + host + ": " + gai_strerror(rc);
    return up;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  const HostAddresses own = host_addresses();  // now: an address added since the jail began counts too
  int last = 0;
  bool timed_out = false;
  bool tried = false;
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    if (host_local_address(ai->ai_addr, own) && !may_reach_host_local(host)) continue;
    tried = true;
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      last = errno;
      continue;
    }
    if (connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      up.fd = std::move(fd);
      return up;
    }
    if (errno != EINPROGRESS) {
      last = errno;
      continue;
    }
    int ev = wait_for(fd.get(), POLLOUT, stop_fd, Clock::now() + lim.connect_timeout);
    if (ev < 0) return up;  // stopping
    if (ev == 0) {
      timed_out = true;
      continue;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
      up.fd = std::move(fd);
      return up;
    }
    last = err;
  }
  const std::string target = host + ":" + std::to_string(port);
  if (!tried) {
    up.status = 403;
    up.why = host + " resolves only to addresses of this host or its link (loopback, its interfaces, link-local, multicast)";
    return up;
  }
  up.status = timed_out && last == 0 ? 504 : 502;
  up.why = timed_out && last == 0 ? "connecting to " + target + " timed out"
                                  : "cannot connect to " + target + ": " + strerror(last);
  return up;
}

// One direction of a tunnel.
struct Pipe {
  int from = -1, to = -1;
  char buf[16384];
  size_t len = 0, off = 0;
  bool eof = false, shut = false;
  int64_t remaining = -1;  // -1: no limit; else bytes still to forward, the rest is read and dropped
};

// Moves what it can; false when the tunnel is broken. `progress` tells whether anything moved.
bool pump(Pipe& p, short from_ev, short to_ev, bool& progress) {
  if (p.len == 0 && !p.eof && (from_ev & (POLLIN | POLLHUP | POLLERR))) {
    const size_t want = p.remaining > 0 ? std::min<size_t>(sizeof p.buf, static_cast<size_t>(p.remaining)) : sizeof p.buf;
    ssize_t n = recv(p.from, p.buf, want, MSG_DONTWAIT);
    if (n > 0) {
      if (p.remaining != 0) p.len = static_cast<size_t>(n);  // at 0 the bytes are dropped
      if (p.remaining > 0) p.remaining -= n;
      p.off = 0;
      progress = true;
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      p.eof = progress = true;
    }
  }
  if (p.len > 0 && (to_ev & (POLLOUT | POLLHUP | POLLERR))) {
    ssize_t n = send(p.to, p.buf + p.off, p.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    if (n > 0) {
      p.off += static_cast<size_t>(n);
      p.len -= static_cast<size_t>(n);
      progress = true;
    }
  }
  if (p.eof && p.len == 0 && !p.shut) {
    shutdown(p.to, SHUT_WR);  // half-close travels on: the other direction may still talk
    p.shut = progress = true;
  }
  return true;
}

// Both ways until both sides are done, either breaks, or the proxy stops. `up_limit` >= 0: only
// that many more bytes of the client reach the upstream.
void relay(int client, int upstream, int stop_fd, int64_t up_limit) {
  auto up = std::make_unique<Pipe>(), down = std::make_unique<Pipe>();
  up->from = down->to = client;
  up->to = down->from = upstream;
  up->remaining = up_limit;
  for (int idle = 0; idle < 100;) {
    if (up->shut && down->shut) return;
    short client_ev = static_cast<short>((up->len == 0 && !up->eof ? POLLIN : 0) | (down->len ? POLLOUT : 0));
    short upstream_ev = static_cast<short>((down->len == 0 && !down->eof ? POLLIN : 0) | (up->len ? POLLOUT : 0));
    pollfd p[3] = {{up->eof && up->len == 0 && down->shut ? -1 : client, client_ev, 0},
                   {down->eof && down->len == 0 && up->shut ? -1 : upstream, upstream_ev, 0},
                   {stop_fd, POLLIN, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[2].revents || (p[0].revents | p[1].revents) & POLLERR) return;
    bool progress = false;
    if (!pump(*up, p[0].revents, p[1].revents, progress) || !pump(*down, p[1].revents, p[0].revents, progress)) return;
    idle = progress ? 0 : idle + 1;  // a descriptor that keeps waking with nothing to do ends it
  }
}

void serve(UniqueFd client, EgressProxy::Shared& s) {
  const int stop_fd = s.stop.get();
  std::string head, rest;
  switch (read_head(client.get(), s.limits, stop_fd, head, rest)) {
    case Head::ok: break;
    case Head::closed:
    case Head::stopped: return;
    case Head::too_big:
      s.count(&EgressStats::bad_requests);
      return refuse(client.get(), 431, "request head larger than " + std::to_string(s.limits.max_head_bytes) + " bytes", stop_fd);
    case Head::too_slow:
      s.count(&EgressStats::bad_requests);
      return refuse(client.get(), 408, "request head not complete within " +
                                           std::to_string(s.limits.head_timeout.count()) + " ms", stop_fd);
  }
  ProxyRequest req = parse_proxy_request(head);
  if (req.status == 403) s.refused(req.host);
  if (req.status) {
    if (req.status != 403) s.count(&EgressStats::bad_requests);
    return refuse(client.get(), req.status, req.reason, stop_fd);
  }
  const std::string target = req.host + ":" + std::to_string(req.port);
  if (auto why = egress_refusal(s.approved, req.host, req.port)) {
    s.refused(target);
    return refuse(client.get(), 403, *why, stop_fd);
  }
  Upstream up = connect_upstream(req.host, req.port, s.limits, stop_fd);
  if (!up.fd) {
    if (up.status == 0) return;
    if (up.status == 403)
      s.refused(target);
    else
      s.count(&EgressStats::failed);
    return refuse(client.get(), up.status, up.why, stop_fd);
  }
  s.count(&EgressStats::allowed);
  std::string_view first = req.tunnel ? "HTTP/1.1 200 Connection established\r\n\r\n" : std::string_view{};
  if (!send_all(req.tunnel ? client.get() : up.fd.get(), req.tunnel ? first : req.upstream_head, stop_fd)) return;
  // A plain request is one request: its body and nothing after it (a pipelined request naming
  // another host) goes upstream. A tunnel carries what its client sends to the approved host:port.
  std::string_view body = rest;
  if (!req.tunnel) body = body.substr(0, static_cast<size_t>(std::min<int64_t>(req.body_bytes, body.size())));
  if (!send_all(up.fd.get(), body, stop_fd)) return;
  relay(client.get(), up.fd.get(), stop_fd, req.tunnel ? -1 : req.body_bytes - static_cast<int64_t>(body.size()));
}

struct Tunnel {
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> done;
};

void reap(std::list<Tunnel>& tunnels) {
  for (auto it = tunnels.begin(); it != tunnels.end();) {
    if (!it->done->load()) {
      ++it;
      continue;
    }
    it->thread.join();
    it = tunnels.erase(it);
  }
}

}  // namespace

HostAddresses host_addresses() {
  HostAddresses own;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return own;
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner(list, freeifaddrs);
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (i->ifa_addr->sa_family == AF_INET) own.v4.push_back(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr);
    if (i->ifa_addr->sa_family == AF_INET6) own.v6.push_back(reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr);
  }
  return own;
}

Result<std::unique_ptr<EgressProxy>> EgressProxy::start(const std::vector<std::string>& approved_hosts,
                                                        const EgressLimits& limits) {
  auto p = std::make_unique<EgressProxy>(Key{});
  p->shared_ = std::make_shared<Shared>();
  p->shared_->approved = approved_hosts;
  p->shared_->limits = limits;
  p->shared_->stop.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  int sv[2];
  if (!p->shared_->stop || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return fail(Reason::JAIL_SETUP_FAILED, std::string("egress proxy: ") + strerror(errno));
  p->parent_end_.reset(sv[0]);
  p->child_end_.reset(sv[1]);
  try {
    p->thread_ = std::thread([raw = p.get()] { raw->accept_loop(); });
  } catch (const std::system_error& e) {
    return fail(Reason::JAIL_SETUP_FAILED, std::string("egress proxy thread: ") + e.what());
  }
  return p;
}

void EgressProxy::accept_loop() {
  const SigpipeBlocked pipes;  // a jail's client that went away must not kill the supervisor
  Shared& s = *shared_;
  UniqueFd listener;
  std::list<Tunnel> tunnels;
  for (;;) {
    int watched = listener ? listener.get() : parent_end_.get();
    pollfd p[2] = {{s.stop.get(), POLLIN, 0}, {watched, POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    if (p[0].revents) break;
    if (!p[1].revents) continue;
    if (!listener) {  // the jail's init sends the port once; after that (or its EOF) only accept
      listener = receive_fd(parent_end_.get());
      parent_end_.reset();
      if (listener) fcntl(listener.get(), F_SETFL, O_NONBLOCK);
      continue;
    }
    UniqueFd client(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!client) {
      if (errno == EMFILE || errno == ENFILE) wait_for(-1, 0, s.stop.get(), Clock::now() + std::chrono::milliseconds(100));
      continue;
    }
    reap(tunnels);
    if (tunnels.size() >= s.limits.max_tunnels) {
      s.count(&EgressStats::busy);
      std::string r = error_response(503, "more than " + std::to_string(s.limits.max_tunnels) + " connections at once");
      send(client.get(), r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      continue;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    try {
      tunnels.push_back({std::thread([shared = shared_, done, fd = std::move(client)]() mutable {
                           try {
                             serve(std::move(fd), *shared);
                           } catch (...) {  // one connection's failure (memory) must not end the supervisor
                             shared->count(&EgressStats::failed);
                           }
                           done->store(true);
                         }),
                         done});
    } catch (const std::system_error&) {
      s.count(&EgressStats::busy);  // no thread: the client sees its connection closed
    }
  }
  for (auto& t : tunnels) t.thread.join();  // each one watches the stop eventfd
}

EgressStats EgressProxy::stop() {
  if (!stopped_) {
    stopped_ = true;
    uint64_t one = 1;
    if (write(shared_->stop.get(), &one, sizeof one) < 0) {
      // an eventfd write of 1 fails only on counter overflow, which one write cannot cause
    }
    if (thread_.joinable()) thread_.join();
  }
  std::lock_guard lock(shared_->mu);
  return shared_->stats;
}

EgressProxy::~EgressProxy() {
  if (shared_) stop();
}

}  // namespace clawjail::sandbox::detail
