// Every receipt also goes to the journal with structured fields (formats.md §4), so that
// `journalctl SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked` lists blocked calls. The disk
// log is the record; the journal is a copy, and its absence never stops a call.
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include <cerrno>
#include <cstring>

#include "receipts/internal.h"

namespace clawjail::receipts::detail {
namespace {

std::string message_for(const Draft& d, const Written& w) {
  std::string text = "job " + d.job_id + " call " + d.call_id + " " + d.tool + " " + d.phase;
  if (d.phase == "blocked")
    text += ": " + std::string(reason_name(d.reason)) + ": " + d.reason_detail;
  text += " (receipt " + w.receipt_id + ", seq " + std::to_string(w.seq) + ")";
  return text;
}

// sd_journal_send() reports success when journald's socket does not exist at all ("fail
// silently if the journal is not available"), so absence is checked here to be told once.
int journal_socket_missing() {
  struct stat st {};
  if (::stat("/run/systemd/journal/socket", &st) != 0) return -errno;
  return S_ISSOCK(st.st_mode) ? 0 : -ENOTSOCK;
}

}  // namespace

std::optional<std::string> Journal::send(const Draft& d, const Written& w) {
  if (!enabled_) return std::nullopt;
  if (int missing = journal_socket_missing(); missing < 0) return unavailable(missing);
  std::string reason(reason_name(d.reason));
  std::string envelope = compact_json(w.envelope);
  int rc = sd_journal_send("MESSAGE=%s", message_for(d, w).c_str(),
                           "PRIORITY=%d", d.phase == "blocked" ? LOG_WARNING : LOG_INFO,
                           "SYSLOG_IDENTIFIER=clawjail",
                           "CLAWJAIL_JOB=%s", d.job_id.c_str(),
                           "CLAWJAIL_CALL=%s", d.call_id.c_str(),
                           "CLAWJAIL_TOOL=%s", d.tool.c_str(),
                           "CLAWJAIL_PHASE=%s", d.phase.c_str(),
                           "CLAWJAIL_DECISION=%s", d.decision.c_str(),
                           "CLAWJAIL_REASON=%s", reason.c_str(),
                           "CLAWJAIL_RECEIPT_ID=%s", w.receipt_id.c_str(),
                           "CLAWJAIL_SEQ=%lld", static_cast<long long>(w.seq),
                           "CLAWJAIL_RECEIPT=%s", envelope.c_str(),
                           nullptr);
  if (rc < 0) return unavailable(rc);
  available_ = true;
  return std::nullopt;
}

std::optional<std::string> Journal::unavailable(int negative_errno) {
  available_ = false;
  if (warned_.exchange(true)) return std::nullopt;
  return "receipts: journald is not reachable (" + std::string(std::strerror(-negative_errno)) +
         "); receipts go to the disk log only";
}

}  // namespace clawjail::receipts::detail
