// Private to policy/: libsodium must be initialised once before any of its functions run.
#pragma once

namespace clawjail::policy {
// Aborts the process if libsodium cannot initialise: no crypto is better than weak crypto.
void ensure_sodium();
}  // namespace clawjail::policy
