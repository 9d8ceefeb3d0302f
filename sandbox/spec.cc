// From a WPC to a JailSpec, and the JailSpec as the JSON `clawjail explain` prints and
// jail_hash_b64u hashes. describe() reads only the spec, never the host, so the same WPC gives
// the same jail hash wherever it is explained.
#include <algorithm>

#include "base/bounded_memo.h"
#include "policy/canonical_json.h"
#include "policy/decision.h"
#include "policy/json.h"
#include "policy/wpc.h"
#include "sandbox/egress.h"
#include "sandbox/landlock.h"
#include "sandbox/proc_mask.h"
#include "sandbox/spec.h"

namespace clawjail::sandbox {
namespace {

// The jail's shape follows the WPC's tool scopes, matched as everywhere (policy::scope_matches;
// deny wins). Whether a call may run at all is policy::decide's business.
bool scope_allowed(const policy::Policy& wpc, const std::string& scope) {
  auto match = [&](const std::vector<std::string>& list) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& e) { return policy::scope_matches(e, scope); });
  };
  return match(wpc.allow) && !match(wpc.deny);
}

const char* access_name(policy::WorkspaceAccess a) {
  switch (a) {
    case policy::WorkspaceAccess::ro: return "ro";
    case policy::WorkspaceAccess::rw: return "rw";
    default: return "none";
  }
}

Json mount(const std::string& path, const std::string& type, const std::string& mode, Json flags) {
  return Json{{"path", path}, {"type", type}, {"mode", mode}, {"flags", std::move(flags)}};
}

Json describe_mounts(const JailSpec& spec) {
  const Json ro_flags = Json::array({"ro", "nosuid", "nodev", "recursive"});
  Json writable_flags = Json::array({"nosuid", "nodev"});
  if (!spec.allow_exec) writable_flags.push_back("noexec");
  Json mounts = Json::array();
  mounts.push_back(mount("/", "tmpfs", "ro", Json::array({"nosuid", "nodev"})));
  for (const auto& p : spec.rootfs_binds) {
    Json m = mount(p, "bind", "ro", ro_flags);
    m["source"] = p;
    m["note"] = "recreated as the same symlink when the host path is one";
    mounts.push_back(m);
  }
  Json etc = mount("/etc", "files", "ro", Json::array());
  etc["entries"] = Json::array({"passwd", "group", "hosts", "hostname", "nsswitch.conf", "ld.so.cache", "alternatives"});
  if (spec.network) etc["entries"].push_back("resolv.conf");
  mounts.push_back(etc);
  Json dev = mount("/dev", "devices", "ro", Json::array({"nosuid", "noexec"}));
  dev["entries"] = Json::array({"null", "zero", "full", "random", "urandom", "tty", "fd", "stdin", "stdout", "stderr"});
  dev["with_pty"] = "the call's own terminal bound at /dev/pts/<n> (no ptmx)";
  mounts.push_back(dev);
  Json proc = mount("/proc", "proc", "rw", Json::array({"nosuid", "nodev", "noexec", "own pid namespace"}));
  proc["hardening"] = detail::proc_mask_summary();
  mounts.push_back(proc);
  Json tmp = mount("/tmp", "tmpfs", "rw", writable_flags);
  tmp["size_mb"] = spec.limits.tmpfs_mb;
  mounts.push_back(tmp);
  if (spec.workspace_access != policy::WorkspaceAccess::none) {
    bool rw = spec.workspace_access == policy::WorkspaceAccess::rw;
    Json ws = mount("/workspace", "bind", access_name(spec.workspace_access), rw ? writable_flags : ro_flags);
    if (!rw && !spec.allow_exec) ws["flags"].push_back("noexec");
    ws["source"] = spec.workspace.empty() ? "<workspace>" : spec.workspace.string();
    mounts.push_back(ws);
  }
  for (const auto& b : spec.binds) {
    Json m = mount(b.dst, "bind", b.writable ? "rw" : "ro", b.writable ? writable_flags : ro_flags);
    m["source"] = b.src;
    mounts.push_back(m);
  }
  return mounts;
}

Json describe_limits(const policy::Limits& l) {
  return Json{{"timeout_ms", l.timeout_ms},     {"memory_mb", l.memory_mb},       {"pids", l.pids},
              {"cpu_seconds", l.cpu_seconds},   {"output_bytes", l.output_bytes}, {"file_size_mb", l.file_size_mb},
              {"tmpfs_mb", l.tmpfs_mb},         {"open_files", l.open_files}};
}

}  // namespace

JailSpec spec_from_policy(const policy::Policy& wpc, const std::filesystem::path& workspace,
                          const std::vector<std::string>& rootfs_binds) {
  JailSpec spec;
  spec.workspace_access = wpc.sandbox.workspace_access;
  if (spec.workspace_access != policy::WorkspaceAccess::none) spec.workspace = workspace;
  spec.rootfs_binds = rootfs_binds;
  spec.binds = wpc.sandbox.binds;
  spec.allow_exec = scope_allowed(wpc, "exec");
  spec.allow_docker_socket = scope_allowed(wpc, "docker_socket");
  spec.approved_hosts = wpc.sandbox.approved_hosts;
  spec.network = !spec.approved_hosts.empty() && scope_allowed(wpc, "http:approved_hosts");
  spec.limits = wpc.sandbox.limits;
  return spec;
}

Json describe(const JailSpec& spec) {
  return Json{
      {"jail_version", "1"},
      {"namespaces", Json::array({"user", "mount", "pid", "ipc", "uts", "cgroup", "net"})},
      {"user", {{"uid", detail::kJailUid}, {"gid", detail::kJailGid},
                {"host_uid", "as root: one uid per running jail from " + std::to_string(spec.uid_range.first) + ":" +
                                 std::to_string(spec.uid_range.count) + "; otherwise the invoking user"}}},
      {"capabilities", {{"effective", Json::array()}, {"permitted", Json::array()}, {"bounding", Json::array()},
                        {"ambient", Json::array()}, {"securebits", "locked"}, {"no_new_privs", true}}},
      {"process", {{"setsid", true}, {"init", "pid 1 reaper; the tree dies with the first process"},
                   {"fds", "stdin, stdout, stderr only"},
                   {"terminal", "none unless the call asks for a pty: then the supervisor's pty is the controlling terminal"}}},
      {"mounts", describe_mounts(spec)},
      {"landlock", detail::landlock_summary(spec)},
      {"seccomp", detail::seccomp_summary(spec)},
      {"limits", describe_limits(spec.limits)},
      {"network", detail::describe_egress(spec)},
      {"exec", spec.allow_exec},
      {"docker_socket", spec.allow_docker_socket},
      {"elevated", spec.elevated}};
}

// Every call is admitted with one of a few specs, and describing one costs more than the rest of
// its admission's checks: each distinct spec is described and hashed once.
std::string jail_hash_b64u(const JailSpec& spec) {
  static BoundedMemo<std::string> hashes(64);
  std::string key = detail::spec_key(spec);
  if (auto known = hashes.find(key)) return *known;
  std::string hash = policy::canonical_hash_b64u(describe(spec));
  hashes.remember(std::move(key), hash);
  return hash;
}

namespace detail {

// Every field of the spec, so that equal keys mean equal jails; but `opened`, the descriptors of
// one call: a jail built ahead is taken only by a call that opened the same objects
// (Runner::hand_over).
std::string spec_key(const JailSpec& s) {
  static_assert(sizeof(JailSpec) == 248, "a new JailSpec field must be part of spec_key");
  Json binds = Json::array();
  for (const auto& b : s.binds) binds.push_back({b.src, b.dst, b.writable});
  Json protected_paths = Json::array();
  for (const auto& p : s.protected_paths) protected_paths.push_back(p.string());
  const auto& l = s.limits;
  return Json{s.workspace.string(), static_cast<int>(s.workspace_access), s.rootfs_binds, binds, s.allow_exec,
              s.allow_docker_socket, s.network, s.approved_hosts, s.elevated,
              Json{l.timeout_ms, l.memory_mb, l.pids, l.cpu_seconds, l.output_bytes, l.file_size_mb, l.tmpfs_mb,
                   l.open_files},
              s.uid_range.first, s.uid_range.count, protected_paths}
      .dump();
}

}  // namespace detail

}  // namespace clawjail::sandbox
