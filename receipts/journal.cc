// Every receipt also goes to the journal with structured fields (docs/formats.md §4), so that
// `journalctl SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked` lists blocked calls. The disk
// log is the record; the journal is a copy, and its absence never stops a call.
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "policy/json.h"
#include "base/reason.h"
#include "policy/text.h"
#include "receipts/internal.h"

namespace clawjail::receipts::detail {
namespace {

// Past this many copies waiting for journald, recording waits for room: a journald that cannot
// keep up slows calls down rather than making the queue grow without bound.
constexpr size_t kMaxQueued = 1024;

// What `journalctl` shows of a finished call without opening the receipt: how it ended.
std::string ending_of(const Draft& d) {
  const Json& r = *d.result;
  std::string text = ": " + r.value("status", std::string("?"));
  // An interrupted call's exit code and signal are unknown (null): nothing is said of them.
  if (auto exit = r.value("exit_code", Json()); exit.is_number_integer()) text += ", exit " + exit.dump();
  if (auto sig = r.value("signal", Json()); sig.is_number_integer() && sig != 0) text += ", signal " + sig.dump();
  if (d.reason != Reason::OK) text += ", " + std::string(reason_name(d.reason));
  return text;
}

std::string message_for(const Draft& d, const Written& w) {
  std::string text = "job " + d.job_id + " call " + d.call_id + " " + d.tool + " " + std::string(name_of(d.phase));
  if (d.phase == ReceiptPhase::blocked)
    text += ": " + std::string(reason_name(d.reason)) + ": " + policy::printable(d.reason_detail);  // one line, text
  if (d.phase == ReceiptPhase::finished && d.result && d.result->is_object()) text += ending_of(d);
  text += " (receipt " + w.receipt_id + ", seq " + std::to_string(w.seq) + ")";
  return text;
}

// The fields that repeat the receipt are copied from its signed payload, so that they say
// exactly what the signature covers (`receipts verify` compares them).
std::vector<std::string> fields_of(const Draft& d, const Written& w) {
  std::vector<std::string> fields = {"MESSAGE=" + message_for(d, w),
                                     "PRIORITY=" + std::to_string(d.phase == ReceiptPhase::blocked ? LOG_WARNING : LOG_INFO),
                                     "SYSLOG_IDENTIFIER=clawjail"};
  const Json payload = Json::parse(w.payload, nullptr, false);
  for (const auto& [field, key] : kJournalReceiptFields)
    fields.push_back(std::string(field) + "=" + journal_field_value(payload, key));
  fields.push_back(std::string(kJournalReceiptField) + "=" + compact_json(w.envelope));
  return fields;
}

// sd_journal_send() reports success when journald's socket does not exist at all ("fail
// silently if the journal is not available"), so absence is checked here to be told once.
int journal_socket_missing() {
  struct stat st {};
  if (::stat("/run/systemd/journal/socket", &st) != 0) return -errno;
  return S_ISSOCK(st.st_mode) ? 0 : -ENOTSOCK;
}

}  // namespace

struct Journal::Queue {
  std::mutex m;
  std::condition_variable cv;    // a copy to send, or stopping
  std::condition_variable room;  // the queue is below kMaxQueued again
  std::deque<std::vector<std::string>> copies;
  bool stopping = false;
  std::thread sender;  // started by the first copy
};

Journal::Journal(bool enabled, std::function<void(const std::string&)> warn)
    : enabled_(enabled), warn_(std::move(warn)), queue_(std::make_unique<Queue>()) {}

Journal::~Journal() {
  {
    std::lock_guard lock(queue_->m);
    queue_->stopping = true;
  }
  queue_->cv.notify_one();
  if (queue_->sender.joinable()) queue_->sender.join();
}

void Journal::send(const Draft& d, const Written& w) {
  if (!enabled_) return;
  if (int missing = journal_socket_missing(); missing < 0) return unavailable(missing);
  auto fields = fields_of(d, w);
  std::unique_lock lock(queue_->m);
  queue_->room.wait(lock, [&] { return queue_->copies.size() < kMaxQueued; });
  queue_->copies.push_back(std::move(fields));
  if (!queue_->sender.joinable())
    queue_->sender = std::thread([this] {
      std::unique_lock lock(queue_->m);
      for (;;) {
        queue_->cv.wait(lock, [&] { return queue_->stopping || !queue_->copies.empty(); });
        if (queue_->copies.empty()) return;  // stopping, and everything queued was sent
        auto next = std::move(queue_->copies.front());
        queue_->copies.pop_front();
        queue_->room.notify_all();
        lock.unlock();
        deliver(next);
        lock.lock();
      }
    });
  lock.unlock();
  queue_->cv.notify_one();
}

void Journal::deliver(const std::vector<std::string>& fields) {
  std::vector<iovec> iov;
  for (const auto& f : fields) iov.push_back({const_cast<char*>(f.data()), f.size()});
  int rc = sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
  if (rc < 0) return unavailable(rc);
  available_ = true;
}

void Journal::unavailable(int negative_errno) {
  available_ = false;
  if (warned_.exchange(true)) return;
  warn_("receipts: journald is not reachable (" + std::string(std::strerror(-negative_errno)) +
        "); receipts go to the disk log only");
}

}  // namespace clawjail::receipts::detail

namespace clawjail::receipts {

std::string journal_field_value(const Json& payload, const char* key) {
  if (!payload.is_object() || !payload.contains(key)) return "";
  const Json& v = payload[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace clawjail::receipts
