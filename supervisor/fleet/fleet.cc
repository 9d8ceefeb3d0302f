#include "supervisor/fleet/fleet.h"

#include <spdlog/spdlog.h>

namespace clawjail::fleet {

Ticker::Ticker(std::chrono::milliseconds period, std::function<void()> tick)
    : period_(period), tick_(std::move(tick)), thread_([this] { loop(); }) {}

Ticker::~Ticker() {
  {
    std::lock_guard lock(m_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Ticker::loop() {
  std::unique_lock lock(m_);
  while (!cv_.wait_for(lock, period_, [this] { return stop_; })) {
    lock.unlock();
    tick_();
    lock.lock();
  }
}

Fleet::Fleet(const Config& config) : keys_(config) {
  if (config.revocation_feed) {
    feed_.emplace(*config.revocation_feed, config);
    if (auto s = feed_->poll(); !s) spdlog::warn("revocation feed: {}", s.error().detail);
    feed_ticker_.emplace(std::chrono::seconds(config.revocation_feed->poll_s), [this] {
      if (auto s = feed_->poll(); !s) spdlog::warn("revocation feed: {}", s.error().detail);
    });
  }
  if (!config.jwks_urls.empty())
    jwks_ticker_.emplace(std::chrono::seconds(config.jwks_refresh_s), [this] { keys_.refresh(); });
}

}  // namespace clawjail::fleet
