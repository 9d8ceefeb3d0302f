// The approved-hosts egress proxy (docs/jail.md "Network"), through real jails: a server on the host's
// loopback is reachable from a jail only through the supervisor's proxy, only when approved, and
// a hostile client of the proxy stalls nothing.
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <filesystem>

#include "host_server.h"
#include "jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

JailSpec egress_spec(const HostServer& srv, JailSpec spec = base_spec()) {
  spec.network = true;
  spec.approved_hosts = {"localhost:" + srv.port_str()};
  return spec;
}

// A bash function that sends $1 (printf %b escapes) to the proxy and prints its whole answer.
const std::string kAsk =
    "ask() { exec 3<>/dev/tcp/127.0.0.1/3128 || return; printf '%b' \"$1\" >&3; timeout 20 cat <&3 | tr -d '\\r'; "
    "exec 3<&-; }\n";
// Same, printing only the status line.
const std::string kStatus =
    "status() { exec 3<>/dev/tcp/127.0.0.1/3128 || return; printf '%b' \"$1\" >&3; IFS= read -r -t 20 line <&3; "
    "echo \"${line%$'\\r'}\"; exec 3<&-; }\n";

std::string connect_req(const std::string& target, const std::string& tunneled = "") {
  return "CONNECT " + target + " HTTP/1.1\\r\\nHost: " + target + "\\r\\n\\r\\n" + tunneled;
}

// Whether something on the host accepts TCP on 127.0.0.1:port: what the proxy's connect will meet.
bool host_listens_on(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return fd && ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

int count_entries(const char* dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(Egress, ConnectTunnelReachesTheApprovedHost) {
  HostServer srv;
  std::string script = kAsk + "ask '" + connect_req("localhost:" + srv.port_str(), "GET /tunnel HTTP/1.0\\r\\n\\r\\n") + "'";
  Ran r = bash(egress_spec(srv), script);
  EXPECT_EQ(r.outcome.status, RunStatus::success) << r.err;
  EXPECT_NE(r.out.find("HTTP/1.1 200 Connection established"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("hello from the host: /tunnel"), std::string::npos) << r.out << r.err;
  ASSERT_TRUE(r.outcome.egress);
  EXPECT_EQ(r.outcome.egress->allowed, 1);
  EXPECT_EQ(r.outcome.egress->refused, 0);
  Json result = r.outcome.to_json();
  EXPECT_EQ(result["egress"]["allowed"], 1) << result.dump();
  EXPECT_EQ(result["egress"]["proxy"], "127.0.0.1:3128");
}

TEST(Egress, PlainHttpRequestGoesToTheUriHostWithItsHostHeader) {
  HostServer srv;
  std::string uri = "http://localhost:" + srv.port_str() + "/plain?q=1";
  std::string script = kAsk + "ask 'GET " + uri +
                       " HTTP/1.1\\r\\nHost: evil.example\\r\\nProxy-Connection: keep-alive\\r\\nUser-Agent: t\\r\\n\\r\\n'";
  Ran r = bash(egress_spec(srv), script);
  EXPECT_NE(r.out.find("hello from the host: /plain?q=1"), std::string::npos) << r.out << r.err;
  auto heads = srv.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].rfind("GET /plain?q=1 HTTP/1.1\r\n", 0), 0u) << heads[0];
  EXPECT_NE(heads[0].find("Host: localhost:" + srv.port_str() + "\r\n"), std::string::npos) << heads[0];
  EXPECT_NE(heads[0].find("Connection: close\r\n"), std::string::npos) << heads[0];
  EXPECT_NE(heads[0].find("User-Agent: t\r\n"), std::string::npos) << heads[0];
  EXPECT_EQ(heads[0].find("evil.example"), std::string::npos) << heads[0];
  EXPECT_EQ(heads[0].find("Proxy-Connection"), std::string::npos) << heads[0];
}

TEST(Egress, CurlUsesTheProxyFromTheEnvironment) {
  if (!std::filesystem::exists("/usr/bin/curl")) GTEST_SKIP() << "curl is not installed (scripts/install-deps.sh installs it)";
  HostServer srv;
  std::string url = "http://localhost:" + srv.port_str();
  // Plain http through http_proxy, then the same through a CONNECT tunnel (--proxytunnel).
  Ran r = sh(egress_spec(srv), "curl -sS " + url + "/curl && curl -sS --proxytunnel " + url + "/curl-tunnel");
  EXPECT_EQ(r.outcome.status, RunStatus::success) << r.err;
  EXPECT_EQ(r.out, "hello from the host: /curl\nhello from the host: /curl-tunnel\n") << r.err;
  ASSERT_TRUE(r.outcome.egress);
  EXPECT_EQ(r.outcome.egress->allowed, 2);
}

TEST(Egress, LargeTransfersBothWaysAndConcurrentTunnels) {
  if (!std::filesystem::exists("/usr/bin/curl")) GTEST_SKIP() << "curl is not installed (scripts/install-deps.sh installs it)";
  HostServer srv;
  std::string url = "http://localhost:" + srv.port_str();
  std::string script = "head -c 3000000 /dev/zero > /tmp/up\n"
                       "for i in 1 2 3 4 5 6; do curl -sS --proxytunnel " + url + "/big | wc -c > /tmp/big$i & done\n"
                       "curl -sS --proxytunnel -H 'Expect:' --data-binary @/tmp/up " + url + "/upload\n"
                       "wait; cat /tmp/big*";
  JailSpec spec = egress_spec(srv);
  spec.limits.tmpfs_mb = 16;
  Ran r = sh(spec, script);
  EXPECT_EQ(r.outcome.status, RunStatus::success) << r.err;
  EXPECT_EQ(r.out, "received 3000000\n" + std::string() + [] {
    std::string six;
    for (int i = 0; i < 6; ++i) six += "4194304\n";
    return six;
  }()) << r.err;
  ASSERT_TRUE(r.outcome.egress);
  EXPECT_EQ(r.outcome.egress->allowed, 7);
}

TEST(Egress, UnapprovedHostsPortsAndIpLiteralsAreRefusedAndCounted) {
  HostServer srv;
  HostServer other;  // a real listener on another port: refused by policy, not by chance
  std::string script = kAsk + kStatus + "ask '" + connect_req("example.com:443") + "'\n" +
                       "status '" + connect_req("localhost:" + other.port_str()) + "'\n" +
                       "status '" + connect_req("127.0.0.1:" + srv.port_str()) + "'\n" +
                       "status '" + connect_req("LOCALHOST:" + srv.port_str()) + "'\n" +
                       "status 'GET http://[::1]:" + srv.port_str() + "/ HTTP/1.1\\r\\n\\r\\n'\n";
  Ran r = bash(egress_spec(srv), script);
  EXPECT_NE(r.out.find("HTTP/1.1 403 Forbidden\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("clawjail egress proxy: example.com is not an approved host\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.find("approved host\n") + 14),
            "HTTP/1.1 403 Forbidden\nHTTP/1.1 403 Forbidden\nHTTP/1.1 200 Connection established\n"
            "HTTP/1.1 403 Forbidden\n")
      << r.out;
  ASSERT_TRUE(r.outcome.egress);
  EXPECT_EQ(r.outcome.egress->refused, 4);
  EXPECT_EQ(r.outcome.egress->allowed, 1);  // host names compare case-insensitively
  std::vector<std::string> expected = {"example.com:443", "localhost:" + other.port_str(), "127.0.0.1:" + srv.port_str(),
                                       "[::1]:" + srv.port_str()};
  EXPECT_EQ(r.outcome.egress->refused_targets, expected);
  EXPECT_TRUE(other.heads().empty());
  Json result = r.outcome.to_json();
  EXPECT_EQ(result["egress"]["refused"], 4);
  EXPECT_EQ(result["egress"]["refused_targets"][0], "example.com:443");
}

TEST(Egress, ABareHostAllowsOnly443And80) {
  HostServer srv;
  JailSpec spec = egress_spec(srv);
  spec.approved_hosts = {"localhost"};
  Ran r = bash(spec, kStatus + "status '" + connect_req("localhost:" + srv.port_str()) + "'");
  EXPECT_EQ(r.out, "HTTP/1.1 403 Forbidden\n") << r.out;
  // Port 80 is approved: the proxy tries it, so the answer is the host's, never 403.
  const bool listening = host_listens_on(80);
  Ran r80 = bash(spec, kStatus + "status '" + connect_req("localhost:80") + "'");
  EXPECT_EQ(r80.out, listening ? "HTTP/1.1 200 Connection established\n" : "HTTP/1.1 502 Bad Gateway\n");
  ASSERT_TRUE(r80.outcome.egress);
  EXPECT_EQ(r80.outcome.egress->refused, 0);
}

// A name other than "localhost" whose every address is this host's loopback (Debian maps the host
// name there), or "" when there is none.
std::string loopback_alias() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  for (std::string candidate : {std::string(name), std::string("ip6-localhost"), std::string("localhost.localdomain")}) {
    if (candidate.empty() || candidate == "localhost") continue;
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(candidate.c_str(), "80", &hints, &found) != 0) continue;
    bool all_loopback = true;
    for (addrinfo* ai = found; ai; ai = ai->ai_next) {  // told apart here, not by the code under test
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      all_loopback = all_loopback && (ai->ai_family == AF_INET ? (ntohl(v4->sin_addr.s_addr) >> 24) == 127
                                                               : IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));
    }
    freeaddrinfo(found);
    if (all_loopback) return candidate;
  }
  return "";
}

TEST(Egress, AnApprovedNameResolvingToTheHostItselfIsRefusedButLocalhostByNameIsNot) {
  HostServer srv;
  const std::string alias = loopback_alias();
  if (alias.empty()) GTEST_SKIP() << "no name but localhost resolves to this host's loopback here";
  JailSpec spec = egress_spec(srv);
  spec.approved_hosts = {alias + ":" + srv.port_str(), "localhost:" + srv.port_str()};
  const std::string via_alias = connect_req(alias + ":" + srv.port_str(), "GET /alias HTTP/1.0\\r\\n\\r\\n");
  const std::string via_localhost = connect_req("localhost:" + srv.port_str(), "GET /named HTTP/1.0\\r\\n\\r\\n");
  Ran r = bash(spec, kAsk + "ask '" + via_alias + "'\nask '" + via_localhost + "'");
  EXPECT_NE(r.out.find("HTTP/1.1 403 Forbidden"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(alias + " resolves only to addresses of this host or its link"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("hello from the host: /alias"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hello from the host: /named"), std::string::npos) << r.out;
  ASSERT_TRUE(r.outcome.egress);
  EXPECT_EQ(r.outcome.egress->refused, 1);
  EXPECT_EQ(r.outcome.egress->allowed, 1);
  ASSERT_EQ(r.outcome.egress->refused_targets.size(), 1u);
  EXPECT_EQ(r.outcome.egress->refused_targets[0], alias + ":" + srv.port_str());
}

TEST(Egress, DirectConnectBypassingTheProxyFails) {
  HostServer srv;
  JailSpec spec = egress_spec(srv, helper_spec());
  Ran loop = hostile(spec, {"connect", "127.0.0.1", srv.port_str()});
  EXPECT_TRUE(has_line(loop.out, "connect=ECONNREFUSED")) << loop.out;  // the jail's own loopback
  Ran out = hostile(spec, {"connect", "1.1.1.1", "443"});
  EXPECT_TRUE(has_line(out.out, "connect=ENETUNREACH")) << out.out;
  Ran ifaces = sh(spec, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  EXPECT_EQ(ifaces.out, "lo\n");
  EXPECT_TRUE(srv.heads().empty());
}

TEST(Egress, WithoutApprovedHostsThereIsNoProxyAndNoProxyEnvironment) {
  const std::string script = "env | grep -i _proxy; tail -n +2 /proc/net/tcp | wc -l";
  Ran none = sh(base_spec(), script);
  EXPECT_EQ(none.out, "0\n") << none.out;
  EXPECT_FALSE(none.outcome.egress);
  EXPECT_FALSE(none.outcome.to_json().contains("egress"));
  Json described = describe(base_spec());
  EXPECT_EQ(described["network"]["mode"], "none");
  EXPECT_FALSE(described["network"].contains("proxy"));

  HostServer srv;
  Ran with = sh(egress_spec(srv), "env | grep -i _proxy | sort; grep -c ' 0100007F:0C38 00000000:0000 0A ' /proc/net/tcp");
  EXPECT_EQ(with.out,
            "ALL_PROXY=http://127.0.0.1:3128\nHTTPS_PROXY=http://127.0.0.1:3128\nHTTP_PROXY=http://127.0.0.1:3128\n"
            "all_proxy=http://127.0.0.1:3128\nhttp_proxy=http://127.0.0.1:3128\nhttps_proxy=http://127.0.0.1:3128\n1\n")
      << with.out;
  Json net = describe(egress_spec(srv))["network"];
  EXPECT_EQ(net["mode"], "approved_hosts");
  EXPECT_EQ(net["route_out"], false);
  EXPECT_EQ(net["proxy"]["listen"], "127.0.0.1:3128");
  EXPECT_EQ(jail_hash_b64u(egress_spec(srv)), jail_hash_b64u(egress_spec(srv)));
}

TEST(Egress, TheJailCannotTakeTheProxysPort) {
  HostServer srv;
  // perl (perl-base, always on Debian) binds with SO_REUSEADDR on the loopback and on any address.
  const std::string bind_3128 =
      "perl -e 'use Socket; socket(S, PF_INET, SOCK_STREAM, 0) or die; setsockopt(S, SOL_SOCKET, SO_REUSEADDR, 1); "
      "bind(S, sockaddr_in(3128, inet_aton($ARGV[0]))) or die \"bind $ARGV[0]: $!\\n\"; print \"bound\\n\"' ";
  Ran r = bash(egress_spec(srv), "exec 3<>/dev/tcp/127.0.0.1/3128 && echo connected; " + bind_3128 + "127.0.0.1 2>&1; " +
                                     bind_3128 + "0.0.0.0 2>&1");
  EXPECT_EQ(r.out, "connected\nbind 127.0.0.1: Address already in use\nbind 0.0.0.0: Address already in use\n")
      << r.out << r.err;
}

TEST(Egress, NoThreadOrDescriptorOutlivesTheCall) {
  {
    HostServer warm;  // first use of the resolver and the thread machinery
    bash(egress_spec(warm), kAsk + "ask '" + connect_req("localhost:" + warm.port_str(), "GET / HTTP/1.0\\r\\n\\r\\n") + "'");
  }
  const int fds = count_entries("/proc/self/fd"), threads = count_entries("/proc/self/task");
  {
    HostServer srv;
    const std::string ok = kAsk + "ask '" + connect_req("localhost:" + srv.port_str(), "GET / HTTP/1.0\\r\\n\\r\\n") + "'";
    for (int i = 0; i < 10; ++i) {
      Ran r = bash(egress_spec(srv), ok);
      EXPECT_NE(r.out.find("hello from the host"), std::string::npos) << r.out;
    }
    // Tunnels still open when the call ends (one to a server that never answers, one idle
    // client of the proxy): the call ends at once and takes them along.
    Ran held = bash(egress_spec(srv), "exec 3<>/dev/tcp/127.0.0.1/3128; printf '" +
                                          connect_req("localhost:" + srv.port_str(), "GET /hold HTTP/1.0\\r\\n\\r\\n") +
                                          "' >&3; exec 4<>/dev/tcp/127.0.0.1/3128; sleep 0.5; exit 0");
    EXPECT_EQ(held.outcome.status, RunStatus::success);
    EXPECT_LT(held.outcome.duration_ms, 3000);
    ASSERT_TRUE(held.outcome.egress);
    EXPECT_EQ(held.outcome.egress->allowed, 1);
  }
  EXPECT_EQ(count_entries("/proc/self/fd"), fds);
  EXPECT_EQ(count_entries("/proc/self/task"), threads);
}

TEST(Egress, HostileClientsAreRefusedWithoutStallingAnything) {
  HostServer srv;
  const std::string good = connect_req("localhost:" + srv.port_str());
  std::string script = kStatus + R"SH(
echo "garbage: $(status 'hello there\r\n\r\n')"
echo "binary: $(status '\x01\x02\x7f\r\n\r\n')"
echo "origin-form: $(status 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')"
echo "smuggled: $(status 'GET http://localhost/ HTTP/1.1\r\nX: a\nGET http://evil/ HTTP/1.1\r\n\r\n')"
big=$(head -c 20000 /dev/zero | tr '\0' a)
echo "oversize: $(status "GET http://localhost/ HTTP/1.1\r\nX: $big")"
start=$(date +%s%N)
echo "endless: $(status 'GET http://localhost/ HTTP/1.1\r\nX: still coming\r\n')"
echo "endless_ms: $(( ($(date +%s%N) - start) / 1000000 ))"
fds=()
for i in $(seq 40); do exec {fd}<>/dev/tcp/127.0.0.1/3128; fds+=($fd); done
busy=0
for fd in "${fds[@]:24}"; do IFS= read -r -t 0.2 line <&$fd && [[ $line == *" 503 "* ]] && busy=$((busy + 1)); done
echo "busy: $busy"
for fd in "${fds[@]}"; do exec {fd}<&-; done
sleep 0.5
)SH" + "echo \"after: $(status '" + good + "')\"\n";
  JailSpec spec = egress_spec(srv);
  spec.limits.timeout_ms = 60000;
  Ran r = bash(spec, script);
  EXPECT_EQ(r.outcome.status, RunStatus::success) << r.err;
  EXPECT_NE(r.out.find("garbage: HTTP/1.1 400 Bad Request\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("binary: HTTP/1.1 400 Bad Request\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("origin-form: HTTP/1.1 400 Bad Request\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("smuggled: HTTP/1.1 400 Bad Request\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("oversize: HTTP/1.1 431 Request Header Fields Too Large\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("endless: HTTP/1.1 408 Request Timeout\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("after: HTTP/1.1 200 Connection established\n"), std::string::npos) << r.out;
  auto ms_at = r.out.find("endless_ms: ");
  ASSERT_NE(ms_at, std::string::npos) << r.out;
  int ms = std::stoi(r.out.substr(ms_at + 12));
  EXPECT_GE(ms, 4500);
  EXPECT_LT(ms, 8000);
  ASSERT_TRUE(r.outcome.egress);
  EXPECT_GE(r.outcome.egress->busy, 8);
  EXPECT_NE(r.out.find("busy: " + std::to_string(r.outcome.egress->busy) + "\n"), std::string::npos) << r.out;
  EXPECT_GE(r.outcome.egress->bad_requests, 6);  // 6, more if a held connection outlived the head timeout
  EXPECT_EQ(r.outcome.egress->allowed, 1);
  EXPECT_TRUE(srv.heads().size() <= 1u);  // nothing malformed reached the host
}

TEST(Egress, TheJailsTimeoutEndsOpenTunnels) {
  HostServer srv;
  JailSpec spec = egress_spec(srv);
  spec.limits.timeout_ms = 1500;
  Ran r = bash(spec, "exec 3<>/dev/tcp/127.0.0.1/3128; printf '" +
                         connect_req("localhost:" + srv.port_str(), "GET /hold HTTP/1.0\\r\\n\\r\\n") + "' >&3; cat <&3");
  EXPECT_EQ(r.outcome.status, RunStatus::timeout);
  EXPECT_LT(r.outcome.duration_ms, 4000);
  ASSERT_TRUE(r.outcome.egress);
  EXPECT_EQ(r.outcome.egress->allowed, 1);
}

}  // namespace
}  // namespace clawjail::sandbox::testing
