// clawscope's revocation events (docs/operations.md "Fleet"). An event's record names the
// revoked token by token_hash, the hex SHA-256 of the token as issued: the same digest the ledger
// keeps (base64url) for `cst revoke --token-file`. A record may also carry a jti.
#include <spdlog/spdlog.h>

#include <cctype>

#include "policy/encoding.h"
#include "policy/strict_json.h"
#include "supervisor/fleet/fleet.h"
#include "supervisor/fleet/http.h"

namespace clawjail::fleet {
namespace {

constexpr size_t kMaxPage = 4 << 20;
constexpr int kPageLimit = 200;     // clawscope's largest page
constexpr int kMaxPagesPerPoll = 100;

std::optional<std::string> hex_sha256_to_b64u(const std::string& hex) {
  if (hex.size() != 64) return std::nullopt;
  std::string raw;
  for (size_t i = 0; i < 64; i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  return policy::b64u_encode(raw);
}

std::string percent_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string read_token(const std::filesystem::path& file, std::string& error) {
  auto text = policy::read_file_limited(file, 64 << 10);
  if (!text) {
    error = "token_file " + text.error().detail;
    return "";
  }
  std::string token = *text;
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) error = "token_file " + file.string() + " is empty";
  return token;
}

// The revocation a record asks for; nullopt for a record that names no token this ledger keys.
std::optional<policy::TokenLedger::FeedRevocation> revocation_of(const policy::Json& event) {
  if (!event.is_object() || !event.contains("record") || !event["record"].is_object()) return std::nullopt;
  const auto& record = event["record"];
  policy::TokenLedger::FeedRevocation r;
  if (record.contains("token_hash") && record["token_hash"].is_string())
    if (auto hash = hex_sha256_to_b64u(record["token_hash"].get<std::string>())) r.token_sha256_b64u = *hash;
  if (record.contains("jti") && record["jti"].is_string()) r.jti = record["jti"].get<std::string>();
  if (r.token_sha256_b64u.empty() && r.jti.empty()) return std::nullopt;
  r.why = "revoked at the issuer";
  if (record.contains("reason") && record["reason"].is_string())
    r.why += ": " + record["reason"].get<std::string>().substr(0, 256);
  return r;
}

}  // namespace

RevocationFeed::RevocationFeed(const RevocationFeedConfig& feed, const Config& config)
    : feed_(feed), timeout_(config.control_plane_timeout_ms), ledger_(config.state_dir) {}

Result<bool> RevocationFeed::read_page() {
  std::string error;
  std::string token = read_token(feed_.token_file, error);
  if (!error.empty()) return fail(Reason::REVOCATION_FEED_FAILED, error);
  auto cursor = ledger_.feed_cursor(feed_.url);
  if (!cursor) return cursor.error();
  std::string url = feed_.url + (feed_.url.find('?') == std::string::npos ? "?" : "&") + "limit=" +
                    std::to_string(kPageLimit) + (*cursor ? "&cursor=" + percent_encode(**cursor) : "");
  auto answer = http_get({.url = url, .bearer = token, .timeout = timeout_, .max_bytes = kMaxPage},
                         Reason::REVOCATION_FEED_FAILED);
  if (!answer) return answer.error();
  if (answer->status != 200)
    return fail(Reason::REVOCATION_FEED_FAILED, feed_.url + ": answered HTTP " + std::to_string(answer->status));
  auto page = policy::parse_strict_json(answer->body, {.max_bytes = kMaxPage, .max_depth = 16, .allow_floats = true});
  if (!page) return fail(Reason::REVOCATION_FEED_FAILED, feed_.url + ": " + page.error().detail);
  if (!page->is_object() || !page->contains("events") || !(*page)["events"].is_array() ||
      !page->contains("list_complete") || !(*page)["list_complete"].is_boolean())
    return fail(Reason::REVOCATION_FEED_FAILED, feed_.url + ": not a revocation page ({events, cursor, list_complete})");
  std::vector<policy::TokenLedger::FeedRevocation> revoked;
  for (const auto& event : (*page)["events"]) {
    if (auto r = revocation_of(event)) revoked.push_back(std::move(*r));
    else spdlog::warn("revocation feed {}: an event names no token hash or jti, skipped: {}", feed_.url, event.dump().substr(0, 200));
  }
  bool complete = (*page)["list_complete"].get<bool>();
  const auto& next = page->contains("cursor") ? (*page)["cursor"] : policy::Json();
  // No cursor past the end: the next read starts over (applying an event twice changes nothing).
  std::optional<std::string> stored = next.is_string() && !next.get<std::string>().empty()
                                          ? std::optional<std::string>(next.get<std::string>())
                                          : std::nullopt;
  if (!complete && !stored)
    return fail(Reason::REVOCATION_FEED_FAILED, feed_.url + ": list_complete is false and there is no cursor");
  if (auto s = ledger_.apply_feed(feed_.url, revoked, stored); !s) return s.error();
  for (const auto& r : revoked)
    spdlog::info("revocation feed: {} {} is revoked", r.token_sha256_b64u.empty() ? "jti" : "token",
                 r.token_sha256_b64u.empty() ? r.jti : r.token_sha256_b64u);
  return !complete;
}

Status RevocationFeed::poll() {
  for (int page = 0; page < kMaxPagesPerPoll; ++page) {
    auto more = read_page();
    if (!more) {
      std::lock_guard lock(m_);
      last_error_ = more.error().detail;
      return more.error();
    }
    if (!*more) {
      std::lock_guard lock(m_);
      last_ok_ = std::chrono::steady_clock::now();
      last_error_.clear();
      return ok_status();
    }
  }
  // Still more: read on at the next poll, from the stored cursor; not yet current.
  return fail(Reason::REVOCATION_FEED_FAILED, feed_.url + ": more than " + std::to_string(kMaxPagesPerPoll) +
                                                  " pages behind, reading on at the next poll");
}

Status RevocationFeed::fresh() const {
  std::lock_guard lock(m_);
  auto why = last_error_.empty() ? std::string() : ": " + last_error_;
  if (!last_ok_)
    return fail(Reason::REVOCATION_FEED_STALE, "the revocation feed " + feed_.url + " has not been read since start" + why);
  auto age = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - *last_ok_);
  if (age.count() > feed_.max_staleness_s)
    return fail(Reason::REVOCATION_FEED_STALE, "the revocation feed " + feed_.url + " was last read " +
                                                   std::to_string(age.count()) + " s ago (max_staleness_s " +
                                                   std::to_string(feed_.max_staleness_s) + ")" + why);
  return ok_status();
}

}  // namespace clawjail::fleet
