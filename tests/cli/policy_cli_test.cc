// keygen, wpc and cst on the real binary: what an operator types, what a script reads.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <string>
#include <vector>

#include "policy/json.h"

namespace clawjail {
namespace {

namespace fs = std::filesystem;
using policy::Json;

struct Output {
  int status = -1;
  std::string out, err;
};

std::string drain(int fd) {
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return text;
}

// Runs the real binary; stdout and stderr go to files so that neither pipe can fill up.
Output clawjail(const fs::path& scratch, std::vector<std::string> args) {
  args.insert(args.begin(), CLAWJAIL_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  auto out_path = scratch / ".stdout", err_path = scratch / ".stderr";
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  Output o;
  o.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  o.out = drain(::open(out_path.c_str(), O_RDONLY | O_CLOEXEC));
  o.err = drain(::open(err_path.c_str(), O_RDONLY | O_CLOEXEC));
  return o;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

class PolicyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/clawjail-policy-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { fs::remove_all(dir); }

  Output run(std::vector<std::string> args) { return clawjail(dir, std::move(args)); }

  std::string keygen(const std::string& name) {
    auto o = run({"keygen", "--out", (dir / "keys").string(), "--name", name});
    EXPECT_EQ(o.status, 0) << o.err;
    return first_line(o.out);
  }

  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return dir / name;
  }

  fs::path payload() {
    return write("wpc.json", R"({ "wpc_version":"v1", "policy_id":"cli", "issuer_did":"did:key:x",
      "job":{ "id":"job-1" }, "tools":{ "allow":["read"], "deny":["exec"] }, "tokens":{ "pin_wpc_hash":true } })");
  }

  fs::path signed_wpc(const std::string& key_name) {
    auto o = run({"wpc", "sign", "--key", (dir / "keys" / (key_name + ".key")).string(), payload().string()});
    EXPECT_EQ(o.status, 0) << o.err;
    return write("wpc.env.json", o.out);
  }

  fs::path dir;
};

TEST_F(PolicyCli, KeygenWritesAPrivateKeyAndPrintsItsDid) {
  std::string did = keygen("op");
  EXPECT_TRUE(did.starts_with("did:key:z6Mk")) << did;
  struct stat st {};
  ASSERT_EQ(::stat((dir / "keys" / "op.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream pub(dir / "keys" / "op.pub");
  std::string line;
  std::getline(pub, line);
  EXPECT_EQ(line, did);
}

TEST_F(PolicyCli, KeygenRefusesToOverwrite) {
  keygen("op");
  auto o = run({"keygen", "--out", (dir / "keys").string(), "--name", "op"});
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("clawjail: keygen: "), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("already exists"), std::string::npos) << o.err;
}

TEST_F(PolicyCli, KeygenRefusesADirectoryOthersCanWrite) {
  fs::create_directories(dir / "shared");
  ::chmod((dir / "shared").c_str(), 0777);
  auto o = run({"keygen", "--out", (dir / "shared").string()});
  EXPECT_EQ(o.status, 1);
  EXPECT_FALSE(fs::exists(dir / "shared" / "clawjail.key"));
}

TEST_F(PolicyCli, GroupReadableKeyIsRefusedForSigning) {
  keygen("op");
  ::chmod((dir / "keys" / "op.key").c_str(), 0640);
  auto o = run({"wpc", "sign", "--key", (dir / "keys" / "op.key").string(), payload().string()});
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("clawjail: wpc sign: KEY_PERMISSIONS"), std::string::npos) << o.err;
  EXPECT_TRUE(o.out.empty());
}

TEST_F(PolicyCli, WpcSignVerifyHashRoundTrip) {
  std::string did = keygen("op");
  auto env = signed_wpc("op");
  auto h1 = run({"wpc", "hash", payload().string()});
  auto h2 = run({"wpc", "hash", env.string()});
  ASSERT_EQ(h1.status, 0) << h1.err;
  EXPECT_EQ(h1.out, h2.out);
  EXPECT_EQ(first_line(h1.out).size(), 43u);
  auto v = run({"wpc", "verify", "--trust", did, env.string()});
  EXPECT_EQ(v.status, 0) << v.out << v.err;
  EXPECT_EQ(v.out, "PASS " + h1.out);
  auto j = run({"wpc", "verify", "--json", "--trust", did, env.string()});
  auto parsed = Json::parse(j.out);
  EXPECT_EQ(parsed["result"], "PASS");
  EXPECT_EQ(parsed["policy_hash_b64u"], first_line(h1.out));
}

TEST_F(PolicyCli, WpcVerifyFailsForAnUntrustedSignerAndATamperedPayload) {
  keygen("op");
  std::string other = keygen("other");
  auto env = signed_wpc("op");
  auto v = run({"wpc", "verify", "--trust", other, env.string()});
  EXPECT_EQ(v.status, 1);
  EXPECT_TRUE(v.out.starts_with("FAIL WPC_SIGNER_NOT_ALLOWED ")) << v.out;
  auto envelope = Json::parse(std::ifstream(env));
  envelope["payload"]["tools"]["allow"].push_back("exec");
  auto tampered = write("tampered.json", envelope.dump());
  auto t = run({"wpc", "verify", "--json", "--trust", other, tampered.string()});
  EXPECT_EQ(t.status, 1);
  EXPECT_EQ(Json::parse(t.out)["reason_code"], "WPC_HASH_MISMATCH");
}

TEST_F(PolicyCli, WpcHashRefusesAStrictnessErrorNamingTheField) {
  auto bad = write("bad.json", R"({"wpc_version":"v1","policy_id":"x","issuer_did":"did:key:x","tools":{"allow":["read"],"allow":["exec"]}})");
  auto o = run({"wpc", "hash", bad.string()});
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("clawjail: wpc hash: DUPLICATE_KEY"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("tools.allow"), std::string::npos) << o.err;
}

TEST_F(PolicyCli, CstIssueThenVerifyPassesAndWrongJobFails) {
  std::string did = keygen("issuer");
  keygen("op");
  auto env = signed_wpc("op");
  std::string hash = first_line(run({"wpc", "hash", env.string()}).out);
  auto issued = run({"cst", "issue", "--key", (dir / "keys" / "issuer.key").string(), "--kid", "k1", "--sub",
                     did, "--job", "job-1", "--policy", hash, "--ttl", "600"});
  ASSERT_EQ(issued.status, 0) << issued.err;
  auto token = write("t.jwt", issued.out);
  std::vector<std::string> verify = {"cst", "verify", "--token-file", token.string(), "--issuer", "k1=" + did,
                                     "--wpc", env.string()};
  auto ok = run([&] { auto a = verify; a.insert(a.end(), {"--job", "job-1"}); return a; }());
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.out, "PASS\n");
  EXPECT_NE(ok.err.find("no --config"), std::string::npos) << ok.err;  // says what it did not check
  auto exec = run([&] { auto a = verify; a.insert(a.end(), {"--job", "job-1", "--tool", "exec"}); return a; }());
  EXPECT_TRUE(exec.out.starts_with("FAIL EXEC_DENIED ")) << exec.out;
  auto wrong = run([&] { auto a = verify; a.insert(a.end(), {"--job", "job-2"}); return a; }());
  EXPECT_EQ(wrong.status, 1);
  EXPECT_TRUE(wrong.out.starts_with("FAIL CST_JOB_MISMATCH ")) << wrong.out;
}

TEST_F(PolicyCli, CstRevokeIsSeenByVerifyWithTheConfig) {
  std::string did = keygen("issuer");
  std::string signer = keygen("op");
  auto env = signed_wpc("op");
  std::string hash = first_line(run({"wpc", "hash", env.string()}).out);
  auto token = write("t.jwt", run({"cst", "issue", "--key", (dir / "keys" / "issuer.key").string(), "--kid", "k1",
                                   "--sub", did, "--job", "job-1", "--policy", hash}).out);
  auto config = write("config.json", Json{{"state_dir", (dir / "state").string()},
                                          {"wpc_signers", {signer}},
                                          {"cst_issuers", {{{"kid", "k1"}, {"did", did}}}}}.dump());
  std::vector<std::string> verify = {"cst", "verify", "--token-file", token.string(), "--wpc", env.string(),
                                     "--job", "job-1", "--config", config.string()};
  auto before = run(verify);
  EXPECT_EQ(before.out, "PASS\n") << before.err;
  auto revoked = run({"cst", "revoke", "--token-file", token.string(), "--config", config.string()});
  EXPECT_EQ(revoked.status, 0) << revoked.err;
  auto after = run(verify);
  EXPECT_EQ(after.status, 1);
  EXPECT_TRUE(after.out.starts_with("FAIL CST_REVOKED ")) << after.out;
}

TEST_F(PolicyCli, WpcInstallStoresUnderItsHash) {
  std::string signer = keygen("op");
  auto env = signed_wpc("op");
  auto config = write("config.json", Json{{"state_dir", (dir / "state").string()}, {"wpc_signers", {signer}}}.dump());
  auto o = run({"wpc", "install", "--config", config.string(), env.string()});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(fs::exists(dir / "state" / "policies" / (first_line(o.out) + ".json")));
  auto none = write("none.json", Json{{"state_dir", (dir / "state2").string()}}.dump());
  auto refused = run({"wpc", "install", "--config", none.string(), env.string()});
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("WPC_NO_SIGNERS"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace clawjail
