// Outside bytes as a proof bundle handed to `clawjail bundle verify`.
#include <cstdint>
#include <string_view>

#include "receipts/receipts.h"
#include "tests/fuzz/fuzz_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clawjail;
  static const std::vector<std::string> trusted = {fuzz::test_key().did()};
  auto json = policy::parse_strict_json(std::string_view(reinterpret_cast<const char*>(data), size),
                                        {.max_bytes = 16 << 20, .max_depth = 64, .allow_floats = false});
  if (!json) return 0;
  auto verdict = receipts::verify_bundle(*json, trusted);
  (void)verdict.line();
  (void)verdict.to_json();
  return 0;
}
