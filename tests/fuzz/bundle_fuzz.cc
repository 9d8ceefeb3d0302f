// Outside bytes as a proof bundle handed to `clawjail bundle verify`: the native form and the Claw
// form (docs/claw-bundles.md).
#include <cstdint>
#include <string_view>

#include "policy/strict_json.h"
#include "receipts/claw_bundle.h"
#include "receipts/receipts.h"
#include "tests/fuzz/fuzz_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clawjail;
  static const std::vector<std::string> trusted = {fuzz::test_key().did()};
  std::string_view text(reinterpret_cast<const char*>(data), size);
  receipts::claw::ClawVerifyOptions claw;
  claw.trusted = trusted;
  claw.native_bundle_text = std::string(text);  // a bundle against itself as its native bundle
  auto claw_verdict = receipts::claw::verify_claw_bundle(text, claw);
  (void)claw_verdict.line();
  (void)claw_verdict.to_json();
  auto json = policy::parse_strict_json(text,
                                        {.max_bytes = 16 << 20, .max_depth = 64, .allow_floats = false});
  if (!json) return 0;
  auto verdict = receipts::verify_bundle(*json, trusted);
  (void)verdict.line();
  (void)verdict.to_json();
  return 0;
}
