// Every receipt also goes to the journal with structured fields (formats.md §4), so that
// `journalctl SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked` lists blocked calls. The disk
// log is the record; the journal is a copy, and its absence never stops a call.
#include <syslog.h>
#include <systemd/sd-journal.h>

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

}  // namespace

std::optional<std::string> Journal::send(const Draft& d, const Written& w) {
  if (!enabled_) return std::nullopt;
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
  available_ = rc >= 0;
  if (rc >= 0 || warned_.exchange(true)) return std::nullopt;
  return "receipts: journald is not reachable (" + std::string(std::strerror(-rc)) +
         "); receipts go to the disk log only";
}

}  // namespace clawjail::receipts::detail
