// The egress proxy's request parser and approved-hosts rule, without a jail (egress_policy.cc).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "sandbox/egress.h"

namespace clawjail::sandbox::detail {
namespace {

TEST(EgressPolicy, ConnectNeedsHostAndPort) {
  auto r = parse_proxy_request("CONNECT Api.GitHub.com:443 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.status, 0) << r.reason;
  EXPECT_TRUE(r.tunnel);
  EXPECT_EQ(r.host, "api.github.com");
  EXPECT_EQ(r.port, 443);
  EXPECT_EQ(parse_proxy_request("CONNECT api.github.com HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(parse_proxy_request("CONNECT api.github.com:0 HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(parse_proxy_request("CONNECT api.github.com:65536 HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(parse_proxy_request("CONNECT a_b.com:443 HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(parse_proxy_request("CONNECT [::1]:443 HTTP/1.1\r\n\r\n").status, 403);
}

TEST(EgressPolicy, PlainRequestIsRewrittenToOriginForm) {
  auto r = parse_proxy_request(
      "POST http://Example.com/a/b?c HTTP/1.1\r\nHost: other\r\nProxy-Authorization: x\r\nContent-Length: 3\r\n\r\n");
  ASSERT_EQ(r.status, 0) << r.reason;
  EXPECT_FALSE(r.tunnel);
  EXPECT_EQ(r.host, "example.com");
  EXPECT_EQ(r.port, 80);
  EXPECT_EQ(r.upstream_head, "POST /a/b?c HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");
  auto q = parse_proxy_request("GET http://example.com:8080?x HTTP/1.0\r\n\r\n");
  ASSERT_EQ(q.status, 0) << q.reason;
  EXPECT_EQ(q.port, 8080);
  EXPECT_EQ(q.upstream_head, "GET /?x HTTP/1.0\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n");
}

TEST(EgressPolicy, AnythingNotPlainlyHttp1IsABadRequest) {
  for (const char* head : {"GET / HTTP/1.1\r\n\r\n", "GET https://example.com/ HTTP/1.1\r\n\r\n",
                           "GET http://user@example.com/ HTTP/1.1\r\n\r\n", "GET http://example.com/ HTTP/2\r\n\r\n",
                           "GET  http://example.com/ HTTP/1.1\r\n\r\n", "GET http://example.com/ HTTP/1.1\r\n",
                           "GET http://example.com/ HTTP/1.1\r\n folded\r\n\r\n",
                           "GET http://example.com/ HTTP/1.1\r\nX: a\nY: b\r\n\r\n",
                           "GET http://example.com/ HTTP/1.1\r\nNoColon\r\n\r\n", "\r\n\r\n", "G(T x HTTP/1.1\r\n\r\n"})
    EXPECT_EQ(parse_proxy_request(head).status, 400) << head;
}

TEST(EgressPolicy, HostsMatchExactlyAndABareHostMeans443And80) {
  const std::vector<std::string> approved = {"api.github.com", "localhost:8080", "10.0.0.1:443"};
  EXPECT_FALSE(egress_refusal(approved, "api.github.com", 443));
  EXPECT_FALSE(egress_refusal(approved, "api.github.com", 80));
  EXPECT_EQ(egress_refusal(approved, "api.github.com", 22), "port 22 is not approved for api.github.com");
  EXPECT_EQ(egress_refusal(approved, "github.com", 443), "github.com is not an approved host");
  EXPECT_EQ(egress_refusal(approved, "x.api.github.com", 443), "x.api.github.com is not an approved host");
  EXPECT_FALSE(egress_refusal(approved, "localhost", 8080));
  EXPECT_TRUE(egress_refusal(approved, "localhost", 443));
  EXPECT_TRUE(egress_refusal(approved, "127.0.0.1", 8080));  // the name is approved, not its address
  EXPECT_FALSE(egress_refusal(approved, "10.0.0.1", 443));  // a literal the WPC names itself
  EXPECT_TRUE(egress_refusal({}, "localhost", 80));
}

sockaddr_storage address(const char* text) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, &v6->sin6_addr), 1) << text;
    v6->sin6_family = AF_INET6;
  }
  return ss;
}

TEST(EgressPolicy, AddressesOfTheHostAndItsLinkAreHostLocal) {
  for (const char* a : {"127.0.0.1", "127.8.9.10", "0.0.0.0", "169.254.169.254", "224.0.0.251", "255.255.255.255", "::1",
                        "::", "fe80::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254"}) {
    auto ss = address(a);
    EXPECT_TRUE(host_local_address(reinterpret_cast<sockaddr*>(&ss), {})) << a;
  }
  for (const char* a : {"93.184.216.34", "10.1.2.3", "192.168.1.1", "172.16.0.1", "126.255.255.255", "128.0.0.1",
                        "169.253.0.1", "2606:2800:220:1::", "fd00::1", "::ffff:93.184.216.34"}) {
    auto ss = address(a);
    EXPECT_FALSE(host_local_address(reinterpret_cast<sockaddr*>(&ss), {})) << a;
  }
}

TEST(EgressPolicy, EveryAddressOfTheHostsInterfacesIsHostLocal) {
  auto v4 = address("10.1.2.3"), v6 = address("fd00::1"), other = address("10.1.2.4");
  HostAddresses own;
  own.v4.push_back(reinterpret_cast<sockaddr_in*>(&v4)->sin_addr);
  own.v6.push_back(reinterpret_cast<sockaddr_in6*>(&v6)->sin6_addr);
  for (const char* a : {"10.1.2.3", "::ffff:10.1.2.3", "fd00::1"}) {
    auto ss = address(a);
    EXPECT_TRUE(host_local_address(reinterpret_cast<sockaddr*>(&ss), own)) << a;
  }
  EXPECT_FALSE(host_local_address(reinterpret_cast<sockaddr*>(&other), own));
  // What host_addresses() reads includes loopback's own address: the list is the live one.
  const HostAddresses live = host_addresses();
  EXPECT_TRUE(std::any_of(live.v4.begin(), live.v4.end(), [](in_addr a) { return ntohl(a.s_addr) == INADDR_LOOPBACK; }));
}

TEST(EgressPolicy, APlainRequestCarriesItsBodyLengthAndNothingChunked) {
  auto r = parse_proxy_request("POST http://a.example/x HTTP/1.1\r\nContent-Length: 12\r\n\r\n");
  EXPECT_EQ(r.status, 0) << r.reason;
  EXPECT_EQ(r.body_bytes, 12);
  EXPECT_EQ(parse_proxy_request("GET http://a.example/ HTTP/1.1\r\n\r\n").body_bytes, 0);
  EXPECT_EQ(parse_proxy_request("POST http://a.example/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").status, 501);
  EXPECT_EQ(parse_proxy_request("POST http://a.example/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").status, 400);
  EXPECT_EQ(parse_proxy_request("POST http://a.example/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n").status, 400);
  auto v6 = parse_proxy_request("CONNECT [\xff\xfe]:443 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(v6.status, 403);
  EXPECT_EQ(v6.host, "[?]") << "a refused target kept for the receipt holds only address characters";
  EXPECT_TRUE(may_reach_host_local("localhost"));
  EXPECT_FALSE(may_reach_host_local("metadata.google.internal"));
}

}  // namespace
}  // namespace clawjail::sandbox::detail
