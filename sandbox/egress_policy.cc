// The egress proxy's decisions, with no I/O: what a client asked for (an HTTP/1.x proxy request
// head) and whether the WPC's approved hosts allow it. The proxy answers anything it cannot read
// exactly with an error instead of guessing: a lenient parser is how requests get smuggled.
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "sandbox/egress.h"

namespace clawjail::sandbox::detail {
namespace {

ProxyRequest answer(int status, std::string reason) {
  ProxyRequest r;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_token(std::string_view s) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || kExtra.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool is_host_char(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; }

std::optional<int> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), ::isdigit)) return std::nullopt;
  int n = std::stoi(std::string(s));
  if (n < 1 || n > 65535) return std::nullopt;
  return n;
}

// host[:port] of a request; `default_port` 0 means the port is required (CONNECT).
ProxyRequest parse_authority(std::string_view authority, int default_port) {
  if (authority.starts_with('[')) {
    ProxyRequest r = answer(403, "IPv6 literals are never approved: name an approved host");
    // Kept for the receipt's refused_targets: only characters an address and port could hold.
    std::string_view literal = authority.substr(0, 64);
    const bool plain = std::all_of(literal.begin(), literal.end(),
                                   [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.' || c == '[' || c == ']'; });
    r.host = plain ? lower(literal) : "[?]";
    return r;
  }
  auto colon = authority.rfind(':');
  std::string_view host = authority.substr(0, colon);
  ProxyRequest r;
  if (colon == std::string_view::npos) {
    if (default_port == 0) return answer(400, "CONNECT needs host:port");
    r.port = default_port;
  } else {
    auto port = parse_port(authority.substr(colon + 1));
    if (!port) return answer(400, "bad port in " + std::string(authority));
    r.port = *port;
  }
  if (host.empty() || host.size() > 253 || !std::all_of(host.begin(), host.end(), is_host_char))
    return answer(400, "bad host name");
  r.host = lower(host);
  return r;
}

// No control characters but tab inside a line: a bare CR or LF is how a second request or a
// forged header would ride along.
bool clean(std::string_view line) {
  return std::none_of(line.begin(), line.end(), [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; });
}

struct Header {
  std::string_view name, value;
};

// Splits the head into its request line and headers; false on anything not plainly HTTP/1.x.
bool split_head(std::string_view head, std::string_view& line, std::vector<Header>& headers) {
  if (!head.ends_with("\r\n\r\n")) return false;
  head.remove_suffix(2);
  auto eol = head.find("\r\n");
  line = head.substr(0, eol);
  head.remove_prefix(eol + 2);
  if (!clean(line)) return false;
  while (!head.empty()) {
    eol = head.find("\r\n");
    std::string_view h = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (!clean(h)) return false;
    auto colon = h.find(':');
    if (colon == std::string_view::npos || !is_token(h.substr(0, colon))) return false;  // also obs-fold
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    headers.push_back({h.substr(0, colon), value});
  }
  return true;
}

// Hop-by-hop and proxy headers stay here; Host is rewritten from the URI so that the approved
// host is also the one the server is asked for.
bool forwarded(std::string_view name) {
  std::string n = lower(name);
  for (const char* drop : {"host", "connection", "proxy-connection", "proxy-authorization", "keep-alive", "upgrade", "te"})
    if (n == drop) return false;
  return true;
}

// The request body's length: one Content-Length of digits, or none (0). A chunked body has no
// length the proxy could stop at without decoding it, so it is refused rather than relayed.
ProxyRequest body_length(const std::vector<Header>& headers) {
  ProxyRequest r;
  bool seen = false;
  for (const auto& h : headers) {
    std::string name = lower(h.name);
    if (name == "transfer-encoding")
      return answer(501, "request bodies with Transfer-Encoding are not relayed: send Content-Length");
    if (name != "content-length") continue;
    if (seen || h.value.empty() || h.value.size() > 15 || !std::all_of(h.value.begin(), h.value.end(), ::isdigit))
      return answer(400, "bad Content-Length");
    seen = true;
    r.body_bytes = std::stoll(std::string(h.value));
  }
  return r;
}

ProxyRequest parse_plain(std::string_view method, std::string_view target, std::string_view version,
                         const std::vector<Header>& headers) {
  if (lower(target.substr(0, 8)) == "https://")
    return answer(400, "an https:// URI goes through CONNECT, not a plain request");
  if (lower(target.substr(0, 7)) != "http://")
    return answer(400, "not a proxy request: use CONNECT host:port or an absolute http:// URI");
  target.remove_prefix(7);
  auto slash = target.find_first_of("/?");
  std::string_view authority = target.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "/" : std::string(target.substr(slash));
  if (path.front() == '?') path.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return answer(400, "user information in the URI is not supported");
  ProxyRequest body = body_length(headers);
  if (body.status) return body;
  ProxyRequest r = parse_authority(authority, 80);
  if (r.status) return r;
  r.body_bytes = body.body_bytes;
  std::string up = std::string(method) + " " + path + " " + std::string(version) + "\r\n";
  up += "Host: " + r.host + (r.port == 80 ? "" : ":" + std::to_string(r.port)) + "\r\n";
  for (const auto& h : headers)
    if (forwarded(h.name)) up += std::string(h.name) + ": " + std::string(h.value) + "\r\n";
  up += "Connection: close\r\n\r\n";
  r.upstream_head = std::move(up);
  return r;
}

}  // namespace

ProxyRequest parse_proxy_request(std::string_view head) {
  std::string_view line;
  std::vector<Header> headers;
  if (!split_head(head, line, headers)) return answer(400, "malformed request head");
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return answer(400, "malformed request line");
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = line.substr(sp2 + 1);
  if (!is_token(method) || target.empty() || (version != "HTTP/1.1" && version != "HTTP/1.0"))
    return answer(400, "malformed request line");
  if (method == "CONNECT") {
    ProxyRequest r = parse_authority(target, 0);
    r.tunnel = r.status == 0;
    return r;
  }
  return parse_plain(method, target, version, headers);
}

std::optional<std::string> egress_refusal(const std::vector<std::string>& approved, const std::string& host, int port) {
  bool host_known = false;
  for (const auto& entry : approved) {
    auto colon = entry.find(':');
    if (lower(entry.substr(0, colon)) != host) continue;
    host_known = true;
    if (colon == std::string::npos ? (port == 443 || port == 80) : parse_port(entry.substr(colon + 1)) == port)
      return std::nullopt;
  }
  if (host_known) return "port " + std::to_string(port) + " is not approved for " + host;
  return host + " is not an approved host";
}

namespace {

bool host_local_v4(in_addr addr, const HostAddresses& own) {
  const uint32_t a = ntohl(addr.s_addr);
  const auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  if (in(0x00000000, 8) || in(0x7f000000, 8) || in(0xa9fe0000, 16) || in(0xe0000000, 4) || a == 0xffffffff) return true;
  return std::any_of(own.v4.begin(), own.v4.end(), [&](in_addr o) { return o.s_addr == addr.s_addr; });
}

}  // namespace

bool host_local_address(const sockaddr* addr, const HostAddresses& own) {
  if (addr->sa_family == AF_INET) return host_local_v4(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, own);
  if (addr->sa_family != AF_INET6) return true;  // nothing else is a way out
  const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&a) || IN6_IS_ADDR_V4COMPAT(&a)) {
    in_addr v4;
    std::memcpy(&v4, a.s6_addr + 12, sizeof v4);
    return host_local_v4(v4, own);
  }
  if (IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_LOOPBACK(&a) || IN6_IS_ADDR_LINKLOCAL(&a) || IN6_IS_ADDR_MULTICAST(&a))
    return true;
  return std::any_of(own.v6.begin(), own.v6.end(), [&](const in6_addr& o) { return IN6_ARE_ADDR_EQUAL(&o, &a); });
}

bool may_reach_host_local(const std::string& host) { return host == "localhost"; }

void add_proxy_env(std::map<std::string, std::string>& env) {
  const std::string url = std::string("http://") + kEgressAddress;
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"})
    env[name] = url;
}

Json describe_egress(const JailSpec& spec) {
  Json net = {{"mode", spec.network ? "approved_hosts" : "none"},
              {"interfaces", Json::array({"lo"})},
              {"route_out", false},
              {"approved_hosts", spec.approved_hosts}};
  if (!spec.network) return net;
  net["proxy"] = {
      {"owner", "supervisor"},
      {"listen", kEgressAddress},
      {"reached_by", "a listening socket on the jail's own loopback, accepted by the supervisor"},
      {"requests", Json::array({"CONNECT host:port", "absolute-URI http://"})},
      {"match", "host exactly, case-insensitive; \"host\" allows ports 443 and 80, \"host:port\" that port"},
      {"resolves", "on the host, after the check"},
      {"skips", "resolved addresses of the host itself or its link (loopback, every address of its own "
                "interfaces, link-local, multicast), unless the approved host is localhost"},
      {"per_connection", "one plain-HTTP request (then Connection: close; bytes after its body are not "
                         "forwarded), or one CONNECT tunnel"},
      {"env", Json::array({"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"})},
      {"limits", {{"max_head_bytes", EgressLimits{}.max_head_bytes},
                  {"head_timeout_ms", EgressLimits{}.head_timeout.count()},
                  {"connect_timeout_ms", EgressLimits{}.connect_timeout.count()},
                  {"max_tunnels", EgressLimits{}.max_tunnels}}}};
  return net;
}

}  // namespace clawjail::sandbox::detail

namespace clawjail::sandbox {

bool approves_host_loopback(const std::vector<std::string>& approved_hosts) {
  return std::any_of(approved_hosts.begin(), approved_hosts.end(), [](const std::string& entry) {
    return detail::may_reach_host_local(detail::lower(entry.substr(0, entry.find(':'))));
  });
}

}  // namespace clawjail::sandbox
