#include "policy/run_status.h"

#include <array>
#include <ostream>


namespace clawjail {
namespace {

constexpr std::array<std::string_view, 5> kNames = {"success", "error", "timeout", "killed", "limit"};

}  // namespace

std::string_view run_status_name(RunStatus s) { return kNames[static_cast<size_t>(s)]; }

std::optional<RunStatus> run_status_from_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<RunStatus>(i);
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& out, RunStatus s) { return out << run_status_name(s); }

}  // namespace clawjail
