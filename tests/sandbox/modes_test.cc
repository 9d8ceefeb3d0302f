// Root mode and ordinary-user mode, the host probe, and `clawjail explain`.
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <functional>

#include "policy/canonical_json.h"
#include "policy/json.h"
#include "policy/wpc.h"
#include "tests/sandbox/jail_fixture.h"

extern char** environ;

namespace clawjail::sandbox::testing {
namespace {

int spawn_and_wait(std::vector<std::string> args, std::string* out = nullptr) {
  int fd = memfd_create("out", MFD_CLOEXEC);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, 1);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = -1;
  if (rc == 0) waitpid(pid, &status, 0);
  if (out) *out = slurp(fd);
  close(fd);
  return rc == 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Modes, HostSupportsJailsHere) {
  const HostSupport& h = host_support();
  EXPECT_FALSE(h.problem) << *h.problem;
  EXPECT_TRUE(h.user_namespaces);
  EXPECT_TRUE(h.seccomp_user_notif);
  EXPECT_EQ(h.running_as_root, geteuid() == 0);
  if (h.running_as_root) {
    EXPECT_TRUE(h.cgroup_v1_memory_pids || h.cgroup_v2_delegated);
  }
}

uid_t host_uid_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  uid_t uid = 0;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Uid:", 0) == 0) std::istringstream(line.substr(4)) >> uid;
  return uid;
}

TEST(Modes, AsRootEachRunningJailHasItsOwnHostUid) {
  if (geteuid() != 0) GTEST_SKIP() << "root mode only";
  JailSpec spec = base_spec();
  spec.uid_range = {200000, 1000};
  Command cmd;
  cmd.argv = {"/bin/sleep", "5"};
  auto a = Jail::start(spec, cmd, Io{});
  auto b = Jail::start(spec, cmd, Io{});
  ASSERT_TRUE(a.ok() && b.ok());
  uid_t ua = host_uid_of(a->pid()), ub = host_uid_of(b->pid());
  EXPECT_NE(ua, ub);
  for (uid_t u : {ua, ub}) {
    EXPECT_GE(u, 200000u);
    EXPECT_LT(u, 201000u);
  }
  a->kill();
  b->kill();
  EXPECT_EQ(a->wait().status, RunStatus::killed);
  EXPECT_EQ(b->wait().status, RunStatus::killed);
}

// The whole battery again as an ordinary user: unprivileged user namespaces, own uid mapped,
// no cgroups (rlimits alone hold the limits).
TEST(Modes, HostileBatteryPassesAsAnOrdinaryUser) {
  if (geteuid() != 0) GTEST_SKIP() << "this is the run as an ordinary user";
  std::string self = std::filesystem::read_symlink("/proc/self/exe");
  std::string out;
  int rc = spawn_and_wait({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", self,
                           "--gtest_filter=Hostile.*:FsOps.*:Jail.*:Pty.*:Proc.*:Landlock.*:Egress.*:Modes.HostSupportsJailsHere"},
                          &out);
  // ctest marks a test skipped whenever its output shows gtest's skip marker, even when it
  // failed: the inner run's own skips must not hide this test's failure.
  for (size_t at; (at = out.find("[  SKIPPED ]")) != std::string::npos;) out.replace(at, 12, "[  skipped ]");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("[  PASSED  ]"), std::string::npos) << out;
  EXPECT_EQ(out.find("[  FAILED  ]"), std::string::npos) << out;
}

TEST(Modes, ExplainPrintsTheJailWhoseHashIsTheJailHash) {
  TempDir dir;
  policy::Json payload = {
      {"wpc_version", "v1"},
      {"policy_id", "explain-test"},
      {"issuer_did", "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"},
      {"tools", {{"allow", {"read", "write:workspace"}}, {"deny", {"exec"}}}},
      {"tokens", {{"require_cst", false}}},
      {"sandbox", {{"workspace_access", "ro"}, {"limits", {{"timeout_ms", 5000}}}}}};
  std::ofstream(dir.path() / "wpc.json") << payload.dump();
  std::string out;
  setenv("CLAWJAIL_CONFIG", (dir.path() / "absent.json").c_str(), 1);
  int rc = spawn_and_wait({CLAWJAIL_BINARY, "explain", "--wpc", (dir.path() / "wpc.json").string(), "--workspace",
                           dir.path().string(), "--json"},
                          &out);
  ASSERT_EQ(rc, 0) << out;
  auto j = policy::Json::parse(out);
  auto wpc = policy::parse_wpc_payload(payload);
  ASSERT_TRUE(wpc.ok()) << wpc.error().detail;
  JailSpec spec = spec_from_policy(*wpc, dir.path(), JailSpec{}.rootfs_binds);
  EXPECT_EQ(j["jail_hash_b64u"], jail_hash_b64u(spec));
  EXPECT_EQ(j["jail_hash_b64u"], policy::canonical_hash_b64u(j["jail"]));
  EXPECT_EQ(j["jail"], describe(spec));
  EXPECT_EQ(j["jail"]["exec"], false);
  EXPECT_EQ(j["tools"]["exec"]["decision"], "blocked");
  EXPECT_EQ(j["tools"]["read"]["decision"], "allowed");
  EXPECT_EQ(j["jail"]["limits"]["timeout_ms"], 5000);
  std::string text;
  ASSERT_EQ(spawn_and_wait({CLAWJAIL_BINARY, "explain", "--wpc", (dir.path() / "wpc.json").string()}, &text), 0);
  EXPECT_NE(text.find("/workspace  bind ro"), std::string::npos) << text;
  EXPECT_NE(text.find("exec refused"), std::string::npos) << text;
  // The /proc hardening and the Landlock layer are part of the hashed jail; whether this host
  // applies Landlock is said beside it.
  EXPECT_NE(text.find("read-only: /proc/sys"), std::string::npos) << text;
  EXPECT_NE(text.find("masked (/dev/null): /proc/kcore"), std::string::npos) << text;
  EXPECT_NE(text.find(host_support().landlock_abi > 0 ? "landlock: on (ABI " : "landlock: off"), std::string::npos)
      << text;
  EXPECT_EQ(j["host"]["landlock_abi"], host_support().landlock_abi);
  EXPECT_EQ(j["jail"]["landlock"]["read_write"], Json::array({"/tmp"}));
}

// Each distinct spec is described and hashed once (the hash is asked for on every call): a spec
// that differs in any one field must get the hash of its own description, never a remembered one.
TEST(Modes, TheJailHashIsAlwaysTheHashOfTheSpecsOwnDescription) {
  JailSpec base;
  base.workspace = "/tmp/ws";
  base.workspace_access = policy::WorkspaceAccess::ro;
  const std::string base_hash = jail_hash_b64u(base);
  EXPECT_EQ(base_hash, policy::canonical_hash_b64u(describe(base)));
  std::vector<std::function<void(JailSpec&)>> changes = {
      [](JailSpec& s) { s.workspace = "/tmp/other"; },
      [](JailSpec& s) { s.workspace_access = policy::WorkspaceAccess::rw; },
      [](JailSpec& s) { s.rootfs_binds.push_back("/opt"); },
      [](JailSpec& s) { s.binds.push_back({"/srv/data", "/data", false}); },
      [](JailSpec& s) { s.binds.push_back({"/srv/data", "/data", true}); },
      [](JailSpec& s) { s.allow_exec = false; },
      [](JailSpec& s) { s.allow_docker_socket = true; },
      [](JailSpec& s) { s.network = true, s.approved_hosts = {"api.github.com"}; },
      [](JailSpec& s) { s.network = true, s.approved_hosts = {"example.org"}; },
      [](JailSpec& s) { s.elevated = true; },
      [](JailSpec& s) { s.limits.timeout_ms += 1; },
      [](JailSpec& s) { s.limits.memory_mb += 1; },
      [](JailSpec& s) { s.limits.pids += 1; },
      [](JailSpec& s) { s.limits.cpu_seconds += 1; },
      [](JailSpec& s) { s.limits.output_bytes += 1; },
      [](JailSpec& s) { s.limits.file_size_mb += 1; },
      [](JailSpec& s) { s.limits.tmpfs_mb += 1; },
      [](JailSpec& s) { s.limits.open_files += 1; },
      [](JailSpec& s) { s.uid_range.first += 65536; },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    JailSpec changed = base;
    changes[i](changed);
    for (int twice = 0; twice < 2; ++twice) {
      EXPECT_EQ(jail_hash_b64u(changed), policy::canonical_hash_b64u(describe(changed))) << "change " << i;
      EXPECT_NE(jail_hash_b64u(changed), base_hash) << "change " << i;
    }
  }
  EXPECT_EQ(jail_hash_b64u(base), base_hash);
}

TEST(Modes, SpecFromPolicyFollowsTheWpc) {
  policy::Policy wpc;
  wpc.allow = {"exec", "http:approved_hosts", "docker_socket"};
  wpc.sandbox.workspace_access = policy::WorkspaceAccess::rw;
  wpc.sandbox.approved_hosts = {"api.github.com"};
  wpc.sandbox.limits.pids = 7;
  JailSpec spec = spec_from_policy(wpc, "/tmp/ws", {"/usr"});
  EXPECT_TRUE(spec.allow_exec);
  EXPECT_TRUE(spec.network);
  EXPECT_TRUE(spec.allow_docker_socket);
  EXPECT_EQ(spec.limits.pids, 7);
  EXPECT_EQ(spec.workspace, "/tmp/ws");
  wpc.deny = {"exec", "docker_socket"};
  spec = spec_from_policy(wpc, "/tmp/ws", {"/usr"});
  EXPECT_FALSE(spec.allow_exec);
  EXPECT_FALSE(spec.allow_docker_socket);
  EXPECT_NE(jail_hash_b64u(spec), jail_hash_b64u(spec_from_policy(policy::Policy{}, "", {"/usr"})));
}

}  // namespace
}  // namespace clawjail::sandbox::testing
