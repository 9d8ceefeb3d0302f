// Claw's WPC v2 (`"policy_version":"2"`, IAM-style statements) mapped onto the same Policy as the
// tool WPC. Conditions need request context clawjail does not have, so they can only make a policy
// stricter: an Allow with conditions grants nothing, a Deny with conditions always applies.
#include <fnmatch.h>

#include <algorithm>

#include "policy/fields.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "policy/wpc_parse.h"

namespace clawjail::policy {
namespace {
using namespace fields;

struct Statement {
  std::string sid;
  bool allow = false;
  bool conditional = false;
  std::vector<std::string> actions, resources;
};

bool glob(const std::string& pattern, const char* text) { return ::fnmatch(pattern.c_str(), text, 0) == 0; }

bool covers(const Statement& st, const char* action) {
  return std::any_of(st.actions.begin(), st.actions.end(), [&](const auto& a) { return glob(a, action); });
}

Result<Statement> parse_statement(const Json& j, const std::string& where) {
  if (auto s = require_object(j, where); !s) return s.error();
  if (auto s = only_keys(j, {"sid", "effect", "actions", "resources", "conditions"}, where); !s) return s.error();
  if (auto s = require_keys(j, {"sid", "effect", "actions", "resources"}, where); !s) return s.error();
  Statement st;
  std::string effect;
  if (auto s = read_string(j, "sid", st.sid, where); !s) return s.error();
  if (auto s = read_string(j, "effect", effect, where); !s) return s.error();
  if (effect != "Allow" && effect != "Deny") return fail(Reason::BAD_FIELD, join(where, "effect") + ": must be Allow or Deny");
  st.allow = effect == "Allow";
  if (auto s = read_strings(j, "actions", st.actions, where); !s) return s.error();
  if (auto s = read_strings(j, "resources", st.resources, where); !s) return s.error();
  if (st.actions.empty() || st.resources.empty())
    return fail(Reason::BAD_FIELD, where + ": actions and resources must not be empty");
  if (j.contains("conditions")) {
    if (auto s = require_object(j["conditions"], join(where, "conditions")); !s) return s.error();
    st.conditional = true;
  }
  return st;
}

Status apply_tool_statement(const Statement& st, const std::string& where, Policy& out) {
  for (const auto& r : st.resources) {
    if (auto s = check_scope_entry(r, join(where, "resources")); !s) return s;
    if (r == "elevated") out.elevated_enabled = st.allow;
    (st.allow ? out.allow : out.deny).push_back(r);
  }
  return ok_status();
}

void apply_fs_statement(const Statement& st, bool write, Policy& out) {
  auto& globs = write ? (st.allow ? out.fs_write_globs : out.fs_write_deny_globs)
                      : (st.allow ? out.fs_read_globs : out.fs_read_deny_globs);
  globs.insert(globs.end(), st.resources.begin(), st.resources.end());
}

// Hosts named by network_egress statements: an Allow's globs, a Deny's globs.
struct HostGlobs {
  std::vector<std::string> allowed, denied;
};

// Approved hosts come from metadata.clawjail.network; the statements can only narrow them: an
// Allow keeps the hosts its globs name, a Deny removes those it names (all of them, and the
// network itself, for "*").
void apply_network_statement(const Statement& st, Policy& out, HostGlobs& hosts) {
  if (st.allow) {
    out.allow.push_back("http:approved_hosts");
    hosts.allowed.insert(hosts.allowed.end(), st.resources.begin(), st.resources.end());
    return;
  }
  auto& denied_hosts = hosts.denied;
  for (const auto& r : st.resources) {
    if (r == "*") out.deny.push_back("http:approved_hosts");
    denied_hosts.push_back(r);
  }
}

Status apply_statement(const Statement& st, const std::string& where, Policy& out, HostGlobs& hosts) {
  if (st.allow && st.conditional) return ok_status();
  if (covers(st, "tool:execute"))
    if (auto s = apply_tool_statement(st, where, out); !s) return s;
  if (covers(st, "side_effect:filesystem_read")) apply_fs_statement(st, false, out);
  if (covers(st, "side_effect:filesystem_write")) apply_fs_statement(st, true, out);
  if (covers(st, "side_effect:network_egress")) apply_network_statement(st, out, hosts);
  return ok_status();
}

bool host_named(const std::vector<std::string>& globs, const std::string& host) {
  std::string name = host.substr(0, host.find(':'));
  return std::any_of(globs.begin(), globs.end(),
                     [&](const auto& g) { return glob(g, name.c_str()) || glob(g, host.c_str()); });
}

void narrow_hosts(const HostGlobs& globs, std::vector<std::string>& hosts) {
  std::erase_if(hosts, [&](const std::string& h) { return !host_named(globs.allowed, h) || host_named(globs.denied, h); });
}

Status parse_statements(const Json& list, Policy& out) {
  if (!list.is_array() || list.empty() || list.size() > 64)
    return fail(Reason::BAD_FIELD, "statements: must be an array of 1 to 64 statements");
  HostGlobs hosts;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string where = "statements[" + std::to_string(i) + "]";
    auto st = parse_statement(list[i], where);
    if (!st) return st.error();
    if (auto s = apply_statement(*st, where, out, hosts); !s) return s;
  }
  narrow_hosts(hosts, out.sandbox.approved_hosts);
  if (std::find(out.deny.begin(), out.deny.end(), "elevated") != out.deny.end()) out.elevated_enabled = false;
  return ok_status();
}

Status parse_header(const Json& p, Policy& out) {
  if (auto s = only_keys(p, {"policy_version", "policy_id", "issuer_did", "inherits", "coverage_enforcement",
                             "witnessed_web_policy", "statements", "metadata", "policy_hash"}, "");
      !s)
    return s;
  if (auto s = require_keys(p, {"policy_version", "policy_id", "issuer_did", "statements"}, ""); !s) return s;
  if (p["policy_version"] != "2") return fail(Reason::BAD_FIELD, "policy_version: must be \"2\"");
  if (auto s = parse_identity(p, out); !s) return s;
  std::string text;
  // Strict intersection needs the parent policy, which a single envelope does not carry.
  if (p.contains("inherits")) return fail(Reason::WPC_INVALID, "inherits: parent policies are not supported");
  text = "observe";
  if (auto s = read_string(p, "coverage_enforcement", text, ""); !s) return s;
  if (text != "observe" && text != "warn" && text != "enforce")
    return fail(Reason::BAD_FIELD, "coverage_enforcement: must be observe, warn or enforce");
  if (p.contains("witnessed_web_policy")) return require_object(p["witnessed_web_policy"], "witnessed_web_policy");
  return ok_status();
}

Status parse_metadata(const Json& p, Policy& out) {
  if (!p.contains("metadata")) return ok_status();
  const auto& md = p["metadata"];
  if (auto s = require_object(md, "metadata"); !s) return s;
  if (!md.contains("clawjail")) return ok_status();
  return parse_sandbox(md["clawjail"], "metadata.clawjail", out.sandbox);
}

}  // namespace

Status parse_wpc_v2(const Json& p, Policy& out) {
  out.shape = "claw_v2";
  if (auto s = parse_header(p, out); !s) return s;
  if (auto s = parse_metadata(p, out); !s) return s;
  return parse_statements(p["statements"], out);
}

}  // namespace clawjail::policy
