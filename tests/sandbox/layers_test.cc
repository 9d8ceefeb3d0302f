// The layers under the mounts: /proc's host-facing entries read-only or masked, and Landlock
// refusing writes and exec that the mounts alone would let through. Each attempt runs for real.
#include "tests/sandbox/jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// The options of the mount at `path` as the jail sees it (field 6 of mountinfo).
std::string mount_options_script(const std::string& path) {
  return "awk '$5==\"" + path + "\"{print \"" + path + "=\" $6}' /proc/self/mountinfo";
}

TEST(Proc, SysIsReadableButReadOnly) {
  Ran r = bash(base_spec(), "cat /proc/sys/kernel/ostype; " + mount_options_script("/proc/sys") +
                                "; echo 1 > /proc/sys/kernel/ns_last_pid && echo wrote-ns_last_pid;"
                                " echo x > /proc/sys/net/ipv4/ip_forward && echo wrote-ip_forward;"
                                " touch /proc/sys/new && echo created");
  EXPECT_TRUE(has_line(r.out, "Linux")) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "/proc/sys=ro,")) << r.out;
  EXPECT_FALSE(contains(r.out, "wrote-")) << r.out;
  EXPECT_FALSE(contains(r.out, "created")) << r.out;
}

TEST(Proc, SysrqTriggerIsNotWritable) {
  if (access("/proc/sysrq-trigger", F_OK) != 0) GTEST_SKIP() << "this kernel has no /proc/sysrq-trigger";
  Ran r = bash(base_spec(), mount_options_script("/proc/sysrq-trigger") +
                                "; echo h > /proc/sysrq-trigger && echo wrote-sysrq");
  EXPECT_TRUE(contains(r.out, "/proc/sysrq-trigger=ro,")) << r.out;
  EXPECT_FALSE(contains(r.out, "wrote-sysrq")) << r.out;
}

TEST(Proc, KernelRevealingEntriesAreMasked) {
  Ran r = bash(base_spec(),
               "for f in kcore keys timer_list kallsyms sched_debug; do"
               "  [ -e /proc/$f ] || continue;"
               "  echo \"$f $(stat -c %t:%T /proc/$f) $(head -c 4096 /proc/$f 2>/dev/null | wc -c)\"; done;"
               " ls -A /proc/acpi 2>/dev/null | wc -l; touch /proc/acpi/x 2>/dev/null && echo wrote-acpi");
  // /dev/null (1:3) over each file: nothing to read. Entries the host kernel lacks are skipped.
  if (access("/proc/kcore", F_OK) == 0) {
    EXPECT_TRUE(has_line(r.out, "kcore 1:3 0")) << r.out;
  }
  EXPECT_TRUE(has_line(r.out, "keys 1:3 0")) << r.out;
  EXPECT_TRUE(has_line(r.out, "timer_list 1:3 0")) << r.out;
  EXPECT_TRUE(has_line(r.out, "kallsyms 1:3 0")) << r.out;
  EXPECT_FALSE(contains(r.out, "wrote-acpi")) << r.out;
}

TEST(Proc, DescribeListsTheHardening) {
  Json proc, jail = describe(base_spec());
  for (const auto& m : jail["mounts"])
    if (m["path"] == "/proc") proc = m;
  ASSERT_TRUE(proc.contains("hardening")) << proc.dump();
  EXPECT_NE(proc["hardening"]["read_only"].dump().find("/proc/sys"), std::string::npos);
  EXPECT_NE(proc["hardening"]["masked_by_dev_null"].dump().find("/proc/kcore"), std::string::npos);
}

// /proc is a read-write mount and /proc/self/* belongs to the process itself, so neither the
// mounts nor file permissions stop these writes: only Landlock's rules (read-only under /proc) do.
TEST(Landlock, WritesTheMountsAllowOutsideTheRulesAreRefused) {
  if (host_support().landlock_abi == 0) GTEST_SKIP() << "this kernel has no Landlock";
  Ran r = bash(base_spec(), mount_options_script("/proc") +
                                "; stat -c 'owner=%u mode=%a' /proc/self/comm /proc/self/oom_score_adj;"
                                " echo renamed > /proc/self/comm || echo comm-refused;"
                                " echo 500 > /proc/self/oom_score_adj || echo oom-refused;"
                                " echo x > /dev/null && echo devnull-ok");
  EXPECT_TRUE(contains(r.out, "/proc=rw,")) << r.out;  // the mount does not refuse writes
  EXPECT_TRUE(has_line(r.out, "owner=1000 mode=644")) << r.out;  // nor do permissions
  EXPECT_TRUE(has_line(r.out, "comm-refused")) << r.out;
  EXPECT_TRUE(has_line(r.out, "oom-refused")) << r.out;
  EXPECT_TRUE(contains(r.err, "Permission denied")) << r.err;  // EACCES: Landlock, not EROFS
  EXPECT_TRUE(has_line(r.out, "devnull-ok")) << r.out;
}

TEST(Landlock, WorkspaceAndTmpStayUsable) {
  if (host_support().landlock_abi == 0) GTEST_SKIP() << "this kernel has no Landlock";
  TempDir ws;
  JailSpec spec = base_spec();
  spec.workspace = ws.path();
  spec.workspace_access = policy::WorkspaceAccess::rw;
  Ran r = bash(spec, "set -e; mkdir -p /workspace/a/b; echo x > /workspace/a/f; mv /workspace/a/f /workspace/a/b/g;"
                     " ln -s g /workspace/a/b/l; rm -r /workspace/a; echo t > /tmp/t; truncate -s 0 /tmp/t;"
                     " printf '#!/bin/sh\\necho ran\\n' > /tmp/s; chmod +x /tmp/s; /tmp/s; echo ok");
  EXPECT_EQ(r.outcome.status, RunStatus::success) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "ran")) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "ok")) << r.out << r.err;
}

// When exec is denied, /tmp is noexec (the mount) and Landlock does not grant EXECUTE there either.
TEST(Landlock, DescribeSaysWhereWritesAndExecAreAllowed) {
  JailSpec spec = base_spec();
  spec.allow_exec = false;
  spec.workspace = "/srv/ws";
  spec.workspace_access = policy::WorkspaceAccess::rw;
  Json ll = describe(spec)["landlock"];
  EXPECT_EQ(ll["read_write"], Json::array({"/tmp", "/workspace"})) << ll.dump();
  EXPECT_EQ(ll["execute"], Json(spec.rootfs_binds)) << ll.dump();
}

}  // namespace
}  // namespace clawjail::sandbox::testing
