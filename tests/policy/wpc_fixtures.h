// Sample WPC payloads for the policy tests.
#pragma once
#include "policy/json.h"

namespace clawjail::testing {

inline policy::Json tool_wpc() {
  return policy::Json::parse(R"({
    "wpc_version":"v1", "policy_id":"build-bot", "issuer_did":"did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
    "job":{ "id":"job-1", "anti_replay":{ "bind_job_scoped_cst":true } },
    "tools":{ "allow":["read","write:workspace","http:approved_hosts"],
              "deny":["exec","process","docker_socket","browser:host_control"],
              "elevated":{ "enabled":false } },
    "models":{ "require_gateway_receipts":true, "route_via":["clawproxy"], "providers":["openrouter_via_fal"] },
    "tokens":{ "require_cst":true, "pin_wpc_hash":true },
    "sandbox":{ "workspace_access":"rw", "network":{ "approved_hosts":["api.github.com"] },
                "limits":{ "timeout_ms":30000, "memory_mb":256, "pids":64, "output_bytes":1048576,
                           "file_size_mb":16, "tmpfs_mb":32 },
                "binds":[ { "src":"/opt/tools", "dst":"/opt/tools", "mode":"ro" } ],
                "env":{ "pass":["LANG","TZ"] } },
    "metadata":{ "anything": { "goes": [1, "x"] } } })");
}

inline policy::Json claw_v2_wpc() {
  return policy::Json::parse(R"({
    "policy_version":"2", "policy_id":"v2-bot", "issuer_did":"did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
    "statements":[
      { "sid":"tools", "effect":"Allow", "actions":["tool:execute"], "resources":["read","write:workspace","exec"] },
      { "sid":"net", "effect":"Allow", "actions":["side_effect:network_egress"], "resources":["*"] },
      { "sid":"src", "effect":"Allow", "actions":["side_effect:filesystem_write"], "resources":["src/*"] },
      { "sid":"secrets", "effect":"Deny", "actions":["side_effect:*"], "resources":["*secrets*"] },
      { "sid":"noexec", "effect":"Deny", "actions":["tool:*"], "resources":["exec"] },
      { "sid":"cond", "effect":"Allow", "actions":["tool:execute"], "resources":["browser"],
        "conditions":{ "StringEquals":{ "Agent:DID":"did:key:x" } } } ],
    "metadata":{ "clawjail":{ "workspace_access":"ro", "network":{ "approved_hosts":["api.github.com","db.secrets.internal"] } },
                 "note":"free" } })");
}

}  // namespace clawjail::testing
