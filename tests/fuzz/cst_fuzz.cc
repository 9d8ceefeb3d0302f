// Outside bytes as a CST (compact JWS): every check of docs/formats.md §3 runs on them.
#include <cstdint>
#include <string_view>

#include "policy/cst.h"
#include "tests/fuzz/fuzz_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clawjail::policy;
  static const CstVerifyOptions options = [] {
    CstVerifyOptions o;
    o.issuers = {{"fuzz-issuer", clawjail::fuzz::test_key().did()}};
    // A fixed clock keeps a seed token valid forever, so the fuzzer reaches the claim checks.
    o.now = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
    return o;
  }();
  auto cst = verify_cst(std::string_view(reinterpret_cast<const char*>(data), size), options);
  if (cst) (void)token_scope_hash_b64u(cst->claims);
  return 0;
}
