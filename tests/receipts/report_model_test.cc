// The data of `bundle report` (receipts::report_model): calls grouped from their receipts, counts,
// the verdict passed through, and on a failing bundle every receipt from the failure on marked
// unverified. The token never reaches the model.
#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "test_util.h"

namespace clawjail::receipts::testing {
namespace {

constexpr char kSupervisor = '\x31', kWpcSigner = '\x32';

class ReportModel : public ::testing::Test {
 protected:
  TempDir dir;
  std::string policy_hash = install_wpc(dir.path(), key_from(kWpcSigner));
  std::unique_ptr<ReceiptStore> store = open_store(dir.path(), kSupervisor);
  std::vector<std::string> trusted = {key_from(kSupervisor).did()};

  void record(const std::string& phase, const std::string& call) {
    auto w = store->record(draft(phase, "job-r", call, policy_hash));
    ASSERT_TRUE(w.ok()) << w.error().detail;
  }
  // started+finished c1, blocked c2, started+finished c3
  void job() {
    record("started", "c1");
    record("finished", "c1");
    record("blocked", "c2");
    record("started", "c3");
    record("finished", "c3");
  }
  Json exported(bool include_token = false) {
    ExportOptions o;
    o.job_id = "job-r";
    o.include_token = include_token;
    auto b = export_bundle(dir.path(), key_from(kSupervisor), o);
    EXPECT_TRUE(b.ok()) << (b.ok() ? "" : b.error().detail);
    return b.ok() ? *b : Json();
  }
  Json model_of(const Json& envelope) {
    return report_model(unverified_bundle(envelope), verify_bundle(envelope, trusted), trusted);
  }
  std::vector<bool> verified_flags(const Json& model) {
    std::vector<bool> flags;
    for (const auto& c : model["calls"])
      for (const auto& r : c["receipts"]) flags.push_back(r["verified"].get<bool>());
    return flags;
  }
};

TEST_F(ReportModel, APassingJobIsGroupedIntoCallsWithTheirReceiptsAndCounts) {
  job();
  Json m = model_of(exported());
  EXPECT_EQ(m["verdict"]["result"], "PASS");
  EXPECT_EQ(m["verdict"]["trusted"], Json(trusted));
  EXPECT_TRUE(m["verdict"]["failed_receipt"].is_null());
  EXPECT_EQ(m["job"]["job_id"], "job-r");
  EXPECT_EQ(m["job"]["policy_hash_b64u"], policy_hash);
  ASSERT_EQ(m["calls"].size(), 3u);
  EXPECT_EQ(m["calls"][0]["call_id"], "c1");
  EXPECT_EQ(m["calls"][0]["outcome"], "success");
  EXPECT_EQ(m["calls"][0]["duration_ms"], 3);
  EXPECT_EQ(m["calls"][0]["result"]["violations"][0]["syscall"], "ptrace");
  EXPECT_EQ(m["calls"][0]["receipts"].size(), 2u);
  EXPECT_EQ(m["calls"][1]["outcome"], "blocked");
  EXPECT_EQ(m["calls"][1]["reason_code"], "EXEC_DENIED");
  EXPECT_EQ(m["calls"][1]["receipts"].size(), 1u);
  EXPECT_EQ(m["counts"]["by_decision"], (Json{{"allowed", 2}, {"blocked", 1}}));
  EXPECT_EQ(m["counts"]["by_tool"]["exec"], (Json{{"allowed", 2}, {"blocked", 1}}));
  EXPECT_EQ(m["counts"]["blocked_by_reason"], (Json{{"EXEC_DENIED", 1}}));
  EXPECT_EQ(verified_flags(m), std::vector<bool>(5, true));
}

TEST_F(ReportModel, ADeletedReceiptMarksEverythingFromTheGapOnUnverified) {
  job();
  store.reset();  // a stopped supervisor; then someone deletes receipt #2 from the log
  auto lines = lines_of(slurp(dir.path() / "receipts" / "job-r.log"));
  lines.erase(lines.begin() + 2);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  spit(dir.path() / "receipts" / "job-r.log", text);
  Json m = model_of(exported());
  EXPECT_EQ(m["verdict"]["result"], "FAIL");
  EXPECT_EQ(m["verdict"]["reason_code"], "RECEIPT_SEQ_GAP");
  EXPECT_EQ(m["verdict"]["failed_receipt"], 2);
  EXPECT_EQ(verified_flags(m), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(m["calls"].size(), 2u) << "the deleted blocked call is gone; the rest is still shown";
}

TEST_F(ReportModel, AnEditedBundleIsShownButNothingInItIsVerified) {
  job();
  Json bundle = exported();
  Json payload = Json::parse(*policy::b64_decode(bundle["payload"].get<std::string>()));
  payload["job_id"] = "job-edited";
  bundle["payload"] = policy::b64_encode(payload.dump());
  Json m = model_of(bundle);
  EXPECT_EQ(m["verdict"]["reason_code"], "BUNDLE_SIGNATURE_INVALID");
  EXPECT_TRUE(m["bundle_readable"].get<bool>());
  EXPECT_EQ(m["job"]["job_id"], "job-edited");
  EXPECT_EQ(verified_flags(m), std::vector<bool>(5, false));
}

TEST_F(ReportModel, AnUnreadableBundleStillGivesAModel) {
  Verdict v;
  v.reason = Reason::BUNDLE_MALFORMED;
  Json m = report_model(unverified_bundle(Json("not an envelope")), v, trusted);
  EXPECT_EQ(m["verdict"]["result"], "FAIL");
  EXPECT_FALSE(m["bundle_readable"].get<bool>());
  EXPECT_TRUE(m["calls"].empty());
}

TEST_F(ReportModel, TheRawTokenNeverReachesTheModel) {
  job();
  policy::Cst cst;
  cst.token = "header.claims.signature";
  cst.kid = "scope-1";
  cst.claims = Json{{"sub", "did:key:z6Mk"}, {"jti", "jti-1"}, {"mission_id", "job-r"}};
  ASSERT_TRUE(record_job_cst(dir.path(), "job-r", cst).ok());
  Json m = model_of(exported(true));
  EXPECT_EQ(m["verdict"]["result"], "PASS");
  EXPECT_EQ(m["job"]["cst"]["claims"], cst.claims);
  EXPECT_FALSE(m["job"]["cst"].contains("token"));
  EXPECT_EQ(m.dump().find(cst.token), std::string::npos);
}

}  // namespace
}  // namespace clawjail::receipts::testing
