// Proof bundles: a real job's bundle verifies, and each tampering is caught with its own reason.
#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/wpc.h"
#include "test_util.h"

namespace clawjail::receipts::testing {
namespace {

constexpr char kSupervisor = '\x21', kWpcSigner = '\x22', kAttacker = '\x23', kOldSupervisor = '\x24';

std::string did_of(char fill) { return key_from(fill).did(); }

Json decode(const Json& envelope) {
  return Json::parse(*policy::b64_decode(envelope["payload"].get<std::string>()));
}

Json resign(const Json& payload, char fill, const char* type) {
  return dsse_sign(key_from(fill), type, payload.dump());
}

class Bundle : public ::testing::Test {
 protected:
  TempDir dir;
  std::string policy_hash = install_wpc(dir.path(), key_from(kWpcSigner));
  std::unique_ptr<ReceiptStore> store = open_store(dir.path(), kSupervisor);

  fs::path log(const std::string& job) { return dir.path() / "receipts" / (job + ".log"); }

  void record(const std::string& phase, const std::string& call, const std::string& job = "job-b") {
    auto w = store->record(draft(phase, job, call, policy_hash));
    ASSERT_TRUE(w.ok()) << w.error().detail;
  }
  // started+finished c1, blocked c2, started+finished c3
  void normal_job(const std::string& job = "job-b") {
    record("started", "c1", job);
    record("finished", "c1", job);
    record("blocked", "c2", job);
    record("started", "c3", job);
    record("finished", "c3", job);
  }
  Json exported(const std::string& job = "job-b", bool include_token = false) {
    ExportOptions o;
    o.job_id = job;
    o.include_token = include_token;
    auto b = export_bundle(dir.path(), key_from(kSupervisor), o);
    EXPECT_TRUE(b.ok()) << (b.ok() ? "" : b.error().detail);
    return b.ok() ? *b : Json();
  }
  Verdict verify(const Json& bundle) { return verify_bundle(bundle, {did_of(kSupervisor)}); }

  // Rewrites one line of the job's log, as an attacker with write access to the state dir would.
  void edit_log(const std::function<void(std::vector<std::string>&)>& edit, const std::string& job = "job-b") {
    store.reset();  // release the writer's lock, as a stopped supervisor would
    auto lines = lines_of(slurp(log(job)));
    edit(lines);
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    spit(log(job), text);
  }
  // The supervisor's insider view: edit the bundle and sign it again with the trusted key.
  Json edit_bundle(const Json& bundle, const std::function<void(Json&)>& edit) {
    Json payload = decode(bundle);
    edit(payload);
    return resign(payload, kSupervisor, kBundlePayloadType);
  }
};

TEST_F(Bundle, ARealJobExportsAndVerifies) {
  normal_job();
  Json bundle = exported();
  EXPECT_EQ(bundle["payloadType"], kBundlePayloadType);
  Json b = decode(bundle);
  EXPECT_EQ(b["bundle_version"], "1");
  EXPECT_EQ(b["job_id"], "job-b");
  EXPECT_EQ(b["receipts"].size(), 5u);
  EXPECT_EQ(*policy::wpc_hash(b["wpc"]), policy_hash);
  EXPECT_EQ(b["supervisor_keys"], Json::array({did_of(kSupervisor)}));
  EXPECT_TRUE(b["cst"].is_null());
  auto v = verify(bundle);
  EXPECT_TRUE(v.pass) << v.line();
  EXPECT_EQ(v.line(), "PASS");
  EXPECT_EQ(v.receipts, 5);
  EXPECT_EQ(v.to_json()["result"], "PASS");
  EXPECT_NE(v.detail.find(did_of(kWpcSigner)), std::string::npos) << "names the WPC signer to check";
}

TEST_F(Bundle, VerificationRequiresATrustList) {
  normal_job();
  auto v = verify_bundle(exported(), {});
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(v.reason, Reason::TRUST_REQUIRED);
}

TEST_F(Bundle, ExportRefusesAJobWithoutReceiptsOrAWpc) {
  ExportOptions o;
  o.job_id = "nothing-here";
  EXPECT_FALSE(export_bundle(dir.path(), key_from(kSupervisor), o).ok());
  o.job_id = "../etc";
  EXPECT_FALSE(export_bundle(dir.path(), key_from(kSupervisor), o).ok());
  auto d = draft("blocked", "nopolicy", "c1", hash_of("a WPC nobody installed"));
  ASSERT_TRUE(store->record(d).ok());
  o.job_id = "nopolicy";
  EXPECT_EQ(export_bundle(dir.path(), key_from(kSupervisor), o).reason(), Reason::WPC_NOT_FOUND);
}

TEST_F(Bundle, CarriesCstClaimsAndTheRawTokenOnlyWhenAsked) {
  normal_job();
  policy::Cst cst;
  cst.token = "header.claims.signature";
  cst.kid = "scope-1";
  cst.claims = Json{{"sub", "did:key:z6Mk"}, {"jti", "jti-1"}, {"mission_id", "job-b"}};
  ASSERT_TRUE(record_job_cst(dir.path(), "job-b", cst).ok());
  Json without = decode(exported());
  EXPECT_EQ(without["cst"]["claims"], cst.claims);
  EXPECT_EQ(without["cst"]["issuer_kid"], "scope-1");
  EXPECT_EQ(without["cst"]["token_sha256_b64u"], hash_of(cst.token));
  EXPECT_FALSE(without["cst"].contains("token"));
  Json with_bundle = exported("job-b", true);
  EXPECT_EQ(decode(with_bundle)["cst"]["token"], cst.token);
  EXPECT_TRUE(verify(with_bundle).pass);
  auto forged = edit_bundle(with_bundle, [](Json& b) { b["cst"]["token"] = "other.token.here"; });
  EXPECT_EQ(verify(forged).reason, Reason::BUNDLE_MALFORMED);
}

TEST_F(Bundle, IncludeTokenWithoutARecordedTokenIsAnError) {
  normal_job();
  ExportOptions o;
  o.job_id = "job-b";
  o.include_token = true;
  EXPECT_EQ(export_bundle(dir.path(), key_from(kSupervisor), o).reason(), Reason::CST_MISSING);
}

TEST_F(Bundle, AFlippedByteInAReceiptPayloadIsASignatureFailure) {
  normal_job();
  edit_log([](std::vector<std::string>& lines) {
    Json env = Json::parse(lines[1]);
    std::string bytes = *policy::b64_decode(env["payload"].get<std::string>());
    auto at = bytes.find("\"exit_code\":0");
    ASSERT_NE(at, std::string::npos);
    bytes[at + 12] = '1';  // exit_code 0 -> 1
    env["payload"] = policy::b64_encode(bytes);
    lines[1] = env.dump();
  });
  auto v = verify(exported());
  EXPECT_EQ(v.reason, Reason::RECEIPT_SIGNATURE_INVALID) << v.line();
  EXPECT_NE(v.line().find("receipt #1"), std::string::npos);
}

TEST_F(Bundle, AReceiptReSignedByAnUntrustedKeyIsRefused) {
  normal_job();
  edit_log([](std::vector<std::string>& lines) {
    Json env = Json::parse(lines[2]);
    Json p = decode(env);
    p["decision"] = "allowed";
    p["phase"] = "started";
    lines[2] = resign(p, kAttacker, kReceiptPayloadType).dump();
  });
  EXPECT_EQ(verify(exported()).reason, Reason::RECEIPT_UNTRUSTED_KEY);
}

TEST_F(Bundle, ADeletedLineIsASeqGap) {
  normal_job();
  edit_log([](std::vector<std::string>& lines) { lines.erase(lines.begin() + 2); });
  auto v = verify(exported());
  EXPECT_EQ(v.reason, Reason::RECEIPT_SEQ_GAP) << v.line();
}

TEST_F(Bundle, TwoSwappedLinesAreOutOfOrder) {
  normal_job();
  edit_log([](std::vector<std::string>& lines) { std::swap(lines[1], lines[2]); });
  auto v = verify(exported());
  EXPECT_EQ(v.reason, Reason::RECEIPT_OUT_OF_ORDER) << v.line();
}

TEST_F(Bundle, AReceiptCopiedFromAnotherJobIsAJobMismatch) {
  normal_job();
  normal_job("job-other");
  std::string foreign = lines_of(slurp(log("job-other")))[2];
  edit_log([&](std::vector<std::string>& lines) { lines[2] = foreign; });
  auto v = verify(exported());
  EXPECT_EQ(v.reason, Reason::RECEIPT_JOB_MISMATCH) << v.line();
}

TEST_F(Bundle, APrevLinkThatDoesNotHashTheReceiptBeforeIsABrokenChain) {
  normal_job();
  edit_log([](std::vector<std::string>& lines) {
    Json p = decode(Json::parse(lines[3]));
    p["prev_receipt_hash_b64u"] = hash_of("something else");
    lines[3] = resign(p, kSupervisor, kReceiptPayloadType).dump();  // even with the real key
  });
  EXPECT_EQ(verify(exported()).reason, Reason::RECEIPT_CHAIN_BROKEN);
}

TEST_F(Bundle, AFinishedWithoutItsStartedIsRefused) {
  record("started", "c1");
  record("finished", "c1");
  record("finished", "c7");
  auto v = verify(exported());
  EXPECT_EQ(v.reason, Reason::RECEIPT_FINISHED_WITHOUT_STARTED) << v.line();
  EXPECT_NE(v.detail.find("c7"), std::string::npos);
}

TEST_F(Bundle, AStartedWithoutFinishedIsReportedAsAnUnfinishedCall) {
  record("started", "c1");
  record("finished", "c1");
  record("started", "c-hung");
  record("blocked", "c2");
  auto v = verify(exported());
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(v.reason, Reason::RECEIPT_UNFINISHED_CALL);
  EXPECT_EQ(v.unfinished_calls, std::vector<std::string>{"c-hung"});
  EXPECT_NE(v.line().find("c-hung"), std::string::npos) << v.line();
  EXPECT_EQ(v.to_json()["unfinished_calls"], Json::array({"c-hung"}));
}

TEST_F(Bundle, ABlockedCallNeverHasAFinished) {
  record("blocked", "c1");
  record("finished", "c1");
  EXPECT_EQ(verify(exported()).reason, Reason::RECEIPT_BLOCKED_HAS_FINISHED);
}

TEST_F(Bundle, ACallStartedTwiceIsADuplicate) {
  record("started", "c1");
  record("started", "c1");
  EXPECT_EQ(verify(exported()).reason, Reason::RECEIPT_DUPLICATE_CALL);
}

TEST_F(Bundle, ASwappedWpcNoLongerMatchesTheReceipts) {
  normal_job();
  Json other = policy::sign_wpc(Json{{"wpc_version", "v1"},
                                     {"policy_id", "a-friendlier-policy"},
                                     {"issuer_did", did_of(kWpcSigner)},
                                     {"tools", {{"allow", {"exec", "process"}}, {"deny", Json::array()}}}},
                                key_from(kWpcSigner));
  auto swapped = edit_bundle(exported(), [&](Json& b) { b["wpc"] = other; });
  auto v = verify(swapped);
  EXPECT_EQ(v.reason, Reason::RECEIPT_POLICY_MISMATCH) << v.line();
}

TEST_F(Bundle, ACallBlockedForAnUnknownWpcDoesNotBindTheJobToIt) {
  record("started", "c1");
  auto unknown = draft("blocked", "job-b", "c2", hash_of("a WPC nobody installed"));
  unknown.reason = Reason::WPC_NOT_FOUND;
  ASSERT_TRUE(store->record(unknown).ok());
  auto no_policy = draft("blocked", "job-b", "c3", "");
  no_policy.reason = Reason::REQUEST_MALFORMED;
  ASSERT_TRUE(store->record(no_policy).ok());
  record("finished", "c1");
  Json bundle = exported();
  EXPECT_EQ(*policy::wpc_hash(decode(bundle)["wpc"]), policy_hash);
  auto v = verify(bundle);
  EXPECT_TRUE(v.pass) << v.line();
}

TEST_F(Bundle, ReceiptsUnderTwoWpcsCannotBeBundledAsOne) {
  record("blocked", "c1");
  auto other = draft("blocked", "job-b", "c2", hash_of("another installed WPC"));
  ASSERT_TRUE(store->record(other).ok());
  ExportOptions o;
  o.job_id = "job-b";
  EXPECT_EQ(export_bundle(dir.path(), key_from(kSupervisor), o).reason(), Reason::RECEIPT_POLICY_MISMATCH);
}

TEST_F(Bundle, AnEditedWpcFailsItsOwnSignature) {
  normal_job();
  auto edited = edit_bundle(exported(), [](Json& b) { b["wpc"]["payload"]["tools"]["deny"] = Json::array(); });
  EXPECT_EQ(verify(edited).reason, Reason::BUNDLE_WPC_INVALID);
}

TEST_F(Bundle, ABundleSignedByAnotherKeyIsUntrusted) {
  normal_job();
  Json payload = decode(exported());
  EXPECT_EQ(verify(resign(payload, kAttacker, kBundlePayloadType)).reason, Reason::BUNDLE_UNTRUSTED_KEY);
}

TEST_F(Bundle, AnEditedBundleFailsItsSignature) {
  normal_job();
  Json bundle = exported();
  Json payload = decode(bundle);
  payload["created_at"] = "2000-01-01T00:00:00.000Z";
  bundle["payload"] = policy::b64_encode(payload.dump());
  EXPECT_EQ(verify(bundle).reason, Reason::BUNDLE_SIGNATURE_INVALID);
}

TEST_F(Bundle, MalformedBundlesFailClosed) {
  normal_job();
  Json good = exported();
  EXPECT_EQ(verify(Json::object()).reason, Reason::BUNDLE_MALFORMED);
  EXPECT_EQ(verify(edit_bundle(good, [](Json& b) { b["extra"] = 1; })).reason, Reason::BUNDLE_MALFORMED);
  EXPECT_EQ(verify(edit_bundle(good, [](Json& b) { b["receipts"] = Json::array(); })).reason,
            Reason::BUNDLE_MALFORMED);
  EXPECT_EQ(verify(edit_bundle(good, [](Json& b) { b["bundle_version"] = "2"; })).reason,
            Reason::BUNDLE_MALFORMED);
  EXPECT_EQ(verify(edit_bundle(good, [](Json& b) { b.erase("wpc"); })).reason, Reason::BUNDLE_MALFORMED);
  auto receipt_type = dsse_sign(key_from(kSupervisor), kReceiptPayloadType, decode(good).dump());
  EXPECT_EQ(verify(receipt_type).reason, Reason::BUNDLE_MALFORMED);
}

TEST_F(Bundle, KeyRotationVerifiesWithEveryTrustedKey) {
  store.reset();  // one store per state directory: the restart closes the old one first
  store = open_store(dir.path(), kOldSupervisor);
  record("started", "c1");
  record("finished", "c1");
  store.reset();
  store = open_store(dir.path(), kSupervisor);
  record("started", "c2");
  record("finished", "c2");
  Json bundle = exported();
  auto keys = decode(bundle)["supervisor_keys"];
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_TRUE(verify_bundle(bundle, {did_of(kSupervisor), did_of(kOldSupervisor)}).pass);
  auto v = verify_bundle(bundle, {did_of(kSupervisor)});
  EXPECT_EQ(v.reason, Reason::RECEIPT_UNTRUSTED_KEY);
  EXPECT_NE(v.detail.find("receipt #0"), std::string::npos);
}

TEST_F(Bundle, ATornLineIsNotCarriedAndTheRestVerifies) {
  normal_job();
  store.reset();
  { std::ofstream(log("job-b"), std::ios::app) << "{\"payloadType\":\"appl"; }
  auto v = verify(exported());
  EXPECT_TRUE(v.pass) << v.line();
  EXPECT_EQ(v.receipts, 5);
}

}  // namespace
}  // namespace clawjail::receipts::testing
