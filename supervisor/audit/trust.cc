// Whom the supervisor trusts, and which paths no jail may see.
#include <fcntl.h>

#include "base/unique_fd.h"
#include "supervisor/audit/checks.h"
#include "supervisor/daemon/logging.h"

namespace clawjail::audit {
namespace {

namespace fs = std::filesystem;

}  // namespace

// The jail's own list (sandbox::sensitive_path_reason), asked about the path as it resolves
// now, or as written when it does not exist here (the jail refuses a missing sensitive path too).
std::string sensitive_reason(const fs::path& path, sandbox::PathUse use, const Config& config) {
  std::error_code ec;
  fs::path real = fs::weakly_canonical(path, ec);
  if (ec) real = path.lexically_normal();
  UniqueFd dir(::open(real.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  return sandbox::sensitive_path_reason(real.string(), use, dir.get(), protected_paths(config));
}

void check_trust(const Config& config, Report& report) {
  const std::string file = config.path.string();
  if (config.wpc_signers.empty())
    report.add("trust.wpc_signers_missing", Severity::critical,
               "no WPC signer allowlist: every WPC is refused, so no call can run",
               "\"wpc_signers\" is empty in " + file,
               "add the did:key of your policy signer to \"wpc_signers\" (clawjail keygen prints it)");
  if (config.cst_issuers.empty())
    report.add("trust.cst_issuers_missing", Severity::critical,
               "no CST issuer configured: every call under a WPC that requires a CST is refused",
               "\"cst_issuers\" is empty in " + file,
               "add {\"kid\": \"...\", \"did\": \"did:key:...\"} of clawscope's signing key to \"cst_issuers\"");
  if (config.cst_max_lifetime_s > 3600)
    report.add("trust.cst_lifetime_long", Severity::warn,
               "tokens may live longer than an hour: a leaked CST stays useful that long",
               "cst_max_lifetime_s is " + std::to_string(config.cst_max_lifetime_s),
               "set \"cst_max_lifetime_s\" to 3600 or less");
  if (!config.pinned_wpc_hashes.empty()) {
    std::string hashes;
    for (const auto& h : config.pinned_wpc_hashes) hashes += (hashes.empty() ? "" : ", ") + h;
    report.add("trust.wpc_pinned", Severity::info,
               "frozen at known-good WPCs: only the pinned hashes are accepted", "pinned_wpc_hashes: " + hashes,
               "review a newer WPC (clawjail explain --wpc FILE) before adding its hash");
    for (const auto& h : config.pinned_wpc_hashes)
      if (!fs::exists(config.state_dir / "policies" / (h + ".json")))
        report.add("trust.pinned_wpc_missing", Severity::warn, "a pinned WPC is not in the policy store",
                   h + " is pinned but " + (config.state_dir / "policies" / (h + ".json")).string() + " is absent",
                   "clawjail wpc install FILE, or remove the hash from \"pinned_wpc_hashes\"");
  }
  if (!parse_log_level(config.log_level))
    report.add("config.log_level_invalid", Severity::warn, "log_level is not a level; the supervisor logs at info",
               "log_level \"" + config.log_level + "\"",
               "use one of trace, debug, info, warn, error, critical, off");
}

}  // namespace clawjail::audit
