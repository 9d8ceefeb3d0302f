// A call whose WPC approves hosts: through the real supervisor, the jail reaches an approved host
// only through the egress proxy, and the `finished` receipt counts what the proxy allowed and refused.
#include <ifaddrs.h>

#include <thread>

#include "../sandbox/host_server.h"
#include "fixture.h"

namespace clawjail::test {
namespace {

using sandbox::testing::HostServer;

class EgressCall : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
  // A WPC like the main one, with http:approved_hosts and the given hosts.
  Json network_wpc(const std::vector<std::string>& hosts) {
    demo::WpcOptions options;
    options.policy_id = "net";
    Json payload = demo::wpc_payload(world, options);
    payload["tools"]["allow"].push_back("http:approved_hosts");
    payload["sandbox"]["network"] = {{"approved_hosts", hosts}};
    return payload;
  }
  std::string install_network_wpc(const std::vector<std::string>& hosts) {
    auto hash = demo::install_wpc(world, network_wpc(hosts));
    EXPECT_TRUE(hash.ok()) << (hash.ok() ? "" : hash.error().detail);
    return hash.ok() ? *hash : "";
  }
};

TEST_F(EgressCall, ApprovedHostIsReachedAndTheReceiptCountsAllowedAndRefused) {
  HostServer srv;
  std::string hash = install_network_wpc({"localhost:" + srv.port_str()});
  auto cst = token_file("net", {.job = "job-net", .policy_hash_b64u = hash});
  const std::string ok = "CONNECT localhost:" + srv.port_str() + " HTTP/1.1\\r\\n\\r\\nGET /via-supervisor HTTP/1.0\\r\\n\\r\\n";
  const std::string script =
      "ask() { exec 3<>/dev/tcp/127.0.0.1/3128; printf '%b' \"$1\" >&3; timeout 20 cat <&3 | tr -d '\\r'; exec 3<&-; }\n"
      "ask '" + ok + "'\nask 'CONNECT example.com:443 HTTP/1.1\\r\\n\\r\\n'\necho \"$HTTPS_PROXY\"";
  auto c = clawjail(run_args("job-net", cst, {"--", "/bin/bash", "-c", script}));
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("hello from the host: /via-supervisor\n"), std::string::npos) << c.out << c.err;
  EXPECT_NE(c.out.find("HTTP/1.1 403 Forbidden\n"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("http://127.0.0.1:3128\n"), std::string::npos) << c.out;
  auto r = receipts("job-net");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["scopes"], Json::array({"exec", "http:approved_hosts"})) << r[0].dump();
  const Json& egress = r[1]["result"]["egress"];
  EXPECT_EQ(egress["allowed"], 1) << r[1].dump();
  EXPECT_EQ(egress["refused"], 1);
  EXPECT_EQ(egress["refused_targets"], Json::array({"example.com:443"}));
  auto shown = clawjail({"receipts", "show", "--job", "job-net", "--config", world.config_path.string()});
  EXPECT_NE(shown.out.find("success exit=0"), std::string::npos) << shown.out << shown.err;
  EXPECT_NE(shown.out.find(" egress=1 allowed/1 refused"), std::string::npos) << shown.out;
}

TEST_F(EgressCall, WithoutApprovedHostsTheReceiptHasNoEgressAndTheJailNoRoute) {
  HostServer srv;
  auto cst = job_token("job-nonet");
  auto c = clawjail(run_args("job-nonet", cst, {"--", "/bin/bash", "-c",
                                                "env | grep -ci _proxy; exec 3<>/dev/tcp/127.0.0.1/" + srv.port_str() +
                                                    " && echo reached"}));
  EXPECT_EQ(c.out, "0\n") << c.out << c.err;
  auto r = receipts("job-nonet");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(r[1]["result"].contains("egress")) << r[1].dump();
  EXPECT_TRUE(srv.heads().empty());
}

// Entries of a /proc directory; for fd/, not those kept for the next jails (their number follows
// how many jails overlapped, which a loaded machine changes).
int count_entries(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += !kept_for_next_jails(e.path());
  return n;
}

TEST_F(EgressCall, TheSupervisorKeepsNoProxyThreadOrDescriptorAfterCalls) {
  HostServer srv;
  std::string hash = install_network_wpc({"localhost:" + srv.port_str()});
  auto cst = token_file("net", {.job = "job-net-leak", .policy_hash_b64u = hash});
  // Each call leaves a tunnel open (a server that never answers) and an idle client of the proxy.
  const std::string script = "exec 3<>/dev/tcp/127.0.0.1/3128; printf 'CONNECT localhost:" + srv.port_str() +
                             " HTTP/1.1\\r\\n\\r\\nGET /hold HTTP/1.0\\r\\n\\r\\n' >&3; "
                             "exec 4<>/dev/tcp/127.0.0.1/3128; sleep 0.2";
  auto call = [&] { return clawjail(run_args("job-net-leak", cst, {"--", "/bin/bash", "-c", script})).exit_code; };
  // The proxy is gone before the receipt is written; the supervisor's thread that answered the
  // client may still be closing its connection for a moment after the client has its answer.
  const fs::path proc = "/proc/" + std::to_string(supervisor);
  auto quiet = [&] {
    std::pair<int, int> last{-1, -1};
    for (int same = 0, i = 0; same < 5 && i < 200; ++i) {
      std::pair<int, int> now{count_entries(proc / "fd"), count_entries(proc / "task")};
      same = now == last ? same + 1 : 0;
      last = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
  };
  ASSERT_EQ(call(), 0);
  const auto before = quiet();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(call(), 0);
  const auto after = quiet();
  EXPECT_EQ(after.first, before.first) << "descriptors";
  EXPECT_EQ(after.second, before.second) << "threads";
  auto r = receipts("job-net-leak");
  ASSERT_EQ(r.size(), 12u);
  EXPECT_EQ(r.back()["result"]["egress"]["allowed"], 1) << r.back().dump();
}

// An IPv4 address of one of this host's own interfaces other than loopback, or "".
std::string own_non_loopback_address() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    auto addr = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
    if ((ntohl(addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    found = inet_ntop(AF_INET, &addr, text, sizeof text);
  }
  freeifaddrs(list);
  return found;
}

// The proxy connects from the host: an approved name that resolves to one of the host's own
// addresses (here the address itself, approved as a literal) must not reach a host service
// listening on all addresses.
TEST_F(EgressCall, AnAddressOfTheHostsOwnInterfacesIsRefused) {
  const std::string own = own_non_loopback_address();
  ASSERT_FALSE(own.empty()) << "this test needs a non-loopback IPv4 address on the host";
  HostServer srv(INADDR_ANY);
  const std::string target = own + ":" + srv.port_str();
  std::string hash = install_network_wpc({target});
  auto cst = token_file("net", {.job = "job-own", .policy_hash_b64u = hash});
  const std::string script =
      "ask() { exec 3<>/dev/tcp/127.0.0.1/3128; printf '%b' \"$1\" >&3; timeout 20 cat <&3 | tr -d '\\r'; exec 3<&-; }\n"
      "ask 'CONNECT " + target + " HTTP/1.1\\r\\n\\r\\nGET /via-connect HTTP/1.0\\r\\n\\r\\n'\n"
      "ask 'GET http://" + target + "/via-get HTTP/1.1\\r\\nHost: " + target + "\\r\\n\\r\\n'\n";
  auto c = clawjail(run_args("job-own", cst, {"--", "/bin/bash", "-c", script}));
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out.find("hello from the host"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("HTTP/1.1 403 Forbidden\n"), std::string::npos) << c.out;
  EXPECT_TRUE(srv.heads().empty()) << srv.heads().front();
  auto r = receipts("job-own");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["result"]["egress"]["refused"], 2) << r[1].dump();
  EXPECT_EQ(r[1]["result"]["egress"]["allowed"], 0);
}

// One plain request per connection: a second request sent behind the first (pipelined), naming
// another virtual host, never reaches the server, even one that keeps the connection alive.
TEST_F(EgressCall, APipelinedSecondRequestIsNotForwarded) {
  HostServer srv;
  const std::string target = "localhost:" + srv.port_str();
  std::string hash = install_network_wpc({target});
  auto cst = token_file("net", {.job = "job-pipe", .policy_hash_b64u = hash});
  const std::string two = "GET http://" + target + "/linger HTTP/1.1\\r\\nHost: " + target +
                          "\\r\\n\\r\\nGET /second HTTP/1.1\\r\\nHost: internal.example\\r\\n\\r\\n";
  const std::string script = "exec 3<>/dev/tcp/127.0.0.1/3128; printf '" + two +
                             "' >&3; timeout 5 cat <&3 | tr -d '\\r'; exit 0";
  auto c = clawjail(run_args("job-pipe", cst, {"--", "/bin/bash", "-c", script}));
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("hello from the host: /linger\n"), std::string::npos) << c.out;
  auto heads = srv.heads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].find("internal.example"), std::string::npos) << heads[0];
  EXPECT_EQ(heads[0].find("/second"), std::string::npos) << heads[0];
}

TEST_F(EgressCall, ExplainShowsTheProxyAndTheApprovedHosts) {
  auto path = root / "net.wpc.json";
  ASSERT_TRUE(demo::write_file(path, network_wpc({"api.github.com", "localhost:8080"}).dump()).ok());
  auto text = clawjail({"explain", "--wpc", path.string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("network: approved_hosts (loopback only, no route out)\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("egress proxy: owned by the supervisor, at 127.0.0.1:3128 in the jail (HTTP_PROXY/HTTPS_PROXY "
                          "set); connects only to api.github.com, localhost:8080 (a bare host: ports 443 and 80)"),
            std::string::npos)
      << text.out;
  auto json = clawjail({"explain", "--wpc", path.string(), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Json net = Json::parse(json.out)["jail"]["network"];
  EXPECT_EQ(net["route_out"], false);
  EXPECT_EQ(net["interfaces"], Json::array({"lo"}));
  EXPECT_EQ(net["proxy"]["owner"], "supervisor");
  EXPECT_EQ(net["approved_hosts"], Json::array({"api.github.com", "localhost:8080"}));
}

}  // namespace
}  // namespace clawjail::test
