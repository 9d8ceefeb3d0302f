// A v2 WPC's filesystem path rules (side_effect:filesystem_read|write) held by the real
// supervisor: the file tools act only on the paths the rules allow, whatever spelling names them,
// and a command, which could touch any path of the workspace, is refused while the rules apply.
#include <unistd.h>

#include <fstream>

#include "fixture.h"

namespace clawjail::test {
namespace {

class PathRules : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    fs::create_directories(world.workspace / "secrets");
    fs::create_directories(world.workspace / "allowed");
    std::ofstream(world.workspace / "secrets" / "key") << "top secret\n";
    wpc = install(payload("rw"));
    start_supervisor();
  }

  Json payload(const std::string& workspace_access) {
    Json statements = Json::array();
    statements.push_back({{"sid", "tools"}, {"effect", "Allow"}, {"actions", {"tool:execute"}},
                          {"resources", {"read", "write:workspace", "exec"}}});
    statements.push_back({{"sid", "no-secrets"}, {"effect", "Deny"},
                          {"actions", {"side_effect:filesystem_read", "side_effect:filesystem_write"}},
                          {"resources", {"secrets/**"}}});
    return {{"policy_version", "2"}, {"policy_id", "paths"}, {"issuer_did", world.signer_key->did()},
            {"statements", statements}, {"metadata", {{"clawjail", {{"workspace_access", workspace_access}}}}}};
  }

  std::string install(const Json& p) {
    auto hash = demo::install_wpc(world, p);
    EXPECT_TRUE(hash.ok()) << hash.error().detail;
    return hash.ok() ? *hash : "";
  }

  std::vector<std::string> fs_args(const std::string& job, std::vector<std::string> tail) {
    auto cst = token_file(job, {.job = job, .policy_hash_b64u = wpc});
    std::vector<std::string> a = {"fs", "--socket", world.socket.string(), "--job", job, "--cst-file",
                                  cst.string(), "--workspace", world.workspace.string()};
    a.insert(a.end(), tail.begin(), tail.end());
    return a;
  }

  // The call was refused before any jail ran: exit 126, PATH_DENIED, a `blocked` receipt.
  void expect_path_denied(const Captured& c, const std::string& job, const std::string& path) {
    EXPECT_EQ(c.exit_code, 126) << c.err;
    EXPECT_NE(c.err.find("PATH_DENIED"), std::string::npos) << c.err;
    EXPECT_NE(c.err.find(path), std::string::npos) << c.err;
    EXPECT_NE(c.err.find("secrets/**"), std::string::npos) << "the rule is named: " << c.err;
    auto r = receipts(job);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r.back()["phase"], "blocked");
    EXPECT_EQ(r.back()["reason_code"], "PATH_DENIED");
  }

  std::string wpc;
};

TEST_F(PathRules, WriteToADeniedPathIsBlockedAndNothingIsCreated) {
  auto c = clawjail(fs_args("job-w", {"write", "secrets/planted"}), "data\n");
  expect_path_denied(c, "job-w", "secrets/planted");
  EXPECT_FALSE(fs::exists(world.workspace / "secrets" / "planted"));
  c = clawjail(fs_args("job-w2", {"mkdir", "secrets/sub"}));
  expect_path_denied(c, "job-w2", "secrets/sub");
  EXPECT_FALSE(fs::exists(world.workspace / "secrets" / "sub"));
  c = clawjail(fs_args("job-w3", {"remove", "secrets/key"}));
  expect_path_denied(c, "job-w3", "secrets/key");
  EXPECT_TRUE(fs::exists(world.workspace / "secrets" / "key"));
}

TEST_F(PathRules, ReadOfADeniedPathIsBlocked) {
  auto c = clawjail(fs_args("job-r", {"read", "secrets/key"}));
  expect_path_denied(c, "job-r", "secrets/key");
  EXPECT_EQ(c.out.find("top secret"), std::string::npos) << c.out;
  c = clawjail(fs_args("job-r2", {"--json", "stat", "secrets/key"}));
  expect_path_denied(c, "job-r2", "secrets/key");
}

TEST_F(PathRules, SpellingsOfADeniedPathAreTheDeniedPath) {
  int n = 0;
  for (std::string path : {"allowed/../secrets/x", "./secrets/x", "secrets//x", "secrets/./x", "allowed/.././secrets/x"}) {
    std::string job = "job-spell-" + std::to_string(n++);
    auto c = clawjail(fs_args(job, {"write", path}), "data\n");
    expect_path_denied(c, job, "secrets/x");
    EXPECT_FALSE(fs::exists(world.workspace / "secrets" / "x")) << path;
  }
  auto c = clawjail(fs_args("job-spell-read", {"read", "allowed/../secrets/key"}));
  expect_path_denied(c, "job-spell-read", "secrets/key");
  EXPECT_EQ(c.out.find("top secret"), std::string::npos) << c.out;
}

TEST_F(PathRules, SymlinkIntoADeniedDirectoryReachesNothing) {
  ASSERT_EQ(::symlink("secrets", (world.workspace / "link").c_str()), 0);
  auto w = clawjail(fs_args("job-link", {"write", "link/x"}), "data\n");
  EXPECT_NE(w.exit_code, 0) << w.err;
  EXPECT_FALSE(fs::exists(world.workspace / "secrets" / "x"));
  auto r = clawjail(fs_args("job-link", {"read", "link/key"}));
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("top secret"), std::string::npos) << r.out;
  // Renaming the link moves the link, not what it points at, and the new name reaches nothing either.
  auto m = clawjail(fs_args("job-link", {"rename", "link", "exposed"}));
  EXPECT_EQ(m.exit_code, 0) << m.err;
  r = clawjail(fs_args("job-link", {"read", "exposed/key"}));
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("top secret"), std::string::npos) << r.out;
  auto ls = clawjail(fs_args("job-link", {"--json", "ls", "exposed"}));
  EXPECT_EQ(ls.out.find("\"key\""), std::string::npos) << ls.out;
  EXPECT_TRUE(fs::exists(world.workspace / "secrets" / "key"));
}

TEST_F(PathRules, RenameIntoOrOutOfADeniedPathIsBlocked) {
  auto w = clawjail(fs_args("job-mv", {"write", "allowed/notes.txt"}), "notes\n");
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto c = clawjail(fs_args("job-mv-in", {"rename", "allowed/notes.txt", "secrets/notes.txt"}));
  expect_path_denied(c, "job-mv-in", "secrets/notes.txt");
  EXPECT_TRUE(fs::exists(world.workspace / "allowed" / "notes.txt"));
  EXPECT_FALSE(fs::exists(world.workspace / "secrets" / "notes.txt"));
  // The directory itself is not matched by secrets/**, but what it holds is.
  c = clawjail(fs_args("job-mv-out", {"rename", "secrets", "public"}));
  expect_path_denied(c, "job-mv-out", "secrets");
  EXPECT_TRUE(fs::exists(world.workspace / "secrets" / "key"));
  EXPECT_FALSE(fs::exists(world.workspace / "public"));
  c = clawjail(fs_args("job-mv-dir", {"rename", "allowed", "secrets/allowed"}));
  expect_path_denied(c, "job-mv-dir", "secrets/allowed");
  c = clawjail(fs_args("job-rm-tree", {"-p", "remove", "secrets"}));
  expect_path_denied(c, "job-rm-tree", "secrets");
  EXPECT_TRUE(fs::exists(world.workspace / "secrets" / "key"));
}

TEST_F(PathRules, ListingNeverShowsWhatIsBeneathADeniedPath) {
  auto c = clawjail(fs_args("job-ls", {"--json", "ls", "secrets"}));
  EXPECT_EQ(c.out.find("key"), std::string::npos) << c.out;
  c = clawjail(fs_args("job-ls2", {"--json", "ls", "allowed/../secrets"}));
  EXPECT_EQ(c.out.find("key"), std::string::npos) << c.out;
}

TEST_F(PathRules, AllowedPathsWork) {
  auto w = clawjail(fs_args("job-ok", {"write", "allowed/a.txt"}), "hello\n");
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto r = clawjail(fs_args("job-ok", {"read", "allowed/../allowed/a.txt"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  auto mv = clawjail(fs_args("job-ok", {"rename", "allowed/a.txt", "allowed/b.txt"}));
  EXPECT_EQ(mv.exit_code, 0) << mv.err;
  auto ls = clawjail(fs_args("job-ok", {"--json", "ls", "."}));
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("allowed"), std::string::npos) << ls.out;
  ls = clawjail(fs_args("job-ok", {"--json", "ls", "allowed"}));
  EXPECT_NE(ls.out.find("b.txt"), std::string::npos) << ls.out;
  EXPECT_TRUE(fs::exists(world.workspace / "allowed" / "b.txt"));
}

// A command could touch any path of the workspace: with path rules and a mounted workspace it is
// refused, with a receipt that says why; without a workspace the rules have nothing to guard.
TEST_F(PathRules, CommandIsRefusedWhileTheRulesGuardAMountedWorkspace) {
  auto cst = token_file("job-exec", {.job = "job-exec", .policy_hash_b64u = wpc});
  auto c = clawjail(run_args("job-exec", cst, {"--", "/bin/sh", "-c", "cat /workspace/secrets/key; touch /workspace/secrets/ran"}));
  EXPECT_EQ(c.exit_code, 126) << c.err;
  EXPECT_NE(c.err.find("PATH_RULES_UNENFORCEABLE"), std::string::npos) << c.err;
  EXPECT_EQ(c.out.find("top secret"), std::string::npos) << c.out;
  EXPECT_FALSE(fs::exists(world.workspace / "secrets" / "ran"));
  auto r = receipts("job-exec");
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.back()["phase"], "blocked");
  EXPECT_EQ(r.back()["reason_code"], "PATH_RULES_UNENFORCEABLE");

  wpc = install(payload("none"));
  cst = token_file("job-exec-nows", {.job = "job-exec-nows", .policy_hash_b64u = wpc});
  auto args = run_args("job-exec-nows", cst, {"--", "/bin/echo", "no workspace"});
  c = clawjail(args);
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "no workspace\n");
}

TEST_F(PathRules, ExplainShowsTheRulesAndWhatTheyDoToExec) {
  auto path = root / "paths.wpc.json";
  ASSERT_TRUE(demo::write_file(path, payload("rw").dump()).ok());
  auto text = clawjail({"explain", "--wpc", path.string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("write Deny globs: secrets/**"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("exec: blocked PATH_RULES_UNENFORCEABLE"), std::string::npos) << text.out;
  auto json = clawjail({"explain", "--wpc", path.string(), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Json rules = Json::parse(json.out)["path_rules"];
  EXPECT_EQ(rules["read"]["deny"], Json::array({"secrets/**"}));
  EXPECT_NE(rules["effect"].get<std::string>().find("exec is refused"), std::string::npos) << rules.dump();
  auto audit = clawjail({"audit", "--config", world.config_path.string(), "--json"});
  EXPECT_NE(audit.out.find("wpc.exec_under_path_rules"), std::string::npos) << audit.out;
}

}  // namespace
}  // namespace clawjail::test
