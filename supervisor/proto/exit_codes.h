// What `clawjail run` exits with when the command's own status does not say (docs/cli.md
// "Exit codes"). The supervisor puts them in a response's exit_code; the client exits with it.
#pragma once

namespace clawjail {

inline constexpr int kExitTimeout = 124;     // the call's time limit passed
inline constexpr int kExitSupervisor = 125;  // the supervisor or the jail failed, not the command
inline constexpr int kExitBlocked = 126;     // refused before anything ran (a `blocked` receipt)

}  // namespace clawjail
