// `clawjail audit`: what is weak in this installation, each finding with a check id, a severity
// and the fix. Private to the supervisor; command.cc prints what these checks find.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "policy/json.h"
#include "policy/wpc.h"
#include "supervisor/common/config.h"

namespace clawjail::audit {

enum class Severity { info, warn, critical };
std::string_view severity_name(Severity s);

struct Finding {
  std::string check_id;  // stable, dotted: "fs.key.perms_readable"
  Severity severity = Severity::info;
  std::string title;     // what is wrong, one line
  std::string detail;    // the facts that show it (paths, modes, hashes)
  std::string fix;       // what to do about it
};

struct Report {
  std::filesystem::path config_path;
  std::vector<Finding> findings;
  void add(std::string check_id, Severity severity, std::string title, std::string detail,
           std::string fix);
  bool has_critical() const;
  std::filesystem::path openclaw_config;  // empty unless --openclaw-config
  policy::Json to_json() const;
};

// Where the host is looked at; tests point these at scratch paths.
struct HostPaths {
  std::filesystem::path journal_socket = "/run/systemd/journal/socket";
  uid_t expected_owner = 0;  // the uid the supervisor runs as (the auditor's euid by default)
  std::filesystem::path passwd = "/etc/passwd";
  std::filesystem::path subuid = "/etc/subuid";
  // The cgroup systemd gives clawjail.service (in the default slice) on a pure cgroup v2 host.
  std::filesystem::path service_cgroup = "/sys/fs/cgroup/system.slice/clawjail.service";
};

// files.cc: ownership and modes of the config, the key, the state directory, the socket.
std::string octal(mode_t mode);  // "0644"
// Reports `<id>.dir_writable` when a directory on the way to `path` can be changed by a user other
// than root and host.expected_owner (who could then swap what lies below it).
void check_ancestors(const std::filesystem::path& path, const std::string& id, const std::string& what,
                     const HostPaths& host, Report& report);
void check_config_file(const std::filesystem::path& path, const HostPaths& host, Report& report);
void check_signing_key(const Config& config, const HostPaths& host, Report& report);
void check_state_dir(const Config& config, const HostPaths& host, Report& report);
void check_socket(const Config& config, const HostPaths& host, Report& report);

// trust.cc: who is trusted, and which paths no jail may see.
void check_trust(const Config& config, Report& report);

// jail.cc: what every jail gets whatever its WPC says: the rootfs binds and the host uids.
void check_rootfs_binds(const Config& config, Report& report);
void check_uid_range(const Config& config, const HostPaths& host, Report& report);

// (trust.cc) Why no jail may see `path` so (the jail's own list, sandbox::sensitive_path_reason,
// with the supervisor's own files), or "".
std::string sensitive_reason(const std::filesystem::path& path, sandbox::PathUse use, const Config& config);

// wpc.cc: every WPC in <state_dir>/policies.
// Whether `wpc` grants `scope`: an allow entry matches it and no deny entry does.
bool grants(const policy::Policy& wpc, std::string_view scope);
void check_policy_store(const Config& config, Report& report);
void check_policy(const policy::Policy& wpc, const std::string& where, const Config& config,
                  Report& report);

// host.cc: user namespaces, seccomp, cgroup delegation, journald.
void check_host(const HostPaths& host, Report& report);

// audit_openclaw*.cc: an OpenClaw gateway's config against the WPC each of its agents runs under
// (`clawjail audit --openclaw-config FILE`).
struct OpenClawAudit {
  std::filesystem::path config;    // OpenClaw's config file (JSON5)
  std::filesystem::path openclaw;  // OpenClaw's CLI entry (openclaw.mjs); empty: plain JSON only, no own audit
  std::filesystem::path node;      // the Node binary that runs it (empty: `node` on PATH)
  bool own_audit = true;           // with `openclaw`: include `openclaw security audit --json`
};
// OpenClaw's config as a JSON value: JSON with comments directly, JSON5 through OpenClaw's own
// parser. An error names the file and, where it can, the line.
Result<policy::Json> read_openclaw_config(const OpenClawAudit& what);
// The drift checks; `config` is clawjail's (nullptr when it cannot be loaded: the checks that
// need the WPC or the token issuers then say so).
void check_openclaw(const policy::Json& oc, const OpenClawAudit& what, const Config* config, Report& report);
// OpenClaw's own findings, as `openclaw.audit.<its checkId>`.
void include_openclaw_audit(const OpenClawAudit& what, Report& report);

// Everything, in order. A config that cannot be read is itself a critical finding; the host
// checks still run.
Report audit_installation(const std::filesystem::path& config_path, const HostPaths& host);
// The installation, then the OpenClaw gateway's config against it.
Report audit_with_openclaw(const std::filesystem::path& config_path, const HostPaths& host,
                           const policy::Json& openclaw_config, const OpenClawAudit& what);

}  // namespace clawjail::audit
