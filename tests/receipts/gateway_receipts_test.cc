// Model calls in a job's proof (docs/claw-bundles.md, "Model calls in the same proof"): the Claw event hash the store
// hands out when it records a model call's `started` is the one the Claw export puts in the chain
// (across a restart and a part boundary), and a gateway receipt counts only when it checks out.
#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "policy/models.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "receipts/claw_bundle.h"
#include "receipts/gateway_receipts.h"
#include "test_util.h"

namespace clawjail::receipts::testing {
namespace {

using claw::OJson;

constexpr const char* kJob = "job-models";

std::string install_model_wpc(const fs::path& state_dir, const SecretKey& signer, bool require) {
  Json payload = {{"wpc_version", "v1"},
                  {"policy_id", "models-test"},
                  {"issuer_did", signer.did()},
                  {"tools", {{"allow", {"exec"}}}},
                  {"models", {{"require_gateway_receipts", require}, {"route_via", {"clawproxy"}}, {"providers", {"anthropic"}}}}};
  Json envelope = policy::sign_wpc(payload, signer);
  auto hash = policy::wpc_hash(envelope);
  fs::create_directories(state_dir / "policies");
  spit(state_dir / "policies" / (*hash + ".json"), envelope.dump());
  return *hash;
}

Draft model_draft(const std::string& phase, const std::string& call, const std::string& policy_hash) {
  Draft d = draft(phase, kJob, call, policy_hash);
  d.tool = policy::kModelCallTool;
  d.scopes = {policy::kModelCallTool};
  d.jail_hash_b64u.reset();
  return d;
}

// A gateway receipt as clawproxy signs one: SHA-256 of the payload as JSON.stringify writes it,
// Ed25519 over that string.
struct Binding {
  std::optional<std::string> run_id, event_hash, nonce, policy_hash;
};
std::string gateway_receipt(const SecretKey& gateway, const Binding& b, const std::string& provider = "anthropic") {
  OJson p;
  p["receipt_version"] = "1";
  p["receipt_id"] = "rcpt_" + unique_name("g");
  p["gateway_id"] = "clawproxy-test";
  p["provider"] = provider;
  p["model"] = "claude";
  p["request_hash_b64u"] = hash_of("request");
  p["response_hash_b64u"] = hash_of("response");
  p["tokens_input"] = 1;
  p["tokens_output"] = 2;
  p["latency_ms"] = 3;
  p["timestamp"] = "2026-12-06T07:00:00.000Z";
  OJson binding = OJson::object();
  if (b.run_id) binding["run_id"] = *b.run_id;
  if (b.event_hash) binding["event_hash_b64u"] = *b.event_hash;
  if (b.nonce) binding["nonce"] = *b.nonce;
  if (b.policy_hash) binding["policy_hash"] = *b.policy_hash;
  if (!binding.empty()) p["binding"] = binding;
  std::string hash = claw::stringify_hash_b64u(p);
  OJson env;
  env["envelope_version"] = "1";
  env["envelope_type"] = "gateway_receipt";
  env["payload"] = p;
  env["payload_hash_b64u"] = hash;
  env["hash_algorithm"] = "SHA-256";
  env["signature_b64u"] = policy::b64u_encode(gateway.sign(hash));
  env["algorithm"] = "Ed25519";
  env["signer_did"] = gateway.did();
  env["issued_at"] = "2026-12-06T07:00:00.000Z";
  return claw::stringify(env);
}

class GatewayReceipts : public ::testing::Test {
 protected:
  TempDir dir;
  SecretKey wpc_signer = key_from('w'), gateway = key_from('g'), rogue = key_from('r');
  std::string policy;
  std::vector<Written> started;  // of the model calls
  std::unique_ptr<ReceiptStore> store;

  void SetUp() override { policy = install_model_wpc(dir.path(), wpc_signer, true); }
  void model_call(const std::string& call) {
    auto s = store->record(model_draft("started", call, policy));
    ASSERT_TRUE(s.ok());
    started.push_back(*s);
    ASSERT_TRUE(store->record(model_draft("finished", call, policy)).ok());
  }
  Json native(const std::vector<std::string>& gateway_receipts = {}) {
    ExportOptions o;
    o.job_id = kJob;
    o.gateway_receipts = gateway_receipts;
    auto b = export_bundle(dir.path(), key_from('s'), o);
    EXPECT_TRUE(b.ok()) << (b.ok() ? "" : b.error().detail);
    return b.ok() ? *b : Json();
  }
  gateway::JobContext job(std::vector<std::string> signers) {
    auto c = gateway::job_context_of_bundle(unverified_bundle(native()), std::move(signers));
    EXPECT_TRUE(c.ok());
    return *c;
  }
  Binding bound_to(size_t i) { return {kJob, started[i].claw_event_hash_b64u, "call-m" + std::to_string(i), policy}; }
};

// The hash handed out at record time is the exported event's, also for receipts written after a
// restart (the store recovers the Claw chain from the log) and past a part boundary (1000 events).
TEST_F(GatewayReceipts, EventHashAtRecordTimeIsTheExportedOne) {
  store = open_store(dir.path(), 's');
  model_call("call-m0");
  store.reset();
  store = open_store(dir.path(), 's');  // a restart
  model_call("call-m1");
  for (int i = 0; i < 499; ++i) {
    ASSERT_TRUE(store->record(draft("started", kJob, "c" + std::to_string(i), policy)).ok());
    ASSERT_TRUE(store->record(draft("finished", kJob, "c" + std::to_string(i), policy)).ok());
  }
  model_call("call-m2");  // seq 1002, 1003: part 2
  ASSERT_EQ(started[2].seq, 1002);
  claw::ClawExportOptions o;
  o.job_id = kJob;
  o.created_at = claw::now_rfc3339();
  auto exported = claw::export_claw(native(), key_from('s'), o);
  ASSERT_TRUE(exported.ok()) << exported.error().detail;
  ASSERT_EQ(exported->parts.size(), 2u);
  std::set<std::string> hashes;
  for (const auto& part : exported->parts)
    for (const auto& e : part["payload"]["event_chain"]) hashes.insert(e["event_hash_b64u"].get<std::string>());
  for (const auto& w : started) EXPECT_TRUE(hashes.count(w.claw_event_hash_b64u)) << "seq " << w.seq;
  auto c = gateway::job_context_of_bundle(unverified_bundle(native()), {});
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->calls.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(c->calls[i].event_hash_b64u, started[i].claw_event_hash_b64u);
}

TEST_F(GatewayReceipts, OnlyWhatChecksOutIsImported) {
  store = open_store(dir.path(), 's');
  model_call("call-m0");
  model_call("call-m1");
  auto j = job({gateway.did()});
  Binding other_job = bound_to(0);
  other_job.run_id = "job-other";
  Binding no_nonce = bound_to(0);
  no_nonce.nonce.reset();
  Binding other_wpc = bound_to(0);
  other_wpc.policy_hash = hash_of("another WPC");
  Binding started_of_exec = bound_to(0);
  started_of_exec.event_hash = hash_of("not an event");
  std::string tampered = gateway_receipt(gateway, bound_to(1));
  tampered.replace(tampered.find("\"tokens_output\":2"), 17, "\"tokens_output\":9");
  const std::vector<std::pair<std::string, Reason>> cases = {
      {gateway_receipt(gateway, bound_to(0)), Reason::OK},
      {gateway_receipt(rogue, bound_to(1)), Reason::GATEWAY_SIGNER_NOT_ALLOWED},
      {gateway_receipt(gateway, other_job), Reason::GATEWAY_RECEIPT_OTHER_JOB},
      {gateway_receipt(gateway, {}), Reason::GATEWAY_RECEIPT_UNBOUND},
      {gateway_receipt(gateway, no_nonce), Reason::GATEWAY_RECEIPT_UNBOUND},
      {gateway_receipt(gateway, started_of_exec), Reason::GATEWAY_RECEIPT_UNBOUND},
      {gateway_receipt(gateway, other_wpc), Reason::GATEWAY_RECEIPT_POLICY_MISMATCH},
      {gateway_receipt(gateway, bound_to(1), "openai"), Reason::MODEL_PROVIDER_NOT_ALLOWED},
      {tampered, Reason::GATEWAY_RECEIPT_INVALID},
      {gateway_receipt(gateway, bound_to(0)), Reason::GATEWAY_RECEIPT_DUPLICATE},
      {"{\"envelope_type\":\"gateway_receipt\"}", Reason::GATEWAY_RECEIPT_INVALID},
      {"5", Reason::GATEWAY_RECEIPT_INVALID},
      {"{\"envelope_type\":7,\"payload\":[]}", Reason::GATEWAY_RECEIPT_INVALID},
  };
  std::vector<std::string> texts;
  for (const auto& [text, _] : cases) texts.push_back(text);
  auto imported = gateway::check_receipts(texts, j);
  ASSERT_EQ(imported.accepted.size(), 1u);
  EXPECT_EQ(imported.accepted[0], cases[0].first);
  ASSERT_EQ(imported.refused.size(), cases.size() - 1);
  for (const auto& r : imported.refused)
    EXPECT_EQ(reason_name(r.reason), reason_name(cases[r.index].second)) << "case " << r.index << ": " << r.detail;
  // Only call-m0 is covered: the WPC requires a receipt for each model call.
  auto coverage = gateway::check_coverage(j, imported);
  ASSERT_FALSE(coverage.ok());
  EXPECT_EQ(coverage.reason(), Reason::MODEL_CALL_UNRECEIPTED);
  EXPECT_NE(coverage.error().detail.find("call-m1"), std::string::npos) << coverage.error().detail;
}

// What a file of candidates may be: one envelope, an array, or a proof bundle's receipts; anything
// else in it becomes a candidate that is refused, and a file that is not JSON is refused whole.
TEST(GatewayCandidates, FileShapes) {
  auto one = gateway::candidates_in(R"({"envelope_type":"gateway_receipt","a":1})");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  auto list = gateway::candidates_in(R"([{"b":2,"a":1}, 5])");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], R"({"b":2,"a":1})");  // member order kept: the hash is over it
  auto bundle = gateway::candidates_in(R"({"envelope_type":"proof_bundle","payload":{"receipts":[{"x":1}]}})");
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(*bundle, std::vector<std::string>{R"({"x":1})"});
  auto odd = gateway::candidates_in(R"({"envelope_type":7})");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->size(), 1u);
  EXPECT_FALSE(gateway::candidates_in("not json").ok());
  EXPECT_FALSE(gateway::candidates_in(R"({"a":1,"a":2})").ok());
}

// bundle verify: a carried receipt that does not check out fails the bundle; require_gateway_receipts
// fails a model call without one; both pass once every call is covered by a trusted gateway.
TEST_F(GatewayReceipts, VerifyEnforcesRequireGatewayReceipts) {
  store = open_store(dir.path(), 's');
  model_call("call-m0");
  model_call("call-m1");
  const std::vector<std::string> trusted = {key_from('s').did()};
  auto v = verify_bundle(native(), trusted, {.strict = false, .gateway_signers = {gateway.did()}});
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(v.reason, Reason::MODEL_CALL_UNRECEIPTED) << v.line();
  EXPECT_NE(v.detail.find("call-m0"), std::string::npos) << v.detail;
  std::vector<std::string> both = {gateway_receipt(gateway, bound_to(0)), gateway_receipt(gateway, bound_to(1))};
  v = verify_bundle(native(both), trusted, {.strict = false, .gateway_signers = {gateway.did()}});
  EXPECT_TRUE(v.pass) << v.line();
  EXPECT_EQ(v.model_calls, 2);
  EXPECT_EQ(v.gateway_receipts, 2);
  v = verify_bundle(native(both), trusted);  // no gateway trusted
  EXPECT_EQ(v.reason, Reason::GATEWAY_SIGNER_NOT_ALLOWED) << v.line();
  // A forgery smuggled into a bundle the supervisor signs anyway (past the import) still fails.
  v = verify_bundle(native({both[0], gateway_receipt(rogue, bound_to(1))}), trusted, {.strict = false, .gateway_signers = {gateway.did()}});
  EXPECT_EQ(v.reason, Reason::GATEWAY_SIGNER_NOT_ALLOWED) << v.line();
}

// The Claw form carries each gateway receipt in the part of its event; clawjail's verifier of the
// Claw form refuses one from an untrusted gateway and one the native bundle does not carry.
TEST_F(GatewayReceipts, ClawFormCarriesThem) {
  store = open_store(dir.path(), 's');
  model_call("call-m0");
  std::vector<std::string> one = {gateway_receipt(gateway, bound_to(0))};
  Json n = native(one);
  claw::ClawExportOptions o;
  o.job_id = kJob;
  o.created_at = claw::now_rfc3339();
  o.gateway_signers = {gateway.did()};
  const std::string native_text = n.dump(2) + "\n";
  o.native_bundle_sha256 = policy::sha256_b64u(native_text);
  auto exported = claw::export_claw(n, key_from('s'), o);
  ASSERT_TRUE(exported.ok()) << exported.error().detail;
  const OJson& part = exported->parts[0];
  ASSERT_EQ(part["payload"]["receipts"].size(), 1u);
  EXPECT_EQ(claw::stringify(part["payload"]["receipts"][0]), one[0]);
  claw::ClawVerifyOptions vo;
  vo.trusted = {key_from('s').did()};
  vo.native_bundle_text = native_text;
  vo.gateway_signers = {gateway.did()};
  auto v = claw::verify_claw_bundle(claw::stringify(part), vo);
  EXPECT_TRUE(v.pass) << v.line();
  EXPECT_EQ(v.gateway_receipts, 1u);
  vo.gateway_signers = {rogue.did()};
  v = claw::verify_claw_bundle(claw::stringify(part), vo);
  EXPECT_EQ(v.code, "GATEWAY_SIGNER_NOT_ALLOWED") << v.line();
}

// Model calls bind to the fixed part layout; an export cut into other parts refuses rather than
// dropping a receipt whose event no part holds.
TEST_F(GatewayReceipts, AnExportOfAnotherPartSizeDoesNotDropThem) {
  store = open_store(dir.path(), 's');
  model_call("call-m0");
  model_call("call-m1");
  claw::ClawExportOptions o;
  o.job_id = kJob;
  o.created_at = claw::now_rfc3339();
  o.gateway_signers = {gateway.did()};
  o.max_events = 2;  // seq 2, call-m1's started, would start a part of its own
  auto exported = claw::export_claw(native({gateway_receipt(gateway, bound_to(1))}), key_from('s'), o);
  ASSERT_FALSE(exported.ok());
  EXPECT_EQ(exported.reason(), Reason::GATEWAY_RECEIPT_UNBOUND) << exported.error().detail;
  o.max_events = claw::kMaxEventsPerBundle;
  EXPECT_TRUE(claw::export_claw(native({gateway_receipt(gateway, bound_to(1))}), key_from('s'), o).ok());
}

}  // namespace
}  // namespace clawjail::receipts::testing
