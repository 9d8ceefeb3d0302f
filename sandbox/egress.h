// Private: the approved-hosts egress proxy (docs/jail.md "Network").
//
// A jail with approved hosts still has only `lo` and no route out. Its one way out is a proxy the
// supervisor owns:
//   - egress_port.cc (child side): the jail's init, already in the jail's network namespace,
//     opens a listening TCP socket on 127.0.0.1:3128 there and hands it to the supervisor over
//     a socketpair (SCM_RIGHTS), as it hands over the seccomp listener. No process of the jail
//     ever holds it: the port is taken, so nothing in the jail can listen in the proxy's place.
//   - egress_proxy.cc (supervisor side): a thread per jail accepts on that socket. A connection
//     accepted there comes from inside the jail; the supervisor reads its HTTP request, checks
//     the target against the approved hosts, resolves and connects from the host's network, and
//     relays. Every thread and descriptor ends with the jail.
//   - egress_policy.cc: the request parser and the approved-hosts rule, pure and testable.
// HTTP_PROXY is a convenience for the jail's programs, not the enforcement: a direct connect()
// from the jail reaches nothing but its own loopback.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

inline constexpr uint16_t kEgressPort = 3128;  // on the jail's own 127.0.0.1
inline constexpr const char* kEgressAddress = "127.0.0.1:3128";

// ---- egress_policy.cc ----
// What a client of the proxy asked for, or why it is answered without connecting anywhere.
struct ProxyRequest {
  int status = 0;           // 0: a well-formed request; otherwise the HTTP status to answer
  std::string reason;       // with status: the one sentence the client reads
  bool tunnel = false;      // CONNECT host:port; otherwise a plain-HTTP absolute-URI request
  std::string host;         // lower case
  int port = 0;
  std::string upstream_head;  // plain HTTP: the head to send upstream (origin-form, Connection: close)
  // Plain HTTP: the body's length (Content-Length, 0 without). Only these bytes follow the head
  // upstream; whatever the client sends after them (a pipelined request) is never forwarded.
  int64_t body_bytes = 0;
};
// `head` is everything up to and including the blank line that ends the request head.
ProxyRequest parse_proxy_request(std::string_view head);
// nullopt when host:port is approved; otherwise why not. "host" approves ports 443 and 80,
// "host:port" exactly that port; hosts compare exactly (lower case), IP literals included.
std::optional<std::string> egress_refusal(const std::vector<std::string>& approved, const std::string& host, int port);
// The proxy connects from the host, so an approved name whose DNS answer points at the host
// itself or its link would reach what no jail may: the host's services (on loopback or on any
// address of its own interfaces), the cloud metadata service at 169.254.169.254. Such addresses
// (loopback, link-local, unspecified, multicast, broadcast, every address assigned to one of
// the host's interfaces; IPv4-mapped forms too) are skipped unless the approved name is
// "localhost", which says so in the WPC, where the audit shows it.
struct HostAddresses {
  std::vector<in_addr> v4;
  std::vector<in6_addr> v6;
};
HostAddresses host_addresses();  // every interface's addresses, read now (getifaddrs; egress_proxy.cc)
bool host_local_address(const sockaddr* addr, const HostAddresses& own);
bool may_reach_host_local(const std::string& host);
// HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and their lower-case forms, pointing at the proxy.
void add_proxy_env(std::map<std::string, std::string>& env);
Json describe_egress(const JailSpec& spec);  // the `network` part of describe()

// ---- egress_port.cc (child side: raw syscalls only) ----
// Opens 127.0.0.1:kEgressPort in the jail's network namespace and sends it on `handover_fd`
// (then closes both). A no-op when handover_fd is -1.
StepResult open_egress_port(int handover_fd);

// ---- egress_proxy.cc (supervisor side) ----
struct EgressLimits {
  size_t max_head_bytes = 8192;                        // request line and headers
  std::chrono::milliseconds head_timeout{5000};        // a request head that trickles in is cut (408)
  std::chrono::milliseconds connect_timeout{10000};    // per resolved address
  size_t max_tunnels = 32;                             // concurrent connections per jail; more get 503
  size_t max_refused_targets = 16;                     // distinct host:port kept for the receipt
};

class EgressProxy {
  struct Key {
    explicit Key() = default;
  };

 public:
  explicit EgressProxy(Key) {}  // only start() holds a Key
  static Result<std::unique_ptr<EgressProxy>> start(const std::vector<std::string>& approved_hosts,
                                                    const EgressLimits& limits = {});
  ~EgressProxy();  // stop()
  EgressProxy(const EgressProxy&) = delete;
  EgressProxy& operator=(const EgressProxy&) = delete;
  int child_end() const { return child_end_.get(); }  // where the jail's init sends the port
  void close_child_end() { child_end_.reset(); }       // the parent's copy, after the clone
  // Ends every tunnel, joins every thread, closes every descriptor; then the counts are final.
  EgressStats stop();

  // Used by the proxy's own threads.
  struct Shared;

 private:
  void accept_loop();
  std::shared_ptr<Shared> shared_;
  UniqueFd child_end_, parent_end_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace clawjail::sandbox::detail
