#include "supervisor/daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <system_error>
#include <utility>


namespace clawjail {
namespace {

template <class Sink>
spdlog::sink_ptr stderr_sink() {
  auto sink = std::make_shared<Sink>();
  sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ clawjail[%P] %l: %v", spdlog::pattern_time_type::utc));
  return sink;
}

spdlog::sink_ptr make_sink(const std::filesystem::path& journal_socket) {
  std::error_code ec;
  if (std::filesystem::exists(journal_socket, ec)) return std::make_shared<JournalOrStderrSink>();
  return stderr_sink<spdlog::sinks::stderr_sink_mt>();
}

}  // namespace

// The inner sinks are single-threaded: this sink's own mutex serialises them.
JournalOrStderrSink::JournalOrStderrSink()
    : journal_(std::make_shared<spdlog::sinks::systemd_sink_st>("clawjail")),
      stderr_(stderr_sink<spdlog::sinks::stderr_sink_st>()) {}

void JournalOrStderrSink::sink_it_(const spdlog::details::log_msg& msg) {
  try {
    journal_->log(msg);
    return;
  } catch (const spdlog::spdlog_ex& e) {
    if (!warned_) {
      const std::string why = std::string("journald does not take the log (") + e.what() + "): lines that it "
                              "refuses go to stderr";
      stderr_->log(spdlog::details::log_msg(msg.logger_name, spdlog::level::warn, why));
      warned_ = true;
    }
  }
  stderr_->log(msg);
}

void JournalOrStderrSink::flush_() {
  journal_->flush();
  stderr_->flush();
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view level) {
  // spdlog::level::from_str maps unknown names to "off", which would silence the log on a typo.
  static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 9> kLevels{{
      {"trace", spdlog::level::trace},   {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},     {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn},  {"error", spdlog::level::err},
      {"err", spdlog::level::err},       {"critical", spdlog::level::critical},
      {"off", spdlog::level::off},
  }};
  for (const auto& [name, value] : kLevels)
    if (name == level) return value;
  return std::nullopt;
}

void init_logging(const std::string& level) { init_logging(level, kJournalSocket); }

void init_logging(const std::string& level, const std::filesystem::path& journal_socket) {
  auto logger = std::make_shared<spdlog::logger>("clawjail", make_sink(journal_socket));
  auto parsed = parse_log_level(level);
  logger->set_level(parsed.value_or(spdlog::level::info));
  // Errors and above reach the journal at once; a crash must not swallow the reason for it.
  logger->flush_on(spdlog::level::err);
  // A sink that fails even so (stderr closed) is said once, not once a second for ever; receipts
  // never depend on this log (the disk log is the record).
  logger->set_error_handler([](const std::string& msg) {
    static std::atomic<bool> said{false};
    if (!said.exchange(true)) std::fprintf(stderr, "clawjail: warning: log sink failed: %s (not repeated)\n", msg.c_str());
  });
  spdlog::set_default_logger(logger);
  if (!parsed) spdlog::warn("log_level \"{}\" is not a level; using \"info\"", level);
}

}  // namespace clawjail
