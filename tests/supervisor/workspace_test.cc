// The host directory a call names as its workspace, attacked by the client that names it: a
// symlink swapped in while the call is admitted, a system tree, a path below a sensitive one.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "fixture.h"
#include "sandbox/jail.h"
#include "supervisor/audit/checks.h"

namespace clawjail::test {
namespace {

constexpr uid_t kClientUid = 4242;  // in clients.uids, owns nothing but what the test gives it

class Workspace : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    demo::WorldOptions options;
    options.client_uids = {kClientUid};
    make_world(options);
    start_supervisor();
  }
  // `clawjail run` as the unprivileged client, with its own token.
  Captured run_as_client(const std::string& job, const fs::path& workspace, std::vector<std::string> command) {
    auto cst = job_token(job);
    EXPECT_EQ(::chown(cst.c_str(), kClientUid, kClientUid), 0);
    // The client is in the socket's group, as a listed client must be to reach it (0660).
    struct stat sock{};
    EXPECT_EQ(::stat(world.socket.c_str(), &sock), 0);
    std::vector<std::string> args = {"/usr/bin/setpriv", "--reuid=" + std::to_string(kClientUid),
                                     "--regid=" + std::to_string(kClientUid),
                                     "--groups=" + std::to_string(sock.st_gid), "--",
                                     CLAWJAIL_BINARY, "run", "--socket", world.socket.string(), "--job", job,
                                     "--cst-file", cst.string(), "--workspace", workspace.string(), "--"};
    args.insert(args.end(), command.begin(), command.end());
    auto c = run_captured(args, {}, std::chrono::seconds(60));
    EXPECT_TRUE(c.ok()) << c.error().detail;
    return c.ok() ? c.value() : Captured{};
  }
};

// A child process of the client's uid that swaps `a` and `b` (RENAME_EXCHANGE) until killed.
struct Swapper {
  pid_t pid = -1;
  Swapper(const fs::path& a, const fs::path& b) {
    pid = ::fork();
    if (pid != 0) return;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kClientUid, kClientUid, kClientUid) != 0 ||
        ::setresuid(kClientUid, kClientUid, kClientUid) != 0)
      _exit(2);
    for (;;) ::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE);
  }
  ~Swapper() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    wait_exit_code(pid);
  }
};

// The client owns `race/` and in it its own directory and a symlink to a root-owned directory
// holding a 0600 secret; it swaps the two while asking for `race/ws` as its workspace. The jail
// must never see the root-owned directory: not read the secret, not create a file in it.
TEST_F(Workspace, SymlinkSwappedDuringAdmissionNeverReachesAnotherOwnersDirectory) {
  const fs::path race = root / "race", secret_dir = root / "root-only";
  fs::create_directories(race / "ws");
  fs::create_directories(secret_dir);
  ASSERT_EQ(::chmod(secret_dir.c_str(), 0755), 0);
  ASSERT_TRUE(demo::write_file(secret_dir / "secret", "ROOT-SECRET-0600\n", 0600).ok());
  ASSERT_EQ(::symlink(secret_dir.c_str(), (race / "other").c_str()), 0);
  for (const auto& p : {race, race / "ws"}) ASSERT_EQ(::chown(p.c_str(), kClientUid, kClientUid), 0);
  ASSERT_EQ(::lchown((race / "other").c_str(), kClientUid, kClientUid), 0);

  Swapper swapper(race / "ws", race / "other");
  int ran = 0, refused_symlink = 0, calls = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(45);
  for (; calls < 150 && std::chrono::steady_clock::now() < deadline; ++calls) {
    auto c = run_as_client("job-race", race / "ws",
                           {"/bin/sh", "-c", "cat /workspace/secret 2>/dev/null; touch /workspace/planted 2>/dev/null; true"});
    ASSERT_EQ(c.out.find("ROOT-SECRET"), std::string::npos) << "call " << calls << " read root's file";
    ASSERT_FALSE(fs::exists(secret_dir / "planted")) << "call " << calls << " wrote into root's directory";
    if (c.exit_code == 0) ++ran;
    if (c.err.find("WORKSPACE_INVALID") != std::string::npos && c.err.find("symlink") != std::string::npos)
      ++refused_symlink;
  }
  // Both sides of the race were hit: calls that got the client's own directory ran, calls
  // that met the symlink were refused for it.
  EXPECT_GT(ran, 0) << calls << " calls";
  EXPECT_GT(refused_symlink, 0) << calls << " calls";
  std::cerr << calls << " calls: " << ran << " ran, " << refused_symlink << " refused for the symlink\n";
}

// A path with a symlink in it is refused for that reason, whoever asks, and so is a symlink one
// call planted in the workspace for a later call to name.
TEST_F(Workspace, PathWithASymlinkIsRefusedWithItsReason) {
  ASSERT_EQ(::symlink(world.workspace.c_str(), (root / "ws-link").c_str()), 0);
  auto linked = run_args("job-link", job_token("job-link"), {"--", "/bin/true"});
  *std::find(linked.begin(), linked.end(), world.workspace.string()) = (root / "ws-link").string();
  auto c = clawjail(linked);
  EXPECT_EQ(c.exit_code, 126) << c.err;
  EXPECT_NE(c.err.find("WORKSPACE_INVALID"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("symlink"), std::string::npos) << c.err;
  auto r = receipts("job-link");
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.back()["phase"], "blocked");
  EXPECT_EQ(r.back()["reason_code"], "WORKSPACE_INVALID");

  fs::create_directories(root / "elsewhere");
  auto plant = clawjail(run_args("job-plant", job_token("job-plant"),
                                 {"--", "/bin/ln", "-s", (root / "elsewhere").string(), "/workspace/sub"}));
  ASSERT_EQ(plant.exit_code, 0) << plant.err;
  auto nested = run_args("job-plant", job_token("job-plant"), {"--", "/bin/touch", "/workspace/reached"});
  *std::find(nested.begin(), nested.end(), world.workspace.string()) = (world.workspace / "sub").string();
  c = clawjail(nested);
  EXPECT_EQ(c.exit_code, 126) << c.err;
  EXPECT_NE(c.err.find("symlink"), std::string::npos) << c.err;
  EXPECT_FALSE(fs::exists(root / "elsewhere" / "reached"));
}

// Even root may not hand a system tree to a jail as its workspace, read-only or not.
TEST_F(Workspace, SystemTreeIsNeverAWorkspace) {
  for (const char* tree : {"/usr", "/usr/lib", "/etc", "/boot", "/opt", "/var/lib", "/var/log", "/bin", "/root", "/home"}) {
    if (!fs::is_directory(tree) || fs::is_symlink(tree)) continue;
    auto args = run_args("job-system", job_token("job-system"), {"--", "/bin/true"});
    *std::find(args.begin(), args.end(), world.workspace.string()) = tree;
    auto c = clawjail(args);
    EXPECT_EQ(c.exit_code, 126) << tree << ": " << c.err;
    EXPECT_NE(c.err.find("WORKSPACE_INVALID"), std::string::npos) << tree << ": " << c.err;
  }
}

// The jail can neither make a set-id file (chmod, fchmodat2, open or mknod with the bits, a
// set-gid directory) nor see one as such: the host sees no set-id bit and the receipt counts
// every attempt.
TEST_F(Workspace, SetIdBitsNeverReachTheHost) {
  const std::string script =
      "cp /bin/true /workspace/suid; chmod 6755 /workspace/suid; "
      "cp /bin/true /workspace/suid2; "
      "perl -e '$p = \"/workspace/suid2\"; syscall(452, -100, $p, 06755, 0)'; "
      "perl -e 'use Fcntl; sysopen(F, \"/workspace/created\", O_CREAT|O_WRONLY, 04755)'; "
      "perl -e '$p = \"/workspace/node\"; syscall(133, $p, 0100000|02755, 0)'; "
      "mkdir /workspace/dir; chmod 2775 /workspace/dir; "
      "grep -E ' /(workspace|tmp) ' /proc/self/mountinfo";
  auto c = clawjail(run_args("job-setid", job_token("job-setid"), {"--", "/bin/sh", "-c", script}));
  for (const char* name : {"suid", "suid2", "created", "node", "dir"}) {
    struct stat st{};
    if (::stat((world.workspace / name).c_str(), &st) != 0) continue;  // refused outright
    EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u) << name << " is " << std::oct << st.st_mode;
  }
  std::istringstream mounts(c.out);
  int seen = 0;
  for (std::string line; std::getline(mounts, line); ++seen)
    EXPECT_TRUE(line.find("nosuid") != std::string::npos && line.find("nodev") != std::string::npos) << line;
  EXPECT_EQ(seen, 2) << c.out << c.err;
  auto r = receipts("job-setid");
  ASSERT_FALSE(r.empty());
  int64_t refused = 0;
  for (const auto& v : r.back()["result"]["violations"]) refused += v["count"].get<int64_t>();
  EXPECT_GE(refused, 5) << r.back().dump();
}

// One list (sandbox::sensitive_entries): each entry is refused at a call and flagged by the
// audit, and so is each of the supervisor's own files.
TEST_F(Workspace, EverySensitivePathIsRefusedAtACallAndFlaggedByTheAudit) {
  const fs::path home = root / "home" / "agent";
  struct Case {
    std::string src;
    bool writable;
  };
  std::vector<Case> cases;
  for (const auto& e : sandbox::sensitive_entries()) {
    const bool rw = !(e.refused_for & static_cast<unsigned>(sandbox::PathUse::bind));
    if (e.path[0] != '/') {
      fs::create_directories(home / e.path);
      cases.push_back({(home / e.path).string(), rw});
      continue;
    }
    std::string src = e.path;
    std::error_code ec;
    if (e.tree)  // something below the tree, a directory (a socket in /run is refused as a socket)
      for (const auto& child : fs::directory_iterator(e.path, ec))
        if (child.is_directory() && !child.is_symlink()) {
          src = child.path().string();
          break;
        }
    cases.push_back({src, rw});
  }
  for (const auto& own : {world.state_dir, world.socket, world.keys_dir / "supervisor.key", world.config_path})
    cases.push_back({own.string(), false});
  std::string job = "job-sensitive";
  for (size_t i = 0; i < cases.size(); ++i) {
    auto payload = demo::wpc_payload(world, {.policy_id = "bind-" + std::to_string(i)});
    payload["sandbox"]["binds"] = {{{"src", cases[i].src}, {"dst", "/mnt/bound"}, {"mode", cases[i].writable ? "rw" : "ro"}}};
    auto hash = demo::install_wpc(world, payload);
    ASSERT_TRUE(hash.ok()) << hash.error().detail;
    auto cst = token_file(job, {.job = job, .policy_hash_b64u = *hash});
    auto c = clawjail(run_args(job, cst, {"--", "/bin/true"}));
    EXPECT_EQ(c.exit_code, 126) << cases[i].src << ": " << c.err;
    EXPECT_NE(c.err.find("BIND_REFUSED_SENSITIVE"), std::string::npos) << cases[i].src << ": " << c.err;
  }
  audit::HostPaths host;
  host.expected_owner = ::geteuid();
  auto report = audit::audit_installation(world.config_path, host);
  for (const auto& c : cases) {
    bool flagged = false;
    for (const auto& f : report.findings)
      flagged = flagged || (f.check_id == "wpc.bind_sensitive" && f.detail.find("bind " + c.src + " ->") != std::string::npos);
    EXPECT_TRUE(flagged) << c.src << " is not flagged by the audit";
  }
}

}  // namespace
}  // namespace clawjail::test
