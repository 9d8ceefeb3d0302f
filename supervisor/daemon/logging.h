// The supervisor's own log (not receipts): spdlog to the journal when journald runs, else stderr.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>

namespace clawjail {

inline constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

// The journal, and stderr for a line the journal does not take: journald stopped or restarting
// while its socket file stays. The first such line is preceded by a warning that says why.
class JournalOrStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  JournalOrStderrSink();

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  spdlog::sink_ptr journal_, stderr_;
  bool warned_ = false;
};

// "trace", "debug", "info", "warn", "error", "critical", "off"; nullopt for anything else.
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view level);

// Replaces spdlog's default logger. Lines go to the journal with SYSLOG_IDENTIFIER=clawjail and
// the matching PRIORITY when `journal_socket` exists (JournalOrStderrSink), else to stderr. An unknown level falls back
// to "info" and says so in the log (`clawjail audit` reports it too), so a typo never silences it.
void init_logging(const std::string& level);
void init_logging(const std::string& level, const std::filesystem::path& journal_socket);

}  // namespace clawjail
