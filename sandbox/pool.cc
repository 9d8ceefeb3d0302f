// Jails built ahead of their calls: the namespaces, mounts, cgroup and filters of the next call
// are ready before it arrives (jail.h, JailPool).
#include "base/reason.h"
#include "sandbox/runner.h"
#include "sandbox/spec.h"

namespace clawjail::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// The wall-clock timeout is handed over with the command: a jail built ahead is taken by a call
// of exactly its spec but for that.
std::string key_of(const JailSpec& spec) {
  JailSpec key = spec;
  key.limits.timeout_ms = 0;
  return detail::spec_key(key);
}

bool poolable(const JailSpec& spec, const Io& io) { return !spec.network && !io.pty; }

}  // namespace

struct JailPool::Entry {
  std::string key;
  Jail jail;
  Clock::time_point built;
};

JailPool::JailPool(size_t capacity, std::chrono::milliseconds idle, size_t per_spec)
    : capacity_(capacity), per_spec_(std::min(per_spec, capacity)), idle_(idle) {}

JailPool::~JailPool() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
    queued_.clear();
  }
  wanted_.notify_all();
  if (thread_.joinable()) thread_.join();
  clear();
}

// Jails that waited too long, or whose init died (killed from outside): they are dropped, by
// the caller, outside the lock, since dropping one waits for its tree to be gone.
std::vector<JailPool::Entry> JailPool::take_expired_locked() {
  std::vector<Entry> out;
  const auto oldest = Clock::now() - idle_;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->built >= oldest && !it->jail.ended()) {
      ++it;
      continue;
    }
    out.push_back(std::move(*it));
    it = waiting_.erase(it);
  }
  return out;
}

std::vector<JailPool::Entry>::iterator JailPool::find_waiting_locked(const std::string& key) {
  return std::find_if(waiting_.begin(), waiting_.end(), [&](const Entry& e) { return e.key == key; });
}

size_t JailPool::waiting_count_locked(const std::string& key) const {
  return static_cast<size_t>(std::count_if(waiting_.begin(), waiting_.end(), [&](const Entry& e) { return e.key == key; }));
}

Result<Jail> JailPool::begin(const JailSpec& spec, const Command& command, const Io& io) {
  std::vector<Entry> dropped;
  std::optional<Jail> ready;
  if (poolable(spec, io)) {
    const std::string key = key_of(spec);
    std::lock_guard lock(m_);
    dropped = take_expired_locked();
    if (auto it = find_waiting_locked(key); it != waiting_.end()) {
      ready = std::move(it->jail);
      waiting_.erase(it);
    }
  }
  // A jail whose bind sources changed since it was built is dropped: the call gets a new one.
  if (ready && !ready->ended() && ready->hand_over(spec, command, io)) {
    std::lock_guard lock(m_);
    ++taken_;
    return std::move(*ready);
  }
  ready.reset();
  return Jail::begin(spec, command, io);
}

void JailPool::build_ahead(const JailSpec& spec) {
  if (capacity_ == 0 || !poolable(spec, Io{}) || !detail::Runner::builds_ahead()) return;
  std::string key = key_of(spec);
  {
    std::lock_guard lock(m_);
    if (stopping_ || waiting_count_locked(key) >= per_spec_) return;
    queued_.emplace(std::move(key), spec);
    if (!thread_.joinable()) thread_ = std::thread([this] { builder(); });
  }
  wanted_.notify_one();
}

// One thread builds every jail ahead, one at a time: building is off the calls' path, and a
// burst of calls asks for at most `per_spec` jails of a spec. Jails are dropped outside the lock, since
// dropping one waits for its tree to be gone.
void JailPool::builder() {
  std::unique_lock lock(m_);
  for (;;) {
    // Woken at least every `idle_`: jails that waited that long go even when no call comes.
    if (!wanted_.wait_for(lock, idle_, [&] { return stopping_ || !queued_.empty(); })) {
      std::vector<Entry> expired = take_expired_locked();
      lock.unlock();
      expired.clear();
      lock.lock();
      continue;
    }
    if (stopping_) return;
    auto wanted = queued_.extract(queued_.begin());
    const std::string key = wanted.key();
    std::vector<Entry> dropped = take_expired_locked();
    const bool enough = waiting_count_locked(key) >= per_spec_;
    lock.unlock();
    dropped.clear();
    if (enough) {
      lock.lock();
      continue;
    }
    auto jail = Jail::ahead(wanted.mapped());  // one that cannot be built now is built by its call, which says why
    std::optional<Entry> made;
    if (jail) made.emplace(Entry{key, std::move(*jail), Clock::now()});
    lock.lock();
    if (made && !stopping_) {
      if (waiting_.size() >= capacity_) {
        dropped.push_back(std::move(waiting_.front()));
        waiting_.erase(waiting_.begin());
      }
      waiting_.push_back(std::move(*made));
      made.reset();
      if (waiting_count_locked(key) < per_spec_) queued_.insert(std::move(wanted));  // the next one of this spec
    }
    lock.unlock();
    made.reset();
    dropped.clear();
    lock.lock();
  }
}

bool JailPool::available() { return detail::Runner::builds_ahead(); }

void JailPool::clear() {
  std::vector<Entry> dropped;
  std::lock_guard lock(m_);
  queued_.clear();
  dropped.swap(waiting_);
}

size_t JailPool::size() const {
  std::lock_guard lock(m_);
  return waiting_.size();
}

size_t JailPool::taken() const {
  std::lock_guard lock(m_);
  return taken_;
}

}  // namespace clawjail::sandbox
