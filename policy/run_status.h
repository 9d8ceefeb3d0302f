// How a command that ran in its jail ended: the receipt's `result.status` (docs/formats.md §4).
// Typed inside clawjail; the string appears only at the JSON edge (receipts, the protocol).
#pragma once
#include <iosfwd>
#include <optional>
#include <string_view>

namespace clawjail {

enum class RunStatus { success, error, timeout, killed, limit };

// Stable name, e.g. "timeout".
std::string_view run_status_name(RunStatus s);
// Inverse of run_status_name; nullopt for a string that is not on the list.
std::optional<RunStatus> run_status_from_name(std::string_view name);
std::ostream& operator<<(std::ostream& out, RunStatus s);  // the name, for logs and test messages

}  // namespace clawjail
