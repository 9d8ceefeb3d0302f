// A v2 WPC's workspace path rules (docs/formats.md §2 "Path rules"): the path a file tool names is
// normalised to the one the jail acts on, every path it touches is checked, and a command is kept
// out of a workspace the rules guard.
#include <gtest/gtest.h>

#include "policy/decision.h"
#include "policy/json.h"
#include "policy/paths.h"
#include "base/reason.h"
#include "policy/wpc.h"

namespace clawjail::policy {
namespace {

std::string normal(std::string_view p) {
  auto n = normalize_workspace_path(p);
  return n ? *n : "refused:" + std::string(reason_name(n.reason()));
}

TEST(WorkspacePath, NormalisedToThePathTheJailActsOn) {
  EXPECT_EQ(normal("secrets/x"), "secrets/x");
  EXPECT_EQ(normal("allowed/../secrets/x"), "secrets/x");
  EXPECT_EQ(normal("./secrets//x/"), "secrets/x");
  EXPECT_EQ(normal("secrets/./x"), "secrets/x");
  EXPECT_EQ(normal("a/b/../../secrets/./x"), "secrets/x");
  EXPECT_EQ(normal("."), ".");
  EXPECT_EQ(normal("a/.."), ".");
  EXPECT_EQ(normal("./"), ".");
  EXPECT_EQ(normal("..."), "...");  // a name, not a climb
  EXPECT_EQ(normal("../x"), "refused:PATH_OUTSIDE_WORKSPACE");
  EXPECT_EQ(normal("a/../../x"), "refused:PATH_OUTSIDE_WORKSPACE");
  EXPECT_EQ(normal("/workspace/x"), "refused:PATH_OUTSIDE_WORKSPACE");
  EXPECT_EQ(normal(""), "refused:BAD_FIELD");
}

Policy rules(std::vector<std::string> read_allow, std::vector<std::string> write_allow,
             std::vector<std::string> read_deny, std::vector<std::string> write_deny,
             WorkspaceAccess access = WorkspaceAccess::rw) {
  Policy p;
  p.allow = {"read", "write:workspace", "exec"};
  p.require_cst = false;
  p.fs_read_globs = std::move(read_allow);
  p.fs_write_globs = std::move(write_allow);
  p.fs_read_deny_globs = std::move(read_deny);
  p.fs_write_deny_globs = std::move(write_deny);
  p.sandbox.workspace_access = access;
  return p;
}

Decision file_call(const Policy& p, const std::string& tool, std::vector<std::string> paths, bool recursive = false) {
  Call c;
  c.tool = tool;
  c.paths = std::move(paths);
  c.recursive = recursive;
  return decide(p, nullptr, c);
}

TEST(PathRules, GlobsCrossSlashesAndLeadingDots) {
  auto p = rules({}, {}, {"*.key"}, {"secrets/**"});
  EXPECT_FALSE(path_allowed(p, "deep/dir/a.key", false));
  EXPECT_FALSE(path_allowed(p, ".key", false));
  EXPECT_TRUE(path_allowed(p, "a.txt", false));
  EXPECT_FALSE(path_allowed(p, "secrets/x", true));
  EXPECT_TRUE(path_allowed(p, "secrets", true));  // the directory itself is not beneath it
  auto why = path_refusal(p, "secrets/x", true);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("secrets/**"), std::string::npos) << *why;
  EXPECT_NE(why->find("filesystem_write"), std::string::npos) << *why;
}

TEST(PathRules, EachFileToolIsCheckedOnTheNormalisedPathsItTouches) {
  auto p = rules({}, {}, {"secrets/**"}, {"secrets/**"});
  EXPECT_EQ(file_call(p, "write", {"allowed/../secrets/x"}).reason, Reason::PATH_DENIED);
  EXPECT_EQ(file_call(p, "read", {"./secrets//key"}).reason, Reason::PATH_DENIED);
  EXPECT_EQ(file_call(p, "stat", {"secrets/key"}).reason, Reason::PATH_DENIED);
  EXPECT_EQ(file_call(p, "mkdir", {"secrets/a/b"}, true).reason, Reason::PATH_DENIED);
  EXPECT_EQ(file_call(p, "rename", {"a.txt", "secrets/a.txt"}).reason, Reason::PATH_DENIED);
  EXPECT_EQ(file_call(p, "rename", {"secrets", "public"}).reason, Reason::PATH_DENIED);     // what it holds
  EXPECT_EQ(file_call(p, "rename", {"allowed", "secrets/allowed"}).reason, Reason::PATH_DENIED);
  EXPECT_EQ(file_call(p, "remove", {"secrets"}, true).reason, Reason::PATH_DENIED);
  EXPECT_TRUE(file_call(p, "remove", {"secrets"}).allowed);  // an empty directory only
  EXPECT_TRUE(file_call(p, "ls", {"secrets"}).allowed);      // its entries are filtered
  EXPECT_TRUE(file_call(p, "write", {"allowed/a.txt"}).allowed);
  EXPECT_TRUE(file_call(p, "rename", {"allowed/a", "allowed/b"}).allowed);
  EXPECT_TRUE(file_call(p, "rename", {"secretsx", "other"}).allowed);
  // With rules in force a path that cannot be placed in the workspace is refused here.
  EXPECT_EQ(file_call(p, "read", {"../outside"}).reason, Reason::PATH_OUTSIDE_WORKSPACE);
}

TEST(PathRules, AllowListsCoverOnlyWhatTheyMatch) {
  auto p = rules({"src/**", "NOTES.txt"}, {"src/**"}, {}, {});
  EXPECT_TRUE(file_call(p, "read", {"src/a/b.c"}).allowed);
  EXPECT_TRUE(file_call(p, "read", {"NOTES.txt"}).allowed);
  EXPECT_EQ(file_call(p, "read", {"docs/x.md"}).reason, Reason::PATH_DENIED);
  EXPECT_EQ(file_call(p, "write", {"src/../docs/x.md"}).reason, Reason::PATH_DENIED);
  EXPECT_TRUE(file_call(p, "rename", {"src/a", "src/b"}).allowed);             // src/** holds all beneath
  EXPECT_EQ(file_call(p, "rename", {"src/a", "lib/a"}).reason, Reason::PATH_DENIED);
  EXPECT_EQ(file_call(p, "mkdir", {"lib/src"}, true).reason, Reason::PATH_DENIED);  // -p creates lib
  EXPECT_TRUE(file_call(p, "ls", {"."}).allowed);  // the workspace lists, filtered
  auto star = rules({"*"}, {"*"}, {}, {});
  EXPECT_FALSE(path_rules_restriction(star, false));
  EXPECT_TRUE(file_call(star, "rename", {".git", "git"}).allowed);
}

TEST(PathRules, BeneathErrsTowardsRefusal) {
  auto p = rules({}, {}, {}, {"*.key", "a[!]]b/x", "lit\\*"});
  EXPECT_TRUE(path_refusal_beneath(p, "src", true));   // src/k.key may be there
  auto dirs = rules({}, {}, {}, {"secrets/**", "cache/[0-9]*"});
  EXPECT_TRUE(path_refusal_beneath(dirs, "secrets", true));
  EXPECT_TRUE(path_refusal_beneath(dirs, "cache", true));
  EXPECT_TRUE(path_refusal_beneath(dirs, ".", true));
  EXPECT_FALSE(path_refusal_beneath(dirs, "src", true));
  EXPECT_FALSE(path_refusal_beneath(dirs, "secret", true));
  EXPECT_FALSE(path_refusal_beneath(dirs, "secrets", false));  // another direction
}

TEST(PathRules, CommandIsRefusedWhenTheWorkspaceItSeesIsGuarded) {
  Call exec;
  exec.tool = "exec";
  auto denied = rules({}, {}, {}, {"secrets/**"});
  auto d = decide(denied, nullptr, exec);
  EXPECT_EQ(d.reason, Reason::PATH_RULES_UNENFORCEABLE);
  EXPECT_NE(d.detail.find("secrets/**"), std::string::npos) << d.detail;
  // Writes guarded, workspace read-only: the command cannot write anyway.
  EXPECT_TRUE(decide(rules({}, {}, {}, {"secrets/**"}, WorkspaceAccess::ro), nullptr, exec).allowed);
  EXPECT_EQ(decide(rules({}, {}, {"secrets/**"}, {}, WorkspaceAccess::ro), nullptr, exec).reason,
            Reason::PATH_RULES_UNENFORCEABLE);
  EXPECT_TRUE(decide(rules({"src/**"}, {}, {"secrets/**"}, {}, WorkspaceAccess::none), nullptr, exec).allowed);
  EXPECT_EQ(decide(rules({"src/**"}, {}, {}, {}), nullptr, exec).reason, Reason::PATH_RULES_UNENFORCEABLE);
  EXPECT_TRUE(decide(rules({"*"}, {"**"}, {}, {}), nullptr, exec).allowed);
  EXPECT_TRUE(decide(rules({}, {}, {}, {}), nullptr, exec).allowed);
}

}  // namespace
}  // namespace clawjail::policy

namespace clawjail::policy {
namespace {

// The same class as the path rules: a v2 network_egress Allow names hosts, and only those of
// metadata.clawjail.network that it names are approved.
TEST(WpcV2Network, AllowStatementNarrowsTheApprovedHosts) {
  auto p = Json::parse(R"({ "policy_version":"2", "policy_id":"net", "issuer_did":"did:key:z6Mkx",
    "statements":[ { "sid":"net", "effect":"Allow", "actions":["side_effect:network_egress"], "resources":["*.github.com"] } ],
    "metadata":{ "clawjail":{ "network":{ "approved_hosts":["api.github.com", "evil.example:443"] } } } })");
  auto r = parse_wpc_payload(p);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->sandbox.approved_hosts, std::vector<std::string>{"api.github.com"});
}

}  // namespace
}  // namespace clawjail::policy
