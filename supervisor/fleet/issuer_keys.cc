// Issuer keys from JWKS URLs (docs/operations.md "Fleet"). The copy on disk is the last JWKS
// fetched, as served; it is parsed again at start like a fresh answer, never trusted more.
#include <spdlog/spdlog.h>

#include "policy/encoding.h"
#include "policy/file_io.h"
#include "policy/jwks.h"
#include "policy/strict_json.h"
#include "supervisor/fleet/fleet.h"
#include "supervisor/fleet/http.h"

namespace clawjail::fleet {
namespace {

constexpr size_t kMaxJwks = 256 << 10;

std::filesystem::path cache_file(const Config& config, const std::string& url) {
  return config.state_dir / "fleet" / ("jwks-" + policy::sha256_b64u(url).substr(0, 22) + ".json");
}

Result<std::vector<policy::CstIssuer>> fetch(const std::string& url, std::chrono::milliseconds timeout,
                                             std::string& body) {
  auto answer = http_get({.url = url, .bearer = "", .timeout = timeout, .max_bytes = kMaxJwks}, Reason::JWKS_FETCH_FAILED);
  if (!answer) return answer.error();
  if (answer->status != 200)
    return fail(Reason::JWKS_FETCH_FAILED, url + ": answered HTTP " + std::to_string(answer->status));
  auto keys = policy::parse_jwks(answer->body);
  if (!keys) return fail(Reason::JWKS_FETCH_FAILED, url + ": " + keys.error().detail);
  body = std::move(answer->body);
  return keys;
}

std::vector<policy::CstIssuer> cached(const std::filesystem::path& cache) {
  auto text = policy::read_file_limited(cache, kMaxJwks);
  if (!text) return {};
  auto keys = policy::parse_jwks(*text);
  if (!keys) {
    spdlog::warn("JWKS cache {}: {}", cache.string(), keys.error().detail);
    return {};
  }
  return std::move(keys.value());
}

}  // namespace

std::vector<policy::CstIssuer> known_issuers(const Config& config) {
  std::vector<policy::CstIssuer> all = config.cst_issuers;
  for (const auto& url : config.jwks_urls) {
    auto keys = cached(cache_file(config, url));
    all.insert(all.end(), keys.begin(), keys.end());
  }
  return all;
}

IssuerKeys::IssuerKeys(const Config& config)
    : configured_(config.cst_issuers), timeout_(config.control_plane_timeout_ms) {
  for (const auto& url : config.jwks_urls) {
    // The endpoint may be down at start: the last copy serves until it answers.
    Source source{url, cache_file(config, url), {}};
    source.keys = cached(source.cache);
    refresh_one(source);
    sources_.push_back(std::move(source));
  }
}

void IssuerKeys::refresh_one(Source& source) {
  std::string body;
  auto keys = fetch(source.url, timeout_, body);
  if (!keys) {
    spdlog::warn("JWKS {}: keeping the last {} key(s): {}", source.url, source.keys.size(), keys.error().detail);
    return;
  }
  if (auto s = policy::ensure_private_dir(source.cache.parent_path(), Reason::JWKS_FETCH_FAILED); !s)
    spdlog::warn("JWKS cache: {}", s.error().detail);
  else if (auto w = policy::write_file_atomic(source.cache, body, 0600, Reason::JWKS_FETCH_FAILED); !w)
    spdlog::warn("JWKS cache: {}", w.error().detail);
  std::lock_guard lock(m_);
  source.keys = std::move(keys.value());
}

void IssuerKeys::refresh() {
  std::lock_guard one(refresh_m_);
  // Each source is fetched without m_ held (issuers() must not wait on the network) and swapped
  // in under it; sources_ itself never changes after construction.
  for (auto& source : sources_) refresh_one(source);
}

bool IssuerKeys::refresh_for_unknown_kid() {
  if (sources_.empty()) return false;
  {
    std::lock_guard lock(m_);
    auto now = std::chrono::steady_clock::now();
    if (last_unknown_kid_refresh_ != std::chrono::steady_clock::time_point{} &&
        now - last_unknown_kid_refresh_ < kUnknownKidInterval)
      return false;
    last_unknown_kid_refresh_ = now;
  }
  refresh();
  return true;
}

std::vector<policy::CstIssuer> IssuerKeys::issuers() const {
  std::lock_guard lock(m_);
  std::vector<policy::CstIssuer> all = configured_;
  for (const auto& source : sources_) all.insert(all.end(), source.keys.begin(), source.keys.end());
  return all;
}

}  // namespace clawjail::fleet
