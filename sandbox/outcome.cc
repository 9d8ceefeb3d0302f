// Outcome as the receipt's `result` (docs/formats.md §4). Integers only. `output_truncated` says
// when output beyond the cap was cut; `error` appears only when the jail could not be built or
// the command could not be started; `egress` only when the jail had the approved-hosts proxy.
#include "policy/reason.h"
#include "sandbox/egress.h"
#include "sandbox/jail.h"

namespace clawjail::sandbox {

Json Outcome::to_json() const {
  Json violations_json = Json::array();
  for (const auto& v : violations) violations_json.push_back({{"syscall", v.syscall}, {"count", v.count}});
  Json j = {{"status", status},
            {"exit_code", exit_code},
            {"signal", signal},
            {"duration_ms", duration_ms},
            {"stdout_hash_b64u", stdout_hash_b64u},
            {"stdout_bytes", stdout_bytes},
            {"stderr_hash_b64u", stderr_hash_b64u},
            {"stderr_bytes", stderr_bytes},
            {"output_truncated", output_truncated},
            {"violations", violations_json}};
  if (egress)
    j["egress"] = {{"proxy", detail::kEgressAddress},      {"allowed", egress->allowed},
                   {"refused", egress->refused},          {"failed", egress->failed},
                   {"bad_requests", egress->bad_requests}, {"busy", egress->busy},
                   {"refused_targets", egress->refused_targets}};
  if (error) j["error"] = {{"reason_code", std::string(reason_name(error->reason))}, {"reason", error->detail}};
  return j;
}

}  // namespace clawjail::sandbox
