// `clawjail audit`: each test plants one weakness in a scratch installation and checks that the
// audit names it with the right check id and severity (and that a sound installation does not).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <string>
#include <vector>

#include "policy/json.h"
#include "policy/keys.h"
#include "policy/wpc.h"
#include "policy/wpc_store.h"
#include "supervisor/audit/checks.h"

namespace clawjail {
namespace {

namespace fs = std::filesystem;
using audit::Severity;
using policy::Json;

struct Run {
  int status = -1;
  std::string out;
};

// Runs the real binary with `args`, capturing stdout (stderr passes through for the test log).
Run run_clawjail(const std::vector<std::string>& args) {
  std::array<int, 2> pipe_fds{};
  EXPECT_EQ(::pipe2(pipe_fds.data(), O_CLOEXEC), 0);
  std::vector<std::string> argv_s = {CLAWJAIL_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  Run run;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) run.out.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  run.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return run;
}

void write_text(const fs::path& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

// A listening Unix socket at `path` (bound, so that it is a real socket inode).
void make_socket(const fs::path& path, mode_t mode) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.string().size(), sizeof addr.sun_path);
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);  // the inode stays; a socket file is all the audit looks at
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

// A sound scratch installation: root-owned config 0644, state 0700, key 0600, one trusted WPC
// signer and CST issuer, and a journald socket stand-in. Tests break one thing each.
class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/var/tmp/clawjail-audit-XXXXXX";  // disk-backed: /tmp or /dev/shm may be tmpfs
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
    fs::create_directories(root_ / "etc");
    fs::create_directories(root_ / "state" / "keys");
    fs::create_directories(root_ / "run");
    ::chmod((root_ / "state").c_str(), 0700);
    ::chmod((root_ / "state" / "keys").c_str(), 0700);
    ASSERT_TRUE(supervisor_key_.save(key_path()).ok());
    make_socket(root_ / "run" / "journal.sock", 0666);
    host_.journal_socket = root_ / "run" / "journal.sock";
    host_.expected_owner = ::geteuid();
    config_ = {{"socket", (root_ / "run" / "clawjail.sock").string()},
               {"state_dir", (root_ / "state").string()},
               {"signing_key", key_path().string()},
               {"wpc_signers", {signer_.did()}},
               {"cst_issuers", {{{"kid", "scope-1"}, {"did", issuer_.did()}}}},
               {"clients", {{"uids", {1001}}, {"gids", Json::array()}}}};
    write_config();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  fs::path config_path() const { return root_ / "etc" / "config.json"; }
  fs::path key_path() const { return root_ / "state" / "keys" / "supervisor.key"; }
  void write_config() { write_text(config_path(), config_.dump(2), 0644); }

  Json payload(const std::string& id) const {
    return {{"wpc_version", "v1"},
            {"policy_id", id},
            {"issuer_did", signer_.did()},
            {"tools", {{"allow", {"read", "write:workspace"}}, {"deny", {"exec", "docker_socket"}}}},
            {"tokens", {{"require_cst", true}, {"pin_wpc_hash", true}}},
            {"sandbox", {{"workspace_access", "ro"}}}};
  }
  std::string install(const Json& p) {
    policy::PolicyStore store(root_ / "state", {signer_.did()});
    auto hash = store.install(policy::sign_wpc(p, signer_));
    EXPECT_TRUE(hash.ok()) << (hash.ok() ? "" : hash.error().detail);
    return hash.ok() ? hash.value() : "";
  }

  audit::Report audit() const { return audit::audit_installation(config_path(), host_); }

  static const audit::Finding* find(const audit::Report& r, std::string_view id) {
    for (const auto& f : r.findings)
      if (f.check_id == id) return &f;
    return nullptr;
  }
  static std::string ids(const audit::Report& r) {
    std::string text;
    for (const auto& f : r.findings) text += std::string(audit::severity_name(f.severity)) + " " + f.check_id + "; ";
    return text;
  }
  // Asserts that `id` was found with `severity` and that its fix is spelled out.
  void expect_finding(std::string_view id, Severity severity) const {
    auto report = audit();
    const audit::Finding* f = find(report, id);
    ASSERT_NE(f, nullptr) << id << " missing; found: " << ids(report);
    EXPECT_EQ(f->severity, severity) << id;
    EXPECT_FALSE(f->title.empty());
    EXPECT_FALSE(f->detail.empty());
    EXPECT_FALSE(f->fix.empty());
  }
  void expect_no_finding(std::string_view id) const {
    auto report = audit();
    EXPECT_EQ(find(report, id), nullptr) << id << " reported on a sound installation: " << ids(report);
  }

  fs::path root_;
  policy::SecretKey supervisor_key_ = policy::SecretKey::generate();
  policy::SecretKey signer_ = policy::SecretKey::generate();
  policy::SecretKey issuer_ = policy::SecretKey::generate();
  audit::HostPaths host_;
  Json config_;
};

TEST_F(AuditTest, SoundInstallationHasNoCriticalOutsideTheHost) {
  install(payload("sound"));
  auto report = audit();
  for (const auto& f : report.findings) {
    if (f.check_id.starts_with("host.")) continue;
    EXPECT_NE(f.severity, Severity::critical) << f.check_id << ": " << f.detail;
  }
  for (const char* id : {"fs.config.owner", "fs.config.perms_writable", "fs.key.perms_readable", "fs.key.missing",
                         "fs.state_dir.perms_writable", "fs.state_dir.perms_readable", "fs.state_dir.tmpfs",
                         "trust.wpc_signers_missing", "trust.cst_issuers_missing", "wpc.require_cst_false",
                         "wpc.pin_wpc_hash_missing", "wpc.docker_socket_allowed", "host.journald"})
    EXPECT_EQ(find(report, id), nullptr) << id << ": " << ids(report);
}

TEST_F(AuditTest, ConfigWritableByOthersIsCritical) {
  ASSERT_EQ(::chmod(config_path().c_str(), 0666), 0);
  expect_finding("fs.config.perms_writable", Severity::critical);
}

TEST_F(AuditTest, ConfigOwnedByAnotherUserIsCritical) {
  ASSERT_EQ(::chown(config_path().c_str(), 4242, 4242), 0);
  expect_finding("fs.config.owner", Severity::critical);
}

TEST_F(AuditTest, ConfigInAWorldWritableDirectoryIsCritical) {
  ASSERT_EQ(::chmod((root_ / "etc").c_str(), 0777), 0);
  expect_finding("fs.config.dir_writable", Severity::critical);
}

TEST_F(AuditTest, ConfigThatDoesNotParseIsCriticalAndExitsOne) {
  write_text(config_path(), "{\"socket\": \"/x\", \"unknown_key\": 1}", 0644);
  expect_finding("config.unreadable", Severity::critical);
  EXPECT_EQ(run_clawjail({"audit", "--config", config_path().string()}).status, 1);
}

TEST_F(AuditTest, MissingConfigIsCritical) {
  fs::remove(config_path());
  expect_finding("config.unreadable", Severity::critical);
}

TEST_F(AuditTest, KeyReadableByGroupIsCritical) {
  ASSERT_EQ(::chmod(key_path().c_str(), 0640), 0);
  expect_finding("fs.key.perms_readable", Severity::critical);
}

TEST_F(AuditTest, KeyOwnedByAnotherUserIsCritical) {
  ASSERT_EQ(::chown(key_path().c_str(), 4242, 0), 0);
  expect_finding("fs.key.owner", Severity::critical);
}

TEST_F(AuditTest, MissingKeyIsCritical) {
  fs::remove(key_path());
  expect_finding("fs.key.missing", Severity::critical);
}

TEST_F(AuditTest, MalformedKeyIsCritical) {
  fs::remove(key_path());
  write_text(key_path(), "not a key\n", 0600);
  expect_finding("fs.key.invalid", Severity::critical);
}

TEST_F(AuditTest, KeyDirectoryOpenToOthersIsWarned) {
  ASSERT_EQ(::chmod((root_ / "state" / "keys").c_str(), 0755), 0);
  expect_finding("fs.key.dir_perms", Severity::warn);
}

TEST_F(AuditTest, StateDirWritableByOthersIsCritical) {
  ASSERT_EQ(::chmod((root_ / "state").c_str(), 0777), 0);
  expect_finding("fs.state_dir.perms_writable", Severity::critical);
}

TEST_F(AuditTest, StateDirReadableByOthersIsWarned) {
  ASSERT_EQ(::chmod((root_ / "state").c_str(), 0755), 0);
  expect_finding("fs.state_dir.perms_readable", Severity::warn);
}

TEST_F(AuditTest, MissingStateDirIsWarned) {
  config_["state_dir"] = (root_ / "nowhere").string();
  write_config();
  expect_finding("fs.state_dir.missing", Severity::warn);
}

TEST_F(AuditTest, StateDirOnTmpfsIsWarned) {
  char tmpl[] = "/dev/shm/clawjail-audit-XXXXXX";  // /dev/shm is tmpfs on every Linux host
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  config_["state_dir"] = tmpl;
  write_config();
  expect_finding("fs.state_dir.tmpfs", Severity::warn);
  fs::remove_all(tmpl);
}

TEST_F(AuditTest, NoWpcSignersIsCriticalAndExitsOne) {
  config_["wpc_signers"] = Json::array();
  write_config();
  expect_finding("trust.wpc_signers_missing", Severity::critical);
  auto run = run_clawjail({"audit", "--config", config_path().string()});
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.out.find("critical trust.wpc_signers_missing"), std::string::npos) << run.out;
}

TEST_F(AuditTest, NoCstIssuerIsCritical) {
  config_["cst_issuers"] = Json::array();
  write_config();
  expect_finding("trust.cst_issuers_missing", Severity::critical);
}

TEST_F(AuditTest, LongTokenLifetimeIsWarned) {
  config_["cst_max_lifetime_s"] = 86400;
  write_config();
  expect_finding("trust.cst_lifetime_long", Severity::warn);
}

TEST_F(AuditTest, PinnedHashMissingFromTheStoreIsWarned) {
  std::string hash = install(payload("pinned"));
  config_["pinned_wpc_hashes"] = {hash, std::string(43, 'A')};
  write_config();
  expect_finding("trust.wpc_pinned", Severity::info);
  auto report = audit();
  int missing = 0;
  for (const auto& f : report.findings)
    if (f.check_id == "trust.pinned_wpc_missing") {
      ++missing;
      EXPECT_NE(f.detail.find(std::string(43, 'A')), std::string::npos);
    }
  EXPECT_EQ(missing, 1);
}

TEST_F(AuditTest, UnknownLogLevelIsWarned) {
  config_["log_level"] = "loud";
  write_config();
  expect_finding("config.log_level_invalid", Severity::warn);
}

TEST_F(AuditTest, SensitiveRootfsBindIsCritical) {
  config_["jail"] = {{"rootfs_binds", {"/usr", "/etc"}}};
  write_config();
  expect_finding("jail.rootfs_bind_sensitive", Severity::critical);
}

TEST_F(AuditTest, UidRangeContainingAnAccountIsCritical) {
  write_text(root_ / "etc" / "passwd", "root:x:0:0::/root:/bin/sh\nagent:x:100500:100500::/home/agent:/bin/sh\n", 0644);
  host_.passwd = root_ / "etc" / "passwd";
  config_["jail"] = {{"uid_range", "100000:65536"}};
  write_config();
  expect_finding("jail.uid_range_overlaps_user", Severity::critical);
  config_["jail"] = {{"uid_range", "200000:65536"}};
  write_config();
  expect_no_finding("jail.uid_range_overlaps_user");
}

TEST_F(AuditTest, UidRangeOverlappingSubordinateUidsIsWarned) {
  write_text(root_ / "etc" / "subuid", "root:100000:65536\nalice:165000:65536\n", 0644);
  host_.subuid = root_ / "etc" / "subuid";
  host_.passwd = root_ / "etc" / "no-passwd";
  config_["jail"] = {{"uid_range", "150000:65536"}};
  write_config();
  expect_finding("jail.uid_range_overlaps_subuid", Severity::warn);
  auto report = audit();
  EXPECT_NE(find(report, "jail.uid_range_overlaps_subuid")->detail.find("alice"), std::string::npos);
}

// The default stays clear of what useradd gives users: the first at 100000, the last
// below SUB_UID_MAX (600100000), 65536 each.
TEST_F(AuditTest, DefaultUidRangeClearsUseraddSubordinateIds) {
  write_text(root_ / "etc" / "subuid", "alice:100000:65536\nbob:165536:65536\nlast:600034464:65536\n", 0644);
  host_.subuid = root_ / "etc" / "subuid";
  host_.passwd = root_ / "etc" / "no-passwd";
  write_config();  // no jail.uid_range: the built-in default (packaging/config.json names the same)
  expect_no_finding("jail.uid_range_overlaps_subuid");
  expect_no_finding("jail.uid_range_overlaps_user");
}

TEST_F(AuditTest, MissingSocketIsInfo) { expect_finding("socket.missing", Severity::info); }

TEST_F(AuditTest, WorldWritableSocketIsWarned) {
  make_socket(root_ / "run" / "clawjail.sock", 0666);
  expect_finding("socket.perms_world", Severity::warn);
}

TEST_F(AuditTest, PrivateSocketIsNotWarned) {
  make_socket(root_ / "run" / "clawjail.sock", 0660);
  expect_no_finding("socket.perms_world");
  expect_finding("socket.access", Severity::info);
}

TEST_F(AuditTest, SocketPathThatIsNotASocketIsCritical) {
  write_text(root_ / "run" / "clawjail.sock", "", 0600);
  expect_finding("socket.not_socket", Severity::critical);
}

TEST_F(AuditTest, SocketInAWorldWritableDirectoryIsCritical) {
  ASSERT_EQ(::chmod((root_ / "run").c_str(), 0777), 0);
  expect_finding("socket.dir_writable", Severity::critical);
}

TEST_F(AuditTest, StickyWorldWritableDirectoryIsAccepted) {
  ASSERT_EQ(::chmod((root_ / "run").c_str(), 01777), 0);
  expect_no_finding("socket.dir_writable");
}

TEST_F(AuditTest, AllowedClientsAreListed) {
  auto report = audit();
  const audit::Finding* f = find(report, "socket.clients");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("1001"), std::string::npos) << f->detail;
}

TEST_F(AuditTest, WpcWithoutCstIsWarned) {
  auto p = payload("no-cst");
  p["tokens"]["require_cst"] = false;
  install(p);
  expect_finding("wpc.require_cst_false", Severity::warn);
}

TEST_F(AuditTest, WpcWithoutPinIsWarned) {
  auto p = payload("no-pin");
  p["tokens"].erase("pin_wpc_hash");
  std::string hash = install(p);
  expect_finding("wpc.pin_wpc_hash_missing", Severity::warn);
  auto report = audit();
  EXPECT_NE(find(report, "wpc.pin_wpc_hash_missing")->detail.find(hash), std::string::npos);
}

TEST_F(AuditTest, WpcAllowingElevatedIsWarned) {
  auto p = payload("elevated");
  p["tools"]["elevated"] = {{"enabled", true}};
  install(p);
  expect_finding("wpc.elevated_enabled", Severity::warn);
}

TEST_F(AuditTest, WpcAllowingDockerSocketIsCriticalAndExitsOne) {
  auto p = payload("docker");
  p["tools"]["allow"] = {"read", "docker_socket"};
  p["tools"]["deny"] = {"exec"};
  install(p);
  expect_finding("wpc.docker_socket_allowed", Severity::critical);
  EXPECT_EQ(run_clawjail({"audit", "--config", config_path().string()}).status, 1);
}

TEST_F(AuditTest, WildcardAllowGrantsDockerSocketToo) {
  auto p = payload("star");
  p["tools"]["allow"] = {"*"};
  p["tools"]["deny"] = Json::array();
  install(p);
  expect_finding("wpc.docker_socket_allowed", Severity::critical);
}

TEST_F(AuditTest, DenyWinsOverWildcardAllow) {
  auto p = payload("star-deny");
  p["tools"]["allow"] = {"*"};
  p["tools"]["deny"] = {"docker_socket"};
  install(p);
  expect_no_finding("wpc.docker_socket_allowed");
}

TEST_F(AuditTest, WpcWithExecAndWritableWorkspaceIsWarned) {
  auto p = payload("exec-rw");
  p["tools"]["allow"] = {"exec", "read", "write:workspace"};
  p["tools"]["deny"] = {"docker_socket"};
  p["sandbox"]["workspace_access"] = "rw";
  install(p);
  expect_finding("wpc.exec_rw_workspace", Severity::warn);
}

TEST_F(AuditTest, WpcWithNetworkIsReported) {
  auto p = payload("net");
  p["tools"]["allow"] = {"read", "http:approved_hosts"};
  p["sandbox"]["network"] = {{"approved_hosts", {"api.github.com"}}};
  install(p);
  expect_finding("wpc.network_allowed", Severity::info);
  expect_no_finding("wpc.network_host_loopback");
}

TEST_F(AuditTest, WpcApprovingThisHostsLoopbackIsWarned) {
  auto p = payload("net-loopback");
  p["tools"]["allow"] = {"read", "http:approved_hosts"};
  p["sandbox"]["network"] = {{"approved_hosts", {"api.github.com", "localhost:8080"}}};
  install(p);
  expect_finding("wpc.network_host_loopback", Severity::warn);
}

TEST_F(AuditTest, WpcBindingASensitivePathIsCritical) {
  auto p = payload("bind-etc");
  p["sandbox"]["binds"] = {{{"src", "/etc"}, {"dst", "/host-etc"}, {"mode", "ro"}}};
  install(p);
  expect_finding("wpc.bind_sensitive", Severity::critical);
}

TEST_F(AuditTest, WpcBindingAnSshDirectoryIsCritical) {
  fs::create_directories(root_ / "home" / "agent" / ".ssh");
  auto p = payload("bind-ssh");
  p["sandbox"]["binds"] = {{{"src", (root_ / "home" / "agent" / ".ssh").string()}, {"dst", "/ssh"}, {"mode", "ro"}}};
  install(p);
  expect_finding("wpc.bind_sensitive", Severity::critical);
}

TEST_F(AuditTest, WpcBindingASocketIsCritical) {
  fs::create_directories(root_ / "sockets");
  make_socket(root_ / "sockets" / "docker.sock", 0660);
  auto p = payload("bind-sock");
  p["sandbox"]["binds"] = {{{"src", (root_ / "sockets" / "docker.sock").string()}, {"dst", "/var/run/docker.sock"}}};
  install(p);
  expect_finding("wpc.bind_socket", Severity::critical);
}

TEST_F(AuditTest, WpcWithWritableBindIsWarned) {
  fs::create_directories(root_ / "data");
  auto p = payload("bind-rw");
  p["sandbox"]["binds"] = {{{"src", (root_ / "data").string()}, {"dst", "/data"}, {"mode", "rw"}}};
  install(p);
  expect_finding("wpc.bind_writable", Severity::warn);
  expect_no_finding("wpc.bind_sensitive");
}

TEST_F(AuditTest, TamperedStoreEntryIsCritical) {
  std::string hash = install(payload("original"));
  // Someone rewrote the stored envelope: the file no longer hashes to its name.
  auto path = root_ / "state" / "policies" / (hash + ".json");
  auto other = policy::sign_wpc(payload("swapped"), signer_);
  write_text(path, other.dump(), 0644);
  expect_finding("wpc.store_tampered", Severity::critical);
}

TEST_F(AuditTest, CorruptStoreEntryIsCritical) {
  fs::create_directories(root_ / "state" / "policies");
  write_text(root_ / "state" / "policies" / (std::string(43, 'B') + ".json"), "{not json", 0644);
  expect_finding("wpc.store_corrupt", Severity::critical);
}

TEST_F(AuditTest, WpcFromAnUntrustedSignerIsWarned) {
  install(payload("formerly-trusted"));
  config_["wpc_signers"] = {policy::SecretKey::generate().did()};
  write_config();
  expect_finding("wpc.untrusted_signer", Severity::warn);
}

TEST_F(AuditTest, JournaldMissingIsWarned) {
  host_.journal_socket = root_ / "run" / "no-journal.sock";
  expect_finding("host.journald", Severity::warn);
}

TEST_F(AuditTest, JsonOutputListsEveryFindingWithItsFix) {
  config_["cst_issuers"] = Json::array();
  write_config();
  auto run = run_clawjail({"audit", "--config", config_path().string(), "--json"});
  EXPECT_EQ(run.status, 1);
  auto json = Json::parse(run.out);
  EXPECT_EQ(json["config"], config_path().string());
  int critical = 0, warn = 0, info = 0;
  bool issuers = false;
  for (const auto& f : json["findings"]) {
    for (const char* key : {"checkId", "severity", "title", "detail", "fix"})
      EXPECT_TRUE(f.contains(key) && f[key].is_string()) << f.dump();
    const std::string sev = f["severity"];
    critical += sev == "critical";
    warn += sev == "warn";
    info += sev == "info";
    issuers = issuers || f["checkId"] == "trust.cst_issuers_missing";
  }
  EXPECT_TRUE(issuers) << run.out;
  EXPECT_EQ(json["summary"]["critical"], critical);
  EXPECT_EQ(json["summary"]["warn"], warn);
  EXPECT_EQ(json["summary"]["info"], info);
}

TEST_F(AuditTest, ExitCodeFollowsCriticalFindings) {
  install(payload("sound"));
  // The host may lack something critical (no user namespaces); the exit code must say exactly that.
  host_.journal_socket = audit::HostPaths{}.journal_socket;
  const bool critical = audit().has_critical();
  auto run = run_clawjail({"audit", "--config", config_path().string()});
  EXPECT_EQ(run.status, critical ? 1 : 0) << run.out;
  EXPECT_NE(run.out.find("clawjail audit of " + config_path().string()), std::string::npos) << run.out;
}

TEST_F(AuditTest, ConfigFromTheEnvironmentIsUsed) {
  config_["wpc_signers"] = Json::array();
  write_config();
  ASSERT_EQ(::setenv("CLAWJAIL_CONFIG", config_path().c_str(), 1), 0);
  auto run = run_clawjail({"audit", "--json"});
  ::unsetenv("CLAWJAIL_CONFIG");
  EXPECT_EQ(Json::parse(run.out)["config"], config_path().string());
}

}  // namespace
}  // namespace clawjail
