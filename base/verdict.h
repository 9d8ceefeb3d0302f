// Whether a call was let through: the `decision` of receipts and protocol answers.
#pragma once
#include "base/named_enum.h"

namespace clawjail {

enum class Verdict { allowed, blocked };
template <>
struct EnumNames<Verdict> {
  static constexpr std::array<std::string_view, 2> names{"allowed", "blocked"};
};

}  // namespace clawjail
