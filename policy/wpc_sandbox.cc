// clawjail's sandbox section of a WPC (`sandbox` in v1, `metadata.clawjail` in v2). Every key is
// optional and absent means the safe default: no workspace, no network, no binds, docs/formats.md limits.
#include <algorithm>
#include <cctype>

#include "policy/fields.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "policy/wpc_parse.h"

namespace clawjail::policy {
namespace {
using namespace fields;

bool valid_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253 || host.front() == '.' || host.back() == '.') return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '-' || c == '.';
  });
}

bool valid_host_entry(std::string_view entry) {
  auto colon = entry.find(':');
  if (colon == std::string_view::npos) return valid_hostname(entry);
  auto port = entry.substr(colon + 1);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) return false;
  int n = std::stoi(std::string(port));
  return n > 0 && n < 65536 && valid_hostname(entry.substr(0, colon));
}

// An absolute path without "." or ".." components: what a reviewer reads is what gets mounted.
bool valid_bind_path(std::string_view path) {
  if (!path.starts_with('/') || path.find('\0') != std::string_view::npos) return false;
  for (auto part : std::filesystem::path(path))
    if (part == "." || part == "..") return false;
  return true;
}

bool valid_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

Status parse_workspace(const Json& sb, std::string_view where, SandboxSettings& out) {
  std::string access = "none";
  if (auto s = read_string(sb, "workspace_access", access, where); !s) return s;
  if (access == "none") out.workspace_access = WorkspaceAccess::none;
  else if (access == "ro") out.workspace_access = WorkspaceAccess::ro;
  else if (access == "rw") out.workspace_access = WorkspaceAccess::rw;
  else return fail(Reason::BAD_FIELD, join(where, "workspace_access") + ": must be none, ro or rw");
  return ok_status();
}

Status parse_network(const Json& net, std::string where, SandboxSettings& out) {
  if (auto s = require_object(net, where); !s) return s;
  if (auto s = only_keys(net, {"approved_hosts"}, where); !s) return s;
  if (auto s = read_strings(net, "approved_hosts", out.approved_hosts, where); !s) return s;
  for (const auto& host : out.approved_hosts)
    if (!valid_host_entry(host))
      return fail(Reason::BAD_FIELD, join(where, "approved_hosts") + ": not a host or host:port: " + host);
  return ok_status();
}

Status parse_limits(const Json& lim, std::string where, SandboxSettings& settings) {
  if (auto s = require_object(lim, where); !s) return s;
  if (auto s = only_keys(lim, {"timeout_ms", "memory_mb", "pids", "cpu_seconds", "output_bytes",
                               "file_size_mb", "tmpfs_mb", "open_files", "background_ms"}, where);
      !s)
    return s;
  Limits& out = settings.limits;
  const struct { const char* key; int64_t* field; int64_t max; } table[] = {
      {"timeout_ms", &out.timeout_ms, 86400000},  {"background_ms", &settings.background_ms, 86400000},
      {"memory_mb", &out.memory_mb, 1 << 20},     {"pids", &out.pids, 1 << 22},
      {"cpu_seconds", &out.cpu_seconds, 86400},
      {"output_bytes", &out.output_bytes, int64_t{1} << 34}, {"file_size_mb", &out.file_size_mb, 1 << 20},
      {"tmpfs_mb", &out.tmpfs_mb, 1 << 20},        {"open_files", &out.open_files, 1 << 20},
  };
  for (const auto& row : table)
    if (auto s = read_int(lim, row.key, *row.field, 1, row.max, where); !s) return s;
  return ok_status();
}

Status parse_bind(const Json& b, const std::string& where, SandboxSettings& out) {
  if (auto s = require_object(b, where); !s) return s;
  if (auto s = only_keys(b, {"src", "dst", "mode"}, where); !s) return s;
  if (auto s = require_keys(b, {"src", "dst"}, where); !s) return s;
  BindSpec spec;
  std::string mode = "ro";
  if (auto s = read_string(b, "src", spec.src, where); !s) return s;
  if (auto s = read_string(b, "dst", spec.dst, where); !s) return s;
  if (auto s = read_string(b, "mode", mode, where); !s) return s;
  if (!valid_bind_path(spec.src)) return fail(Reason::BAD_FIELD, join(where, "src") + ": must be an absolute path without . or ..");
  if (!valid_bind_path(spec.dst)) return fail(Reason::BAD_FIELD, join(where, "dst") + ": must be an absolute path without . or ..");
  if (mode != "ro" && mode != "rw") return fail(Reason::BAD_FIELD, join(where, "mode") + ": must be ro or rw");
  spec.writable = mode == "rw";
  out.binds.push_back(std::move(spec));
  return ok_status();
}

Status parse_binds(const Json& binds, std::string where, SandboxSettings& out) {
  if (!binds.is_array()) return fail(Reason::BAD_FIELD, where + ": must be an array");
  for (size_t i = 0; i < binds.size(); ++i)
    if (auto s = parse_bind(binds[i], where + "[" + std::to_string(i) + "]", out); !s) return s;
  return ok_status();
}

Status parse_env(const Json& env, std::string where, SandboxSettings& out) {
  if (auto s = require_object(env, where); !s) return s;
  if (auto s = only_keys(env, {"pass"}, where); !s) return s;
  if (auto s = read_strings(env, "pass", out.env_pass, where); !s) return s;
  for (const auto& name : out.env_pass)
    if (!valid_env_name(name)) return fail(Reason::BAD_FIELD, join(where, "pass") + ": not a variable name: " + name);
  return ok_status();
}

}  // namespace

Status parse_sandbox(const Json& sb, std::string_view where, SandboxSettings& out) {
  if (auto s = require_object(sb, where); !s) return s;
  if (auto s = only_keys(sb, {"workspace_access", "network", "limits", "binds", "env"}, where); !s) return s;
  if (auto s = parse_workspace(sb, where, out); !s) return s;
  if (sb.contains("network"))
    if (auto s = parse_network(sb["network"], join(where, "network"), out); !s) return s;
  if (sb.contains("limits"))
    if (auto s = parse_limits(sb["limits"], join(where, "limits"), out); !s) return s;
  if (sb.contains("binds"))
    if (auto s = parse_binds(sb["binds"], join(where, "binds"), out); !s) return s;
  if (sb.contains("env")) return parse_env(sb["env"], join(where, "env"), out);
  return ok_status();
}

}  // namespace clawjail::policy
