// How a command that ran in its jail ended: the receipt's `result.status` (docs/formats.md §4).
// Typed inside clawjail; the string appears only at the JSON edge (receipts, the protocol).
#pragma once
#include "base/named_enum.h"

namespace clawjail {

enum class RunStatus { success, error, timeout, killed, limit };
template <>
struct EnumNames<RunStatus> {
  static constexpr std::array<std::string_view, 5> names{"success", "error", "timeout", "killed", "limit"};
};

}  // namespace clawjail
