// One test per attack (docs/jail.md): each attempt runs for real inside a jail and must fail, and the
// outcome (what the receipt's `result` carries) must say so.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <csignal>
#include <fstream>
#include <random>

#include "tests/sandbox/jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

bool root() { return geteuid() == 0; }

// Whether this kernel runs i386 system calls at all: without IA32 emulation `int 0x80` faults
// (SIGSEGV) before any seccomp filter sees it, so there is no i386 ABI to refuse.
bool kernel_runs_i386_syscalls() {
  pid_t pid = fork();
  if (pid == 0) {
    ::signal(SIGSEGV, SIG_DFL);  // a sanitizer's handler would report the fault and exit
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");  // i386 getpid
    _exit(ret > 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string marker() {
  return "clawjail-marker-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}());
}

TEST(Hostile, RunsAsUnprivilegedUidWithNoCapabilities) {
  Ran r = hostile(helper_spec(), {"ids"});
  ASSERT_EQ(r.outcome.status, RunStatus::success) << r.err << (r.outcome.error ? r.outcome.error->detail : "");
  EXPECT_TRUE(has_line(r.out, "uid=1000 euid=1000 gid=1000")) << r.out;
  EXPECT_TRUE(has_line(r.out, "CapEff:\t0000000000000000")) << r.out;
  EXPECT_TRUE(has_line(r.out, "CapPrm:\t0000000000000000")) << r.out;
  EXPECT_TRUE(has_line(r.out, "CapBnd:\t0000000000000000")) << r.out;
  EXPECT_TRUE(has_line(r.out, "CapAmb:\t0000000000000000")) << r.out;
  EXPECT_TRUE(has_line(r.out, "NoNewPrivs:\t1")) << r.out;
  EXPECT_TRUE(has_line(r.out, "Seccomp:\t2")) << r.out;
}

TEST(Hostile, SeesOnlyItsOwnPidNamespace) {
  Ran r = sh(base_spec(), "echo $$; ls /proc | grep -c '^[0-9]'");
  // The worker is pid 2 (init is 1); only the jail's handful of processes exist.
  std::istringstream in(r.out);
  int self = 0, count = 0;
  in >> self >> count;
  EXPECT_EQ(self, 2) << r.out;
  EXPECT_LE(count, 4) << r.out;
}

TEST(Hostile, CannotSignalInitOrHostProcesses) {
  Ran r = hostile(helper_spec(), {"privileged"});
  // The kernel accepts SIGKILL to a pid namespace's init from inside and drops it: had init died,
  // the kernel would have killed the helper with it, and its next probe would be missing.
  EXPECT_TRUE(has_line(r.out, "kill_init=OK")) << r.out;
  EXPECT_NE(r.out.find("\npersonality="), std::string::npos) << "the jail died with its init:\n" << r.out;
  Ran host = sh(base_spec(), "kill -0 " + std::to_string(getpid()) + " 2>&1; echo rc=$?");
  // the supervisor's pid does not exist here
  EXPECT_NE(host.out.find("rc=1"), std::string::npos) << host.out << host.err << host.outcome.to_json().dump();
}

TEST(Hostile, CannotReachTheHostNetwork) {
  int srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(srv, 1), 0);
  socklen_t len = sizeof a;
  getsockname(srv, reinterpret_cast<sockaddr*>(&a), &len);
  std::string port = std::to_string(ntohs(a.sin_port));
  Ran no_net = hostile(helper_spec(), {"connect", "127.0.0.1", port});
  EXPECT_TRUE(has_line(no_net.out, "connect=EPERM")) << no_net.out;  // AF_INET refused without network
  JailSpec net = helper_spec();
  net.network = true;
  Ran with_net = hostile(net, {"connect", "127.0.0.1", port});
  EXPECT_TRUE(has_line(with_net.out, "connect=ECONNREFUSED")) << with_net.out;  // the jail's own lo
  Ran out = hostile(net, {"connect", "1.1.1.1", "443"});
  EXPECT_TRUE(has_line(out.out, "connect=ENETUNREACH")) << out.out;
  Ran ifaces = sh(net, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  EXPECT_EQ(ifaces.out, "lo\n");
  close(srv);
}

TEST(Hostile, CannotReadShadowOrTheSupervisorKey) {
  TempDir state;
  std::ofstream(state.path() / "supervisor.key") << "SECRET";
  Ran r = sh(base_spec(), "cat /etc/shadow; cat " + (state.path() / "supervisor.key").string() + "; ls /etc");
  EXPECT_EQ(r.out.find("SECRET"), std::string::npos);
  EXPECT_EQ(r.out.find("shadow"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("No such file"), std::string::npos) << r.err;
}

TEST(Hostile, CannotWriteUsrOrTheRoot) {
  Ran r = sh(base_spec(), "touch /usr/pwned; echo rc=$?; touch /pwned; echo rc=$?; touch /tmp/ok; echo rc=$?");
  EXPECT_EQ(r.out, "rc=1\nrc=1\nrc=0\n") << r.err;
  EXPECT_FALSE(std::filesystem::exists("/usr/pwned"));
}

TEST(Hostile, SetuidBinaryGainsNothing) {
  TempDir ws;
  std::filesystem::copy_file(helper_host_path(), ws.path() / "suid");
  ASSERT_EQ(chmod((ws.path() / "suid").c_str(), 04755), 0);
  JailSpec spec = helper_spec();
  spec.workspace = ws.path();
  spec.workspace_access = policy::WorkspaceAccess::ro;
  Ran r = run_in_jail(spec, {"/workspace/suid", "ids"});
  EXPECT_TRUE(has_line(r.out, "uid=1000 euid=1000 gid=1000")) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "CapEff:\t0000000000000000")) << r.out;
  Ran su = sh(base_spec(), "ls -l /usr/bin/passwd; /usr/bin/passwd -S root; id -u");
  EXPECT_TRUE(has_line(su.out, "1000")) << su.out << su.err;
}

// Every way to give a file S_ISUID or S_ISGID is refused and counted; the host sees no such bit.
TEST(Hostile, SetIdFilesCannotBeMade) {
  TempDir ws;
  JailSpec spec = base_spec();
  spec.workspace = ws.path();
  spec.workspace_access = policy::WorkspaceAccess::rw;
  Ran r = sh(spec,
             "cd /workspace; cp /bin/true f; chmod u+s f; echo chmod=$?; chmod g+s f; echo chmodg=$?; "
             "perl -e '$p = \"f\"; syscall(452, -100, $p, 04755, 0) == -1 and print \"fchmodat2=$!\\n\"'; "
             "perl -e 'open(my $h, \"<\", \"f\"); syscall(91, fileno($h), 02755) == -1 and print \"fchmod=$!\\n\"'; "
             "perl -e 'use Fcntl; sysopen(F, \"c\", O_CREAT|O_WRONLY, 04755) or print \"creat=$!\\n\"'; "
             "perl -e '$p = \"n\"; syscall(133, $p, 0100000|06755, 0) == -1 and print \"mknod=$!\\n\"'; "
             "mkdir d; chmod 2775 d; echo chmoddir=$?; cp /bin/true /tmp/t; chmod 4755 /tmp/t; echo tmp=$?");
  EXPECT_EQ(r.out,
            "chmod=1\nchmodg=1\nfchmodat2=Operation not permitted\nfchmod=Operation not permitted\n"
            "creat=Operation not permitted\nmknod=Operation not permitted\nchmoddir=1\ntmp=1\n")
      << r.err;
  for (const char* call : {"fchmodat", "fchmodat2", "fchmod", "openat", "mknod"}) EXPECT_TRUE(r.violated(call)) << call;
  for (const char* name : {"f", "d"}) {
    struct stat st {};
    ASSERT_EQ(stat((ws.path() / name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u) << name;
  }
  EXPECT_FALSE(std::filesystem::exists(ws.path() / "c"));
  EXPECT_FALSE(std::filesystem::exists(ws.path() / "n"));
}

TEST(Hostile, PrivilegedSyscallsAreRefusedAndCounted) {
  Ran r = hostile(helper_spec(), {"privileged"});
  ASSERT_EQ(r.outcome.status, RunStatus::success) << r.err;
  for (const char* call : {"mount", "unshare", "setns", "ptrace", "bpf", "keyctl", "perf_event_open",
                           "clone_newuser", "io_uring_setup", "socket_netlink", "socket_packet",
                           "socket_inet", "personality"})
    EXPECT_TRUE(has_line(r.out, std::string(call) + "=EPERM")) << call << "\n" << r.out;
  EXPECT_TRUE(has_line(r.out, "clone3=ENOSYS")) << r.out;
  EXPECT_TRUE(has_line(r.out, "socket_unix=OK")) << r.out;
  for (const char* call : {"mount", "unshare", "setns", "ptrace", "bpf", "keyctl", "perf_event_open", "clone",
                           "io_uring_setup", "socket", "personality"})
    EXPECT_TRUE(r.violated(call)) << call;
  EXPECT_FALSE(r.violated("clone3"));
  EXPECT_NE(r.outcome.to_json().dump().find("\"syscall\":\"ptrace\""), std::string::npos);
}

TEST(Hostile, I386SyscallKillsTheProcess) {
  Ran r = hostile(helper_spec(), {"i386"});
  EXPECT_EQ(r.out.find("survived"), std::string::npos) << r.out;
  if (!kernel_runs_i386_syscalls())
    GTEST_SKIP() << "this kernel has no IA32 emulation: int 0x80 faults before seccomp (signal "
                 << r.outcome.signal << " in the jail); the call did not run";
  EXPECT_EQ(r.outcome.signal, SIGSYS);
  EXPECT_EQ(r.outcome.status, RunStatus::error);
}

TEST(Hostile, X32SyscallKillsTheProcess) {
  Ran r = hostile(helper_spec(), {"x32"});
  EXPECT_EQ(r.out.find("survived"), std::string::npos) << r.out;
  EXPECT_EQ(r.outcome.signal, SIGSYS);
}

TEST(Hostile, TiocstiIsRefusedEvenWithHighBitsSet) {
  Ran r = hostile(helper_spec(), {"tiocsti"});
  EXPECT_TRUE(has_line(r.out, "tiocsti=EPERM")) << r.out;
  EXPECT_TRUE(has_line(r.out, "tiocsti_high_bits=EPERM")) << r.out;
  EXPECT_TRUE(has_line(r.out, "tioclinux=EPERM")) << r.out;
  ASSERT_FALSE(r.outcome.violations.empty());
  EXPECT_TRUE(r.violated("ioctl"));
}

TEST(Hostile, CannotTamperWithTheJailsInit) {
  Ran r = sh(base_spec(), "(cat /proc/1/environ; echo x > /proc/1/mem) 2>/dev/null || echo refused; ls -l /proc/1/mem | cut -d' ' -f3");
  EXPECT_EQ(r.out.substr(0, 8), "refused\n") << r.out;
  EXPECT_EQ(r.out.find("clawjail\n"), std::string::npos) << r.out;  // not owned by the jail user
}

// As root the jail's init runs in the supervisor's own memory (runner.cc): none of it may be
// readable from the jail, not even the parts /proc hands to the same uid.
TEST(Hostile, CannotReadTheInitsMemoryOrItsMaps) {
  Ran r = sh(base_spec(), "for f in mem maps smaps environ auxv stack syscall pagemap; do "
                          "head -c 64 /proc/1/$f >/dev/null 2>&1 && echo read $f; done; echo done");
  EXPECT_EQ(r.out, "done\n");
}

TEST(Hostile, HasNoControllingTerminal) {
  // setsid() in the worker: even a supervisor started from a terminal gives the jail none.
  Ran r = sh(base_spec(), "(echo x > /dev/tty) 2>/dev/null || echo none; cat /proc/self/stat | cut -d' ' -f7");
  EXPECT_EQ(r.out, "none\n0\n");
}

TEST(Hostile, ExecIsRefusedWhenThePolicyDeniesIt) {
  JailSpec spec = helper_spec();
  spec.allow_exec = false;
  Ran r = hostile(spec, {"ids"});
  EXPECT_EQ(r.outcome.status, RunStatus::error);
  EXPECT_TRUE(r.outcome.error);
  EXPECT_TRUE(r.violated("execve"));
  EXPECT_EQ(r.out, "");
  Ran allowed = hostile(helper_spec(), {"exec"});
  EXPECT_EQ(allowed.outcome.status, RunStatus::success);  // /bin/true ran
}

TEST(Hostile, WorkspaceAccessIsHonoured) {
  TempDir ws;
  std::ofstream(ws.path() / "in.txt") << "data";
  JailSpec spec = base_spec();
  spec.workspace = ws.path();
  spec.workspace_access = policy::WorkspaceAccess::none;
  EXPECT_EQ(sh(spec, "test -e /workspace; echo $?").out, "1\n");
  spec.workspace_access = policy::WorkspaceAccess::ro;
  Ran ro = sh(spec, "cat /workspace/in.txt; (echo x > /workspace/new) 2>/dev/null || echo refused");
  EXPECT_EQ(ro.out, "datarefused\n") << ro.err;
  EXPECT_FALSE(std::filesystem::exists(ws.path() / "new"));
  spec.workspace_access = policy::WorkspaceAccess::rw;
  Ran rw = sh(spec, "echo hi > /workspace/new && mkdir /workspace/d && echo rc=$?");
  EXPECT_EQ(rw.out, "rc=0\n") << rw.err;
  EXPECT_TRUE(std::filesystem::exists(ws.path() / "new"));
}

TEST(Hostile, WritableWorkspaceIsNoexecWhenExecDenied) {
  TempDir ws;
  std::filesystem::copy_file(helper_host_path(), ws.path() / "h");
  JailSpec spec = base_spec();
  spec.workspace = ws.path();
  spec.workspace_access = policy::WorkspaceAccess::rw;
  spec.allow_exec = false;
  Ran r = run_in_jail(spec, {"/workspace/h", "ids"});
  EXPECT_EQ(r.outcome.status, RunStatus::error);
  EXPECT_EQ(r.out, "");
}

TEST(Hostile, SymlinkInWorkspaceCannotReachHostFileThroughExec) {
  TempDir ws, outside;
  std::ofstream(outside.path() / "secret") << "HOSTSECRET";
  std::filesystem::create_symlink(outside.path() / "secret", ws.path() / "link");
  JailSpec spec = base_spec();
  spec.workspace = ws.path();
  spec.workspace_access = policy::WorkspaceAccess::rw;
  Ran r = sh(spec, "cat /workspace/link");
  EXPECT_EQ(r.out.find("HOSTSECRET"), std::string::npos);
}

TEST(Hostile, BindOfAUnixSocketIsRefused) {
  TempDir dir;
  std::string path = (dir.path() / "docker.sock").string();
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::filesystem::create_symlink(path, dir.path() / "innocent");
  JailSpec spec = base_spec();
  for (const auto& src : {path, (dir.path() / "innocent").string()}) {
    spec.binds = {{src, "/opt/sock", false}};
    EXPECT_EQ(check_binds(spec).reason(), Reason::BIND_REFUSED_SOCKET) << src;
    Ran r = sh(spec, "true");
    ASSERT_TRUE(r.outcome.error);
    EXPECT_EQ(r.outcome.error->reason, Reason::BIND_REFUSED_SOCKET);
  }
  spec.allow_docker_socket = true;
  auto allowed = check_binds(spec);
  ASSERT_TRUE(allowed.ok());
  EXPECT_TRUE(allowed->binds_socket);
  close(s);
}

TEST(Hostile, BindOfSensitivePathsIsRefused) {
  TempDir home;
  std::filesystem::create_directory(home.path() / ".ssh");
  std::filesystem::create_symlink("/etc", home.path() / "etc-link");
  JailSpec spec = base_spec();
  spec.protected_paths = {home.path() / "state"};
  std::filesystem::create_directory(home.path() / "state");
  for (const std::string& src : std::vector<std::string>{"/etc", "/", "/proc/1/root", "/run", "/var/run", "/sys", "/dev",
                                (home.path() / "etc-link").string(), home.path().string(),
                                (home.path() / ".ssh").string(), (home.path() / "state").string()}) {
    spec.binds = {{src, "/opt/x", false}};
    EXPECT_EQ(check_binds(spec).reason(), Reason::BIND_REFUSED_SENSITIVE) << src;
  }
  spec.binds = {{"/nonexistent-clawjail", "/opt/x", false}};
  EXPECT_EQ(check_binds(spec).reason(), Reason::BIND_SOURCE_MISSING);
  spec.binds = {{"/usr/share", "/proc/x", false}};
  EXPECT_EQ(check_binds(spec).reason(), Reason::BIND_INVALID);
}

// A caller that names no protected paths still protects the installed supervisor's files: the
// safe value is JailSpec's default (docs/jail.md "Filesystem").
TEST(Hostile, TheInstalledSupervisorsFilesAreProtectedWithoutBeingNamed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: the test makes a directory in /var/lib/clawjail";
  const std::filesystem::path state = "/var/lib/clawjail";
  const bool created = !std::filesystem::exists(state);
  const auto inside = state / ("hostile-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(inside);
  JailSpec spec = base_spec();
  spec.binds = {{inside.string(), "/opt/x", false}};
  EXPECT_EQ(check_binds(spec).reason(), Reason::BIND_REFUSED_SENSITIVE);
  JailSpec ws_spec = base_spec();
  ws_spec.workspace_access = policy::WorkspaceAccess::rw;
  ws_spec.workspace = inside;
  EXPECT_EQ(check_binds(ws_spec).reason(), Reason::WORKSPACE_INVALID);
  // What refused them is the default list: emptied, the same directory binds.
  spec.protected_paths.clear();
  EXPECT_TRUE(check_binds(spec).ok());
  std::filesystem::remove(inside);
  if (created) std::filesystem::remove(state);
}

TEST(Hostile, ForkBombEndsAsLimit) {
  JailSpec spec = helper_spec();
  spec.limits.pids = 32;
  spec.limits.timeout_ms = 10000;
  Ran r = hostile(spec, {"forkbomb"});
  EXPECT_NE(r.out.find("fork failed"), std::string::npos) << r.out;
  if (root()) EXPECT_EQ(r.outcome.status, RunStatus::limit);  // seen through the pids cgroup
  else EXPECT_EQ(r.outcome.status, RunStatus::error);          // rlimit only: contained, not observable
}

TEST(Hostile, MemoryBombEndsAsLimit) {
  JailSpec spec = helper_spec();
  spec.limits.memory_mb = 64;
  Ran r = hostile(spec, {"membomb"});
  if (root()) EXPECT_EQ(r.outcome.status, RunStatus::limit) << r.out;
  else EXPECT_NE(r.out.find("malloc failed"), std::string::npos) << r.out;
}

TEST(Hostile, EndlessLoopTimesOutAndNothingSurvives) {
  JailSpec spec = base_spec();
  spec.limits.timeout_ms = 1000;
  std::string m = marker();
  Ran r = bash(spec, "(exec -a " + m + " sleep 1000) & exec -a " + m + " sh -c 'while :; do :; done'");
  EXPECT_EQ(r.outcome.status, RunStatus::timeout);
  EXPECT_GE(r.outcome.duration_ms, 1000);
  EXPECT_LT(r.outcome.duration_ms, 5000);
  EXPECT_EQ(count_host_processes_with(m), 0);
}

TEST(Hostile, BackgroundProcessDiesWithTheCall) {
  std::string m = marker();
  Ran r = bash(base_spec(), "(exec -a " + m + " sleep 1000) & echo started");
  EXPECT_EQ(r.outcome.status, RunStatus::success);
  EXPECT_EQ(count_host_processes_with(m), 0);
}

TEST(Hostile, CpuHogEndsAsLimit) {
  JailSpec spec = helper_spec();
  spec.limits.cpu_seconds = 1;
  Ran r = hostile(spec, {"spin"});
  EXPECT_EQ(r.outcome.status, RunStatus::limit);
  EXPECT_EQ(r.outcome.signal, SIGXCPU);
}

TEST(Hostile, DiskFillerIsLimitedByFileSizeAndTmpfsSize) {
  JailSpec spec = helper_spec();
  spec.limits.file_size_mb = 2;
  Ran big = hostile(spec, {"fill", "/tmp/f"});
  EXPECT_NE(big.out.find("wrote 2097152 bytes then EFBIG"), std::string::npos) << big.out;
  spec.limits.file_size_mb = 64;
  spec.limits.tmpfs_mb = 4;
  Ran full = hostile(spec, {"fill", "/tmp/f"});
  EXPECT_NE(full.out.find("ENOSPC"), std::string::npos) << full.out;
  Ran killed = sh(helper_spec(), "ulimit -f 1024; exec head -c 2000000 /dev/zero > /tmp/x");
  EXPECT_EQ(killed.outcome.status, RunStatus::limit);
  EXPECT_EQ(killed.outcome.signal, SIGXFSZ);
}

TEST(Hostile, OutputBeyondTheCapIsCut) {
  JailSpec spec = base_spec();
  spec.limits.output_bytes = 1000;
  Ran r = sh(spec, "head -c 5000 /dev/zero; head -c 10 /dev/zero >&2");
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_EQ(r.outcome.stdout_bytes, 1000);
  EXPECT_EQ(r.outcome.stderr_bytes, 0);
  EXPECT_TRUE(r.outcome.output_truncated);
  EXPECT_EQ(r.outcome.to_json()["output_truncated"], true);
}

TEST(Hostile, AStalledReaderCannotStopTheTimeout) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);  // nobody ever reads p[0]
  Command cmd;
  cmd.argv = {"/usr/bin/yes"};
  JailSpec spec = base_spec();
  spec.limits.timeout_ms = 1000;
  auto jail = Jail::start(spec, cmd, Io{-1, p[1], -1, false});
  ASSERT_TRUE(jail.ok());
  Outcome o = jail->wait();
  EXPECT_EQ(o.status, RunStatus::timeout);
  EXPECT_LT(o.duration_ms, 4000);
  close(p[0]);
  close(p[1]);
}

TEST(Hostile, KillKillsTheWholeTree) {
  std::string m = marker();
  Command cmd;
  cmd.argv = {"/bin/bash", "-c", "(exec -a " + m + " sleep 1000) & (exec -a " + m + " sleep 1000) & wait"};
  auto jail = Jail::start(base_spec(), cmd, Io{});
  ASSERT_TRUE(jail.ok()) << jail.error().detail;
  for (int i = 0; i < 100 && count_host_processes_with(m) < 2; ++i) usleep(20000);
  EXPECT_GE(count_host_processes_with(m), 2);  // the two sleeps (and bash, whose -c names the marker)
  jail->kill();
  Outcome o = jail->wait();
  EXPECT_EQ(o.status, RunStatus::killed);
  EXPECT_EQ(count_host_processes_with(m), 0);
}

TEST(Hostile, DroppingTheJailKillsTheTree) {
  std::string m = marker();
  {
    Command cmd;
    // The marker comes through the environment so that only the exec'd sleep carries it: with it
    // in bash's own argv the count could see bash, then nothing while bash execs.
    cmd.argv = {"/bin/bash", "-c", "exec -a \"$MARKER\" sleep 1000"};
    cmd.env["MARKER"] = m;
    auto jail = Jail::start(base_spec(), cmd, Io{});
    ASSERT_TRUE(jail.ok());
    for (int i = 0; i < 100 && count_host_processes_with(m) < 1; ++i) usleep(20000);
    EXPECT_EQ(count_host_processes_with(m), 1);
  }
  EXPECT_EQ(count_host_processes_with(m), 0);
}

TEST(Hostile, NoDescriptorOfTheSupervisorLeaksIn) {
  int leaked = open("/etc/hostname", O_RDONLY);  // deliberately not O_CLOEXEC
  ASSERT_GE(leaked, 0);
  Ran r = hostile(helper_spec(), {"fds"});
  EXPECT_EQ(r.out, "fd 0\nfd 1\nfd 2\n");
  close(leaked);
}

}  // namespace
}  // namespace clawjail::sandbox::testing
