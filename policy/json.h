// JSON values: nlohmann::json as every library uses it, and raw bytes.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace clawjail::policy {

using Json = nlohmann::json;
using Bytes = std::vector<uint8_t>;

}  // namespace clawjail::policy
