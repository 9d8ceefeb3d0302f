// The supervisor's own log (not receipts): spdlog to the journal when journald runs, else stderr.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>

namespace clawjail {

inline constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

// "trace", "debug", "info", "warn", "error", "critical", "off"; nullopt for anything else.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view level);

// Replaces spdlog's default logger. Lines go to the journal with SYSLOG_IDENTIFIER=clawjail and
// the matching PRIORITY when `journal_socket` exists, else to stderr. An unknown level falls back
// to "info" and says so in the log (`clawjail audit` reports it too), so a typo never silences it.
void init_logging(const std::string& level);
void init_logging(const std::string& level, const std::filesystem::path& journal_socket);

}  // namespace clawjail
