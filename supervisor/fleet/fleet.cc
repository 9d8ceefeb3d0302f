#include "supervisor/fleet/fleet.h"

#include <spdlog/spdlog.h>

namespace clawjail::fleet {

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
