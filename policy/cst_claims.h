// Private to policy/: the claim set of a CST (scoped_token_claims.v1.json) and the scope grant of
// check 6, shared by cst.cc, cst_call.cc and decision.cc.
#pragma once
#include "policy/cst.h"
#include "policy/decision.h"
#include "policy/json.h"

namespace clawjail::policy {

// Check 2: the schema, with every unknown claim refused; fills the typed fields of `out`.
Status read_cst_claims(const Json& claims, Cst& out);
// Check 6: `clawjail:call` or `*` admits; `tool:<entry>` claims, if any, must cover every scope.
Status cst_grants(const Cst& cst, const std::vector<std::string>& needed_scopes);

}  // namespace clawjail::policy
