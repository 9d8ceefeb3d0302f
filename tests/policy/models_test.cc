// The WPC's `models` block (docs/claw-bundles.md, "Model calls in the same proof"): parsed into the policy, not
// thrown away; a route clawjail cannot bind receipts for is refused; a model call's provider must
// be listed.
#include <gtest/gtest.h>

#include "policy/decision.h"
#include "policy/json.h"
#include "policy/models.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "wpc_fixtures.h"

namespace clawjail::testing {
namespace {

using policy::Json;

TEST(Models, ParsedIntoThePolicy) {
  auto p = policy::parse_wpc_payload(tool_wpc());
  ASSERT_TRUE(p.ok()) << p.error().detail;
  ASSERT_TRUE(p->models.has_value());
  EXPECT_TRUE(p->models->require_gateway_receipts);
  EXPECT_EQ(p->models->route_via, std::vector<std::string>{"clawproxy"});
  EXPECT_EQ(p->models->providers, std::vector<std::string>{"openrouter_via_fal"});
}

TEST(Models, ProviderMustBeListed) {
  auto p = policy::parse_wpc_payload(tool_wpc());
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(policy::check_model_call(*p, "openrouter_via_fal", "any-model").ok());
  auto other = policy::check_model_call(*p, "openai", "gpt-5");
  EXPECT_EQ(other.reason(), Reason::MODEL_PROVIDER_NOT_ALLOWED);
  EXPECT_NE(other.error().detail.find("openai"), std::string::npos);
  Json without = tool_wpc();
  without.erase("models");
  auto bare = policy::parse_wpc_payload(without);
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->models.has_value());
  EXPECT_EQ(policy::check_model_call(*bare, "openrouter_via_fal", "m").reason(), Reason::MODEL_CALLS_NOT_CONFIGURED);
}

TEST(Models, UnenforceableOrMalformedIsRefused) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"route_via", {"otherproxy"}}}, "otherproxy"},
      {{{"providers", {""}}}, "provider"},
      {{{"providers", "anthropic"}}, "providers"},
      {{{"require_gateway_receipts", "yes"}}, "require_gateway_receipts"},
      {{{"allow_all", true}}, "allow_all"},
  };
  for (const auto& [models, names] : cases) {
    Json wpc = tool_wpc();
    wpc["models"] = models;
    auto p = policy::parse_wpc_payload(wpc);
    ASSERT_FALSE(p.ok()) << models.dump();
    EXPECT_NE(p.error().detail.find(names), std::string::npos) << p.error().detail;
  }
}

// Claw's WPC v1 (policy_version "1"): providers and models become the model-call check, the
// egress allowlist the approved hosts; what only the gateway can apply is refused by name.
Json claw_v1() {
  return Json::parse(R"({ "policy_version":"1", "policy_id":"confidential-run",
    "issuer_did":"did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
    "allowed_providers":["anthropic"], "allowed_models":["claude-*"],
    "egress_allowlist":["api.github.com", "pypi.org:443"],
    "metadata":{ "clawjail":{ "workspace_access":"ro" }, "note":"free" } })");
}

TEST(ClawWpcV1, MappedOntoThePolicy) {
  auto p = policy::parse_wpc_payload(claw_v1());
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(p->shape, "claw_v1");
  ASSERT_TRUE(p->models.has_value());
  EXPECT_TRUE(p->models->require_gateway_receipts);
  EXPECT_EQ(p->sandbox.approved_hosts, (std::vector<std::string>{"api.github.com", "pypi.org:443"}));
  EXPECT_EQ(p->sandbox.workspace_access, policy::WorkspaceAccess::ro);
  EXPECT_TRUE(policy::check_model_call(*p, "anthropic", "claude-sonnet-4").ok());
  EXPECT_EQ(policy::check_model_call(*p, "openai", "claude-sonnet-4").reason(), Reason::MODEL_PROVIDER_NOT_ALLOWED);
  auto model = policy::check_model_call(*p, "anthropic", "gpt-5");
  EXPECT_EQ(model.reason(), Reason::MODEL_PROVIDER_NOT_ALLOWED);
  EXPECT_NE(model.error().detail.find("allowed_models"), std::string::npos);
  // It names no tool: a tool call is refused (default deny).
  policy::Call exec;
  exec.tool = "exec";
  EXPECT_FALSE(policy::decide(*p, nullptr, exec).allowed);
}

TEST(ClawWpcV1, WhatCannotBeEnforcedIsRefused) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"redaction_rules", Json::array({{{"path", "$.messages[*].content"}, {"action", "mask"}}})}}, "redaction_rules"},
      {{{"receipt_privacy_mode", "hash_only"}}, "receipt_privacy_mode"},
      {{{"minimum_model_identity_tier", "tee_measured"}}, "minimum_model_identity_tier"},
      {{{"required_audit_packs", {"abcdefgh12"}}}, "required_audit_packs"},
      {{{"allowed_providers", {"mistral"}}}, "mistral"},
      {{{"egress_allowlist", {"*.github.com"}}}, "*.github.com"},
      {{{"unknown_key", 1}}, "unknown_key"},
      {{{"metadata", {{"clawjail", {{"network", {{"approved_hosts", {"x.org"}}}}}}}}}, "name them once"},
  };
  for (const auto& [extra, names] : cases) {
    Json wpc = claw_v1();
    for (const auto& [k, v] : extra.items()) wpc[k] = v;
    auto p = policy::parse_wpc_payload(wpc);
    ASSERT_FALSE(p.ok()) << extra.dump();
    EXPECT_NE(p.error().detail.find(names), std::string::npos) << p.error().detail;
  }
  Json v3 = claw_v1();
  v3["policy_version"] = "3";
  EXPECT_FALSE(policy::parse_wpc_payload(v3).ok());
}

}  // namespace
}  // namespace clawjail::testing
