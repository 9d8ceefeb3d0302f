// Outside bytes → strict JSON → WPC payload and envelope verification. Must never crash or leak.
#include <cstdint>
#include <string_view>

#include "policy/canonical_json.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "tests/fuzz/fuzz_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clawjail::policy;
  static const std::vector<std::string> signers = {clawjail::fuzz::test_key().did()};
  auto json = parse_strict_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!json) return 0;
  (void)canonical_hash_b64u(*json);
  (void)wpc_hash(*json);
  if (json->is_object() && json->contains("payload"))
    (void)verify_wpc_envelope(*json, signers);
  else
    (void)parse_wpc_payload(*json);
  return 0;
}
