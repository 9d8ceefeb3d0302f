// The supervisor's side of the fleet's control plane (docs/operations.md "Fleet"): issuer keys
// from JWKS URLs and the issuer's revocation feed, each kept current by its own thread.
// (WPCs by hash are fetched on demand: supervisor/fleet/wpc_fetch.h.)
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "policy/cst.h"
#include "policy/ledger.h"
#include "supervisor/common/config.h"
#include "supervisor/common/ticker.h"

namespace clawjail::fleet {

// The configured cst_issuers {kid, did} first, then the keys of every jwks_url as last fetched.
// A JWKS that cannot be fetched keeps its last good keys (from memory, or at start from the copy
// under <state_dir>/fleet/); a fetched one replaces them whole, so a key removed from it stops
// being accepted at the next refresh.
class IssuerKeys {
 public:
  explicit IssuerKeys(const Config& config);
  std::vector<policy::CstIssuer> issuers() const;
  void refresh();  // every JWKS, now
  // A token named a kid no issuer has: refresh, at most once per kUnknownKidInterval (a caller
  // cannot make the supervisor hammer the issuer). True when a refresh ran.
  bool refresh_for_unknown_kid();
  static constexpr std::chrono::seconds kUnknownKidInterval{5};

 private:
  struct Source {
    std::string url;
    std::filesystem::path cache;
    std::vector<policy::CstIssuer> keys;
  };
  void refresh_one(Source& source);
  std::vector<policy::CstIssuer> configured_;
  std::chrono::milliseconds timeout_;
  mutable std::mutex m_;
  std::vector<Source> sources_;
  std::mutex refresh_m_;  // one refresh at a time
  std::chrono::steady_clock::time_point last_unknown_kid_refresh_{};
};

// Follows clawscope's GET /v1/revocations/events: each page's revocations are written to the
// ledger with the cursor after them (policy::TokenLedger::apply_feed); the ledger watcher then
// kills the running calls of a revoked token as it does after `cst revoke`.
class RevocationFeed {
 public:
  RevocationFeed(const RevocationFeedConfig& feed, const Config& config);
  Status poll();  // every page there is now
  // REVOCATION_FEED_STALE when the feed was not read successfully for max_staleness_s (or not
  // yet since start): new calls are refused.
  Status fresh() const;

 private:
  Result<bool> read_page();  // true when the feed says there is more
  RevocationFeedConfig feed_;
  std::chrono::milliseconds timeout_;
  policy::TokenLedger ledger_;
  mutable std::mutex m_;
  std::optional<std::chrono::steady_clock::time_point> last_ok_;
  std::string last_error_;
};

// Without the network (the audit, `cst verify`): the configured cst_issuers, then the keys of
// each jwks_url's copy on disk, as a supervisor would start with them if its JWKS were down.
std::vector<policy::CstIssuer> known_issuers(const Config& config);

class Fleet {
 public:
  // Reads every JWKS and the feed once before returning (the first calls find them current),
  // then keeps them so on their own threads.
  explicit Fleet(const Config& config);
  std::vector<policy::CstIssuer> issuers() const { return keys_.issuers(); }
  bool refresh_for_unknown_kid() { return keys_.refresh_for_unknown_kid(); }
  Status revocations_fresh() const { return feed_ ? feed_->fresh() : ok_status(); }

 private:
  IssuerKeys keys_;
  std::optional<RevocationFeed> feed_;
  std::optional<Ticker> jwks_ticker_, feed_ticker_;  // declared last: stopped first
};

}  // namespace clawjail::fleet
