// A WPC the local store lacks, fetched by hash from clawcontrols (config wpc_registry).
#pragma once
#include <string>
#include <string_view>

#include "base/reason.h"
#include "supervisor/common/config.h"

namespace clawjail::fleet {

// GET <wpc_registry>/v1/wpc/<hash>. The registry is trusted for nothing it could lie about: the
// envelope must hash to the hash asked for (WPC_HASH_MISMATCH) and pass the store's own checks
// against the configured wpc_signers (PolicyStore::install, as `wpc install` does) before it is
// stored. Unreachable, non-200, oversize or not a registry answer: WPC_FETCH_FAILED.
// Returns the installed hash.
Result<std::string> fetch_wpc(const Config& config, std::string_view hash_b64u);

}  // namespace clawjail::fleet
