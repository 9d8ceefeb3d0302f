// Private to the Claw form's verifier (claw_verify.cc, claw_native.cc).
#pragma once
#include <optional>
#include <string>

#include "receipts/claw_bundle.h"

namespace clawjail::receipts::claw::detail {

struct Failure {
  std::string code, detail;  // Claw's reason code where it has one, else clawjail's
};
using Check = std::optional<Failure>;
inline Check failure(std::string code, std::string detail) { return Failure{std::move(code), std::move(detail)}; }

bool signature_ok(const std::string& did, const OJson& sig_b64u, const std::string& message);
// Claw's rules for a gateway receipt envelope (claw_verify.cc), also applied when one is imported
// (gateway_receipts.cc): its schema, then its own payload hash and signature.
bool gateway_receipt_shape_ok(const OJson& envelope);
Check signed_entry_ok(const OJson& envelope, const std::string& where);

// clawjail's own checks of a bundle it exported (claw_native.cc): run after Claw's have passed.
Check check_clawjail(const OJson& envelope, const ClawVerifyOptions& options, bool& native_checked);

}  // namespace clawjail::receipts::claw::detail
