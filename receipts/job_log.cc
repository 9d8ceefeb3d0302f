// One job's durable, append-only receipt log with group commit (see JobLogWriter in internal.h).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>

#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "base/unique_fd.h"
#include "receipts/internal.h"

namespace clawjail::receipts::detail {
namespace {

Error store_failed(const std::string& job, std::string what) {
  return fail(Reason::RECEIPT_STORE_FAILED, "job " + job + ": " + std::move(what));
}

std::string errno_text(int err) { return std::strerror(err); }

// Line `number` of a log continues the chain at `next`: its seq is next's and its prev names the
// line before, or appending would extend a chain nobody can verify.
Status link_line(std::string_view line, uint64_t number, const std::string& job, ChainLink& next, OpenCalls& open) {
  auto where = "log line " + std::to_string(number) + ": ";
  auto env = Json::parse(line, nullptr, false);
  auto payload = env.is_discarded() ? Result<std::string>(fail(Reason::BAD_JSON, "not JSON")) : dsse_payload(env);
  if (!payload.ok()) return fail(Reason::RECEIPT_STORE_FAILED, where + payload.error().detail);
  auto p = Json::parse(*payload, nullptr, false);
  if (p.is_discarded() || !p.is_object() || !p.contains("seq") || !p.contains("prev_receipt_hash_b64u"))
    return fail(Reason::RECEIPT_STORE_FAILED, where + "payload is not a receipt");
  Json prev = next.prev_hash_b64u ? Json(*next.prev_hash_b64u) : Json(nullptr);
  if (p["seq"] != next.seq || p["prev_receipt_hash_b64u"] != prev)
    return fail(Reason::RECEIPT_STORE_FAILED, where + "breaks the chain (seq or prev); the log needs an audit");
  next = ChainLink{next.seq + 1, policy::sha256_b64u(*payload), claw_event_hash_at(p, *payload, job, next)};
  open.see(p);
  return ok_status();
}

// What reopening a log finds: the chain position after its good lines, where they end, a torn
// final line to set aside, and the calls its lines leave open.
struct Recovered {
  ChainLink next;
  OpenCalls open;
  uint64_t good_end = 0;
  uint64_t lines = 0;
  std::optional<std::string> tail;
};

// The log is read a MiB at a time, never whole: a long job's log may be gigabytes. Each line is
// linked once the next one shows that it was not the last, since only the last may be torn.
Result<Recovered> recover_log(int fd, const std::string& job) {
  Recovered r;
  std::optional<std::string> pending;
  auto link_pending = [&]() -> Status {
    if (auto s = link_line(*pending, r.lines + 1, job, r.next, r.open); !s.ok()) return s;
    ++r.lines;
    r.good_end += pending->size() + 1;
    return ok_status();
  };
  auto rest = for_each_line(fd, kMaxLogBytes, [&](std::string_view line) -> Status {
    if (pending)
      if (auto s = link_pending(); !s.ok()) return s;
    pending.emplace(line);
    return ok_status();
  });
  if (!rest.ok()) return store_failed(job, rest.error().detail);
  if (!rest->empty()) {  // no '\n' after the last bytes
    r.tail = std::move(*rest);
  } else if (pending && !parses_as_object(*pending)) {
    // A crash can leave a complete-looking last line of zeros or garbage (size updated before
    // data): it was never acknowledged, so it is torn too.
    r.tail = *pending + "\n";
    pending.reset();
  }
  if (pending)
    if (auto s = link_pending(); !s.ok()) return store_failed(job, s.error().detail);
  return r;
}

Result<std::filesystem::path> set_aside_tail(const std::filesystem::path& log, const std::string& job,
                                             const std::string& tail) {
  for (int n = 1; n < 10000; ++n) {
    auto path = log;
    path += ".torn-" + std::to_string(n);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd && errno == EEXIST) continue;
    if (!fd) return store_failed(job, "create " + path.string() + ": " + errno_text(errno));
    if (::write(fd.get(), tail.data(), tail.size()) != static_cast<ssize_t>(tail.size()) ||
        ::fsync(fd.get()) != 0)
      return store_failed(job, "write " + path.string() + ": " + errno_text(errno));
    if (auto s = fsync_dir(log.parent_path()); !s.ok()) return s.error();
    return path;
  }
  return store_failed(job, "too many torn files beside " + log.string());
}

Result<UniqueFd> open_log_fd(const std::filesystem::path& path, const std::string& job) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  bool existed = std::filesystem::exists(path, ec);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640));
  if (!fd) return store_failed(job, "open " + path.string() + ": " + errno_text(errno));
  // One writer per log, across processes too: two supervisors would interleave chains.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
    return store_failed(job, path.string() + " is held by another writer");
  if (!existed)
    if (auto s = fsync_dir(path.parent_path()); !s.ok()) return s.error();
  return fd;
}

}  // namespace

struct JobLogWriter::State {
  std::string job;
  std::filesystem::path path;
  UniqueFd fd;

  struct Ticket {
    uint64_t end = 0;
    bool done = false;
    std::optional<Error> error;
  };
  std::mutex mu;
  std::condition_variable cv;
  uint64_t end = 0;          // bytes written
  uint64_t durable_end = 0;  // bytes known to be on disk
  ChainLink next;            // the link of the next line written
  ChainLink durable_next;    // the link after the durable prefix: where a rollback returns
  std::deque<Ticket*> waiting;  // lines written but not yet durable, in file order
  bool syncing = false;
  bool broken = false;
  int64_t syncs = 0;
  OpenCalls open_at_start;  // calls the log left open when this writer opened it

  Status write_line(const std::string& text);
  Status truncate_to(uint64_t size);
  void lead_sync(std::unique_lock<std::mutex>& lock);
};

Status JobLogWriter::State::write_line(const std::string& text) {
  std::string_view rest = text;
  while (!rest.empty()) {
    ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return store_failed(job, "write " + path.string() + ": " + errno_text(n < 0 ? errno : EIO));
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

// Cuts the file back to `size` so that no line the chain does not know of stays on disk.
Status JobLogWriter::State::truncate_to(uint64_t size) {
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    broken = true;
    return store_failed(job, "truncate after a failed write: " + errno_text(errno));
  }
  end = size;
  return ok_status();
}

void JobLogWriter::State::lead_sync(std::unique_lock<std::mutex>& lock) {
  syncing = true;
  uint64_t target = end;
  ChainLink target_next = next;
  lock.unlock();
  int rc = ::fdatasync(fd.get());
  int err = errno;
  lock.lock();
  syncing = false;
  ++syncs;
  if (rc == 0) {
    durable_end = target;
    durable_next = target_next;
    while (!waiting.empty() && waiting.front()->end <= target) {
      waiting.front()->done = true;
      waiting.pop_front();
    }
  } else {
    // After a failed fdatasync the kernel may have dropped the dirty pages: nothing past the
    // durable prefix can be trusted, so every waiting line is cut off and refused, and the
    // chain goes back to the last durable receipt.
    auto why = store_failed(job, "fdatasync " + path.string() + ": " + errno_text(err));
    auto cut = truncate_to(durable_end);
    next = durable_next;
    for (Ticket* t : waiting) {
      t->done = true;
      t->error = cut.ok() ? why : cut.error();
    }
    waiting.clear();
  }
  cv.notify_all();
}

JobLogWriter::JobLogWriter(Key) : s_(std::make_unique<State>()) {}
JobLogWriter::~JobLogWriter() = default;

Result<std::unique_ptr<JobLogWriter>> JobLogWriter::open(const std::filesystem::path& state_dir,
                                                         const std::string& job_id,
                                                         std::vector<std::string>& warnings) {
  if (auto s = check_job_id(job_id); !s.ok()) return s.error();
  auto w = std::make_unique<JobLogWriter>(Key{});
  State& s = *w->s_;
  s.job = job_id;
  s.path = log_path(state_dir, job_id);
  auto fd = open_log_fd(s.path, job_id);
  if (!fd.ok()) return fd.error();
  s.fd = std::move(*fd);
  auto found = recover_log(s.fd.get(), job_id);
  if (!found.ok()) return found.error();
  if (found->tail) {
    auto aside = set_aside_tail(s.path, job_id, *found->tail);
    if (!aside.ok()) return aside.error();
    if (auto t = s.truncate_to(found->good_end); !t.ok()) return t.error();
    if (::fdatasync(s.fd.get()) != 0) return store_failed(job_id, "fdatasync: " + errno_text(errno));
    warnings.push_back("receipts: job " + job_id + ": torn final line (" +
                       std::to_string(found->tail->size()) + " bytes at offset " +
                       std::to_string(found->good_end) + ") set aside in " + aside->string() +
                       "; the " + std::to_string(found->lines) + " lines before it are kept");
  }
  s.end = s.durable_end = found->good_end;
  s.next = s.durable_next = found->next;
  s.open_at_start = std::move(found->open);
  return w;
}

Result<Line> JobLogWriter::append(const MakeLine& make) {
  State& s = *s_;
  std::unique_lock lock(s.mu);
  if (s.broken) return store_failed(s.job, "the log could not be repaired after a failed write");
  Line line = make(s.next);
  uint64_t start = s.end;
  if (auto w = s.write_line(line.text); !w.ok()) {
    auto cut = s.truncate_to(start);  // a partial line (disk full) must not stay behind
    return cut.ok() ? w.error() : cut.error();
  }
  s.end = start + line.text.size();
  s.next = ChainLink{s.next.seq + 1, policy::sha256_b64u(line.payload), line.claw_event_hash_b64u};
  State::Ticket ticket;
  ticket.end = s.end;
  s.waiting.push_back(&ticket);
  while (!ticket.done) {
    if (!s.syncing)
      s.lead_sync(lock);
    else
      s.cv.wait(lock);
  }
  if (ticket.error) return *ticket.error;
  return line;
}

std::vector<Json> JobLogWriter::take_open_at_start() {
  std::lock_guard lock(s_->mu);
  return s_->open_at_start.take();
}

bool JobLogWriter::broken() const {
  std::lock_guard lock(s_->mu);
  return s_->broken;
}

int64_t JobLogWriter::syncs() const {
  std::lock_guard lock(s_->mu);
  return s_->syncs;
}

}  // namespace clawjail::receipts::detail
