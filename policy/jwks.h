// An issuer's JSON Web Key Set (RFC 7517) as clawscope's GET /v1/jwks serves it: its Ed25519
// keys (kty OKP, crv Ed25519) become CST issuers, kid -> did:key (docs/operations.md "Fleet").
#pragma once
#include <string_view>
#include <vector>

#include "policy/cst.h"
#include "base/reason.h"

namespace clawjail::policy {

// Keys of another type or curve, or marked for another use than "sig", are left out: a JWKS may
// carry them and a CST can only be checked with an Ed25519 one. An Ed25519 key that is malformed
// (no kid, x not 32 bytes of base64url, alg other than EdDSA), a repeated kid, or a document that
// is not a JWKS refuses the whole set: a half-understood key list is not a key list.
Result<std::vector<CstIssuer>> parse_jwks(std::string_view body);

}  // namespace clawjail::policy
