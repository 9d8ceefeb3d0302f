// decide() and the scope table of docs/formats.md §2: deny wins, default deny, and a CST narrows but
// never widens what the WPC allows.
#include <gtest/gtest.h>

#include "policy/cst.h"
#include "policy/decision.h"
#include "policy/wpc.h"
#include "tests/policy/wpc_fixtures.h"

namespace clawjail::policy {
namespace {

using Scopes = std::vector<std::string>;

Call call(std::string tool) {
  Call c;
  c.tool = std::move(tool);
  return c;
}

Policy policy(Scopes allow, Scopes deny = {}) {
  Policy p;
  p.allow = std::move(allow);
  p.deny = std::move(deny);
  p.require_cst = false;
  return p;
}

TEST(Scopes, NeededScopesFollowTheTable) {
  EXPECT_EQ(needed_scopes(call("exec")), Scopes{"exec"});
  Call bg = call("exec");
  bg.background = true;
  EXPECT_EQ(needed_scopes(bg), (Scopes{"exec", "process"}));
  EXPECT_EQ(needed_scopes(call("process")), (Scopes{"exec", "process"}));
  for (auto tool : {"read", "ls", "stat"}) EXPECT_EQ(needed_scopes(call(tool)), Scopes{"read"}) << tool;
  for (auto tool : {"write", "edit", "apply_patch", "mkdir", "remove", "rename"}) {
    EXPECT_EQ(needed_scopes(call(tool)), Scopes{"write:workspace"}) << tool;
    Call outside = call(tool);
    outside.outside_workspace = true;
    EXPECT_EQ(needed_scopes(outside), Scopes{"write"}) << tool;
  }
  Call net = call("exec");
  net.wants_network = true;
  net.binds_socket = true;
  EXPECT_EQ(needed_scopes(net), (Scopes{"exec", "http:approved_hosts", "docker_socket"}));
  Call browser = call("browser");
  EXPECT_EQ(needed_scopes(browser), Scopes{"browser"});
  browser.browser_host_control = true;
  EXPECT_EQ(needed_scopes(browser), (Scopes{"browser", "browser:host_control"}));
}

TEST(Scopes, EntryMatching) {
  EXPECT_TRUE(scope_matches("exec", "exec"));
  EXPECT_TRUE(scope_matches("*", "docker_socket"));
  EXPECT_TRUE(scope_matches("http:*", "http:approved_hosts"));
  EXPECT_TRUE(scope_matches("write", "write:workspace"));
  EXPECT_FALSE(scope_matches("write:workspace", "write"));
  EXPECT_FALSE(scope_matches("browser", "browser:host_control"));
  EXPECT_FALSE(scope_matches("exe", "exec"));
  EXPECT_FALSE(scope_matches("exec:*", "execute"));
}

TEST(Decision, DefaultDenyRefusesWhatIsNotAllowed) {
  auto d = decide(policy({"read"}), nullptr, call("write"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::TOOL_NOT_ALLOWED);
  EXPECT_EQ(decide(policy({}), nullptr, call("read")).reason, Reason::TOOL_NOT_ALLOWED);
}

TEST(Decision, AllowedCallIsAllowedWithItsScopes) {
  auto d = decide(policy({"read", "write:workspace"}), nullptr, call("edit"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, Reason::OK);
  EXPECT_EQ(d.scopes, Scopes{"write:workspace"});
}

TEST(Decision, DenyWinsOverAllow) {
  auto d = decide(policy({"*"}, {"exec"}), nullptr, call("exec"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, Reason::EXEC_DENIED);
  EXPECT_EQ(decide(policy({"write"}, {"write"}), nullptr, call("write")).reason, Reason::TOOL_DENIED);
}

TEST(Decision, ExecRefusedWhenNotAllowed) {
  EXPECT_EQ(decide(policy({"read"}), nullptr, call("exec")).reason, Reason::EXEC_DENIED);
  Call bg = call("exec");
  bg.background = true;
  auto d = decide(policy({"exec"}), nullptr, bg);  // process missing
  EXPECT_EQ(d.reason, Reason::EXEC_DENIED);
  EXPECT_EQ(d.detail, "process: not allowed by the WPC (a background exec needs it)");
  EXPECT_EQ(decide(policy({"exec"}, {"process"}), nullptr, bg).detail,
            "process: denied by WPC entry process (a background exec needs it)");
  EXPECT_TRUE(decide(policy({"exec", "process"}), nullptr, bg).allowed);
}

TEST(Decision, DockerSocketBindIsRefused) {
  Call c = call("exec");
  c.binds_socket = true;
  EXPECT_EQ(decide(policy({"exec"}), nullptr, c).reason, Reason::DOCKER_SOCKET_DENIED);
  EXPECT_EQ(decide(policy({"*"}, {"docker_socket"}), nullptr, c).reason, Reason::DOCKER_SOCKET_DENIED);
}

TEST(Decision, NetworkNeedsApprovedHostsScope) {
  Call c = call("exec");
  c.wants_network = true;
  EXPECT_EQ(decide(policy({"exec"}), nullptr, c).reason, Reason::NETWORK_DENIED);
  EXPECT_TRUE(decide(policy({"exec", "http:approved_hosts"}), nullptr, c).allowed);
}

TEST(Decision, WriteOutsideWorkspaceNeedsPlainWrite) {
  Call c = call("write");
  c.outside_workspace = true;
  EXPECT_EQ(decide(policy({"write:workspace"}), nullptr, c).reason, Reason::PATH_OUTSIDE_WORKSPACE);
  EXPECT_TRUE(decide(policy({"write"}), nullptr, c).allowed);
}

TEST(Decision, ElevatedNeedsTheWpcToEnableIt) {
  Call c = call("exec");
  c.elevated = true;
  auto p = policy({"*"});
  EXPECT_EQ(decide(p, nullptr, c).reason, Reason::ELEVATED_DENIED);
  p.elevated_enabled = true;
  EXPECT_TRUE(decide(p, nullptr, c).allowed);
}

TEST(Decision, BrowserHostControlIsItsOwnScope) {
  Call c = call("browser");
  c.browser_host_control = true;
  EXPECT_EQ(decide(policy({"browser"}), nullptr, c).reason, Reason::TOOL_NOT_ALLOWED);
  EXPECT_EQ(decide(policy({"browser:*"}, {"browser:host_control"}), nullptr, c).reason, Reason::TOOL_DENIED);
  EXPECT_TRUE(decide(policy({"browser", "browser:host_control"}), nullptr, c).allowed);
}

TEST(Decision, UnknownToolIsRefusedEvenUnderStar) {
  EXPECT_EQ(decide(policy({"*"}), nullptr, call("gateway")).reason, Reason::TOOL_NOT_ALLOWED);
}

TEST(Decision, RequireCstWithoutTokenIsRefused) {
  auto p = policy({"read"});
  p.require_cst = true;
  EXPECT_EQ(decide(p, nullptr, call("read")).reason, Reason::CST_MISSING);
}

TEST(Decision, CstNarrowsButNeverWidens) {
  auto p = policy({"read", "write:workspace"});
  p.require_cst = true;
  Cst narrow;
  narrow.scope = {"clawjail:call", "tool:read"};
  EXPECT_TRUE(decide(p, &narrow, call("read")).allowed);
  EXPECT_EQ(decide(p, &narrow, call("write")).reason, Reason::CST_SCOPE_DENIED);
  Cst wide;
  wide.scope = {"*", "tool:exec", "tool:*"};
  EXPECT_EQ(decide(p, &wide, call("exec")).reason, Reason::EXEC_DENIED);  // the WPC still decides
  Cst none;
  none.scope = {"something:else"};
  EXPECT_EQ(decide(p, &none, call("read")).reason, Reason::CST_SCOPE_DENIED);
}

TEST(Decision, SeedToolWpcDecisions) {
  auto p = parse_wpc_payload(testing::tool_wpc()).value();
  p.require_cst = false;
  EXPECT_TRUE(decide(p, nullptr, call("read")).allowed);
  EXPECT_TRUE(decide(p, nullptr, call("apply_patch")).allowed);
  EXPECT_EQ(decide(p, nullptr, call("exec")).reason, Reason::EXEC_DENIED);
  EXPECT_EQ(decide(p, nullptr, call("process")).reason, Reason::EXEC_DENIED);
  EXPECT_EQ(decide(p, nullptr, call("browser")).reason, Reason::TOOL_NOT_ALLOWED);
}

TEST(Decision, ClawV2DenyStatementWins) {
  auto p = parse_wpc_payload(testing::claw_v2_wpc()).value();
  p.require_cst = false;
  EXPECT_EQ(decide(p, nullptr, call("exec")).reason, Reason::EXEC_DENIED);
  EXPECT_TRUE(decide(p, nullptr, call("read")).allowed);
  EXPECT_EQ(decide(p, nullptr, call("browser")).reason, Reason::TOOL_NOT_ALLOWED);
}

}  // namespace
}  // namespace clawjail::policy
