// Fixed keys for the fuzz targets: the fuzzer must be able to reach the code behind a signature
// check, so the seeds are signed with these well-known (test-only) keys.
#pragma once
#include <string>

#include "policy/keys.h"

namespace clawjail::fuzz {

inline const policy::SecretKey& test_key() {
  static const policy::SecretKey key =
      policy::SecretKey::from_seed(std::string(32, '\x42')).value();
  return key;
}

}  // namespace clawjail::fuzz
