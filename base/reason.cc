#include "base/reason.h"

#include <array>

namespace clawjail {
namespace {
constexpr std::array kNames = {
#define CLAWJAIL_REASON_NAME(name) std::string_view{#name},
    CLAWJAIL_REASONS(CLAWJAIL_REASON_NAME)
#undef CLAWJAIL_REASON_NAME
};
}  // namespace

std::string_view reason_name(Reason r) { return kNames.at(static_cast<size_t>(r)); }

std::optional<Reason> reason_from_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<Reason>(i);
  return std::nullopt;
}

}  // namespace clawjail
