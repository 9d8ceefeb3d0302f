// Strict JSON for outside bytes: every document read from a client, a file or a peer.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "policy/json.h"
#include "base/reason.h"

namespace clawjail::policy {

struct JsonLimits {
  size_t max_bytes = 1 << 20;  // 1 MiB
  int max_depth = 64;
  bool allow_floats = false;
};
// Strict parse for outside bytes: duplicate keys, oversize, over-deep, floats (unless allowed),
// NaN/Infinity and trailing garbage are refused with a reason naming the place.
Result<Json> parse_strict_json(std::string_view text, const JsonLimits& limits = {});
// Reads at most limits.max_bytes from `path` (else DOCUMENT_TOO_LARGE) and parses it strictly.
// A file that cannot be read is BAD_JSON with the path and errno text.
Result<Json> parse_strict_json_file(const std::filesystem::path& path, const JsonLimits& limits = {});
Result<std::string> read_file_limited(const std::filesystem::path& path, size_t max_bytes);

}  // namespace clawjail::policy
