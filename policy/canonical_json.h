// RFC 8785 canonical JSON (JCS): the bytes every hash and signature here is over.
#pragma once
#include <string>

#include "policy/json.h"

namespace clawjail::policy {

// RFC 8785 JCS. Throws std::invalid_argument for values JCS cannot express (NaN, Infinity).
std::string canonical_json(const Json& value);
std::string canonical_hash_b64u(const Json& value);          // sha256_b64u(canonical_json(v))

}  // namespace clawjail::policy
