// Produces bundles for the independent JavaScript verifier with the real C++ library:
//   make_bundles OUTDIR  ->  OUTDIR/good.json, OUTDIR/interrupted.json (a call interrupted by a
//                            restart: PASS, and RECEIPT_INTERRUPTED_CALL with --strict),
//                            OUTDIR/bad-<REASON_CODE>[--<what>].json, OUTDIR/trust.txt,
//                            and for the CLI test OUTDIR/state (job js-job, an unfinished job
//                            js-open, job js-intr with an interrupted call),
//                            OUTDIR/supervisor.key and OUTDIR/config.json
// Each bad bundle is first checked by the C++ verifier to fail with the code in its name, so the
// JavaScript verifier is compared against known answers.
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "receipts/receipts.h"
#include "tests/receipts/tools/drafts.h"

namespace fs = std::filesystem;
using namespace clawjail;
using namespace clawjail::receipts;
using policy::Json;
using policy::SecretKey;

namespace {

SecretKey key(char fill) { return testing::seeded_key(fill); }

Draft draft(const std::string& phase, const std::string& call, const std::string& policy_hash) {
  return testing::exec_draft("js-job", phase, call, policy_hash, "exec refusé par la WPC — non-ASCII bytes in the payload");
}

Json decode(const Json& env) { return Json::parse(*policy::b64_decode(env["payload"].get<std::string>())); }

void write(const fs::path& p, const Json& j) { std::ofstream(p) << j.dump(2) << "\n"; }

int check(const fs::path& out, const std::string& name, const Json& bundle, Reason want, const std::string& trust,
          bool strict = false) {
  auto v = verify_bundle(bundle, {trust}, {.strict = strict, .gateway_signers = {}});
  if (v.reason != want || v.pass != (want == Reason::OK)) {
    std::cerr << name << ": C++ verifier says " << v.line() << ", want " << reason_name(want) << "\n";
    return 1;
  }
  write(out / (name + ".json"), bundle);
  return 0;
}

// A bundle of js-intr, and the same bundle with its interrupted receipt (the last) altered.
int interrupted_bundles(const fs::path& out, const fs::path& state, const SecretKey& supervisor,
                        const std::string& trust) {
  ExportOptions eo;
  eo.job_id = "js-intr";
  Json good = export_bundle(state, supervisor, eo).value();
  auto altered = [&](const std::function<void(Json&)>& edit) {
    Json b = decode(good);
    Json p = decode(b["receipts"][3]);
    edit(p);
    b["receipts"][3] = dsse_sign(supervisor, kReceiptPayloadType, p.dump());
    return dsse_sign(supervisor, kBundlePayloadType, b.dump());
  };
  int bad = check(out, "interrupted", good, Reason::OK, trust);
  bad += check(out, "interrupted", good, Reason::RECEIPT_INTERRUPTED_CALL, trust, true);
  bad += check(out, "bad-RECEIPT_PAYLOAD_INVALID--interrupted-reason-ok",
               altered([](Json& p) { p["reason_code"] = "OK"; }), Reason::RECEIPT_PAYLOAD_INVALID, trust);
  bad += check(out, "bad-RECEIPT_PAYLOAD_INVALID--interrupted-made-up-exit",
               altered([](Json& p) { p["result"]["exit_code"] = 0; }), Reason::RECEIPT_PAYLOAD_INVALID, trust);
  bad += check(out, "bad-RECEIPT_PAYLOAD_INVALID--restarted-but-success", altered([](Json& p) {
    p["result"] = Json{{"status", "success"}, {"exit_code", 0}, {"signal", 0}, {"duration_ms", 2},
                       {"stdout_hash_b64u", policy::sha256_b64u("")}, {"stdout_bytes", 0},
                       {"stderr_hash_b64u", policy::sha256_b64u("")}, {"stderr_bytes", 0},
                       {"violations", Json::array()}};
  }), Reason::RECEIPT_PAYLOAD_INVALID, trust);
  Json dropped = decode(good);
  dropped["receipts"].erase(3);
  bad += check(out, "bad-RECEIPT_UNFINISHED_CALL--interrupted-dropped",
               dsse_sign(supervisor, kBundlePayloadType, dropped.dump()), Reason::RECEIPT_UNFINISHED_CALL, trust);
  return bad;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_bundles OUTDIR\n";
    return 2;
  }
  fs::path out = argv[1], state = out / "state";
  auto supervisor = key('\x51'), attacker = key('\x52'), wpc_signer = key('\x53');
  Json wpc_payload = {{"wpc_version", "v1"}, {"policy_id", "js-check"}, {"issuer_did", wpc_signer.did()},
                      {"tools", {{"allow", {"exec"}}, {"deny", {"process"}}}}};
  Json wpc = policy::sign_wpc(wpc_payload, wpc_signer);
  std::string hash = *policy::wpc_hash(wpc);
  fs::create_directories(state / "policies");
  std::ofstream(state / "policies" / (hash + ".json")) << wpc.dump();

  StoreOptions options;
  options.journal = false;
  auto store = ReceiptStore::open(state, key('\x51'), options);
  if (!store) return 1;
  for (const auto& [phase, call] : std::vector<std::pair<std::string, std::string>>{
           {"started", "c1"}, {"finished", "c1"}, {"blocked", "c2"}, {"started", "c3"}, {"finished", "c3"}})
    if (!(*store)->record(draft(phase, call, hash))) return 1;
  // js-intr: call c-int is left running by a store that goes away; the next store (a restarted
  // supervisor) records it as interrupted.
  for (const auto& [phase, call] : std::vector<std::pair<std::string, std::string>>{
           {"started", "c-ok"}, {"started", "c-int"}, {"finished", "c-ok"}}) {
    Draft d = draft(phase, call, hash);
    d.job_id = "js-intr";
    if (!(*store)->record(d)) return 1;
  }
  store->reset();
  store = ReceiptStore::open(state, key('\x51'), options);
  if (!store) return 1;
  Draft hung = draft("started", "c-hung", hash);
  hung.job_id = "js-open";
  if (!(*store)->record(hung)) return 1;
  if (!supervisor.save(out / "supervisor.key")) return 1;
  std::ofstream(out / "config.json") << Json{{"state_dir", state.string()},
                                             {"signing_key", (out / "supervisor.key").string()},
                                             {"socket", (out / "unused.sock").string()},
                                             {"wpc_signers", {wpc_signer.did()}}}
                                            .dump(2);
  ExportOptions eo;
  eo.job_id = "js-job";
  Json good = export_bundle(state, supervisor, eo).value();
  std::ofstream(out / "trust.txt") << supervisor.did();

  auto edited = [&](const std::function<void(Json&)>& edit, const SecretKey& signer) {
    Json b = decode(good);
    edit(b);
    return dsse_sign(signer, kBundlePayloadType, b.dump());
  };
  auto resign_receipt = [&](Json& b, size_t i, const std::function<void(Json&)>& edit, const SecretKey& signer) {
    Json p = decode(b["receipts"][i]);
    edit(p);
    b["receipts"][i] = dsse_sign(signer, kReceiptPayloadType, p.dump());
  };
  std::string trust = supervisor.did();
  int bad = check(out, "good", good, Reason::OK, trust);
  bad += check(out, "bad-BUNDLE_UNTRUSTED_KEY", edited([](Json&) {}, attacker), Reason::BUNDLE_UNTRUSTED_KEY, trust);
  bad += check(out, "bad-RECEIPT_SIGNATURE_INVALID", edited([](Json& b) {
    std::string bytes = *policy::b64_decode(b["receipts"][1]["payload"].get<std::string>());
    bytes[bytes.find("\"exit_code\":0") + 12] = '7';
    b["receipts"][1]["payload"] = policy::b64_encode(bytes);
  }, supervisor), Reason::RECEIPT_SIGNATURE_INVALID, trust);
  bad += check(out, "bad-RECEIPT_UNTRUSTED_KEY", edited([&](Json& b) {
    resign_receipt(b, 2, [](Json& p) { p["reason"] = "nothing to see"; }, attacker);
  }, supervisor), Reason::RECEIPT_UNTRUSTED_KEY, trust);
  bad += check(out, "bad-RECEIPT_SEQ_GAP", edited([](Json& b) { b["receipts"].erase(2); }, supervisor),
               Reason::RECEIPT_SEQ_GAP, trust);
  bad += check(out, "bad-RECEIPT_OUT_OF_ORDER", edited([](Json& b) { std::swap(b["receipts"][1], b["receipts"][2]); }, supervisor),
               Reason::RECEIPT_OUT_OF_ORDER, trust);
  bad += check(out, "bad-RECEIPT_CHAIN_BROKEN", edited([&](Json& b) {
    resign_receipt(b, 3, [](Json& p) { p["prev_receipt_hash_b64u"] = policy::sha256_b64u("x"); }, supervisor);
  }, supervisor), Reason::RECEIPT_CHAIN_BROKEN, trust);
  bad += check(out, "bad-RECEIPT_JOB_MISMATCH", edited([&](Json& b) {
    resign_receipt(b, 2, [](Json& p) { p["job_id"] = "another-job"; }, supervisor);
  }, supervisor), Reason::RECEIPT_JOB_MISMATCH, trust);
  bad += check(out, "bad-RECEIPT_POLICY_MISMATCH", edited([&](Json& b) {
    Json other = wpc_payload;
    other["policy_id"] = "swapped";
    b["wpc"] = policy::sign_wpc(other, wpc_signer);
  }, supervisor), Reason::RECEIPT_POLICY_MISMATCH, trust);
  bad += check(out, "bad-BUNDLE_WPC_INVALID", edited([](Json& b) { b["wpc"]["payload"]["tools"]["deny"] = Json::array(); }, supervisor),
               Reason::BUNDLE_WPC_INVALID, trust);
  bad += check(out, "bad-RECEIPT_UNFINISHED_CALL", edited([](Json& b) { b["receipts"].erase(4); }, supervisor),
               Reason::RECEIPT_UNFINISHED_CALL, trust);
  bad += check(out, "bad-RECEIPT_PAYLOAD_INVALID--completed-null-exit", edited([&](Json& b) {
    resign_receipt(b, 4, [](Json& p) { p["result"]["exit_code"] = nullptr; }, supervisor);
  }, supervisor), Reason::RECEIPT_PAYLOAD_INVALID, trust);
  return bad + interrupted_bundles(out, state, supervisor, trust);
}
