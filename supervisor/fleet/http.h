// GET over http(s) with libcurl, for the fleet's control plane (docs/operations.md "Fleet").
// Bounded in time and size: a slow, huge or truncated answer is an error, never a partial body.
#pragma once
#include <chrono>
#include <string>

#include "base/reason.h"

namespace clawjail::fleet {

struct HttpGet {
  std::string url;
  std::string bearer;  // sent as "Authorization: Bearer <it>" when not empty
  std::chrono::milliseconds timeout{5000};  // the whole exchange, connect included
  size_t max_bytes = 1 << 20;               // a larger body is refused
};

struct HttpAnswer {
  long status = 0;
  std::string body;
};

// Any HTTP status is an answer; only a transport failure (unreachable, timeout, oversize,
// truncated, not http(s)) is an error, with `reason` and a detail naming the URL.
Result<HttpAnswer> http_get(const HttpGet& request, Reason reason);

}  // namespace clawjail::fleet
