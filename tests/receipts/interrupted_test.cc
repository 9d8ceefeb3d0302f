// Calls interrupted by the supervisor's death: a restarted store records each call its
// predecessor left open, once, with every unknown result field null; the writer and the verifier
// accept those nulls for interrupted calls only.
#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "receipts/internal.h"
#include "test_util.h"

namespace clawjail::receipts::testing {
namespace {

constexpr char kSupervisor = '\x41', kWpcSigner = '\x42';
const char* const kUnknown[] = {"exit_code",    "signal",           "duration_ms", "stdout_hash_b64u", "stdout_bytes",
                                "stderr_hash_b64u", "stderr_bytes", "output_truncated", "violations"};

Json decode(const Json& envelope) { return Json::parse(*policy::b64_decode(envelope["payload"].get<std::string>())); }

class Interrupted : public ::testing::Test {
 protected:
  TempDir dir;
  std::string policy_hash = install_wpc(dir.path(), key_from(kWpcSigner));
  std::unique_ptr<ReceiptStore> store = open_store(dir.path(), kSupervisor);
  std::vector<std::string> warnings;

  void record(const std::string& phase, const std::string& call, const std::string& job = "job-i") {
    auto w = store->record(draft(phase, job, call, policy_hash));
    ASSERT_TRUE(w.ok()) << w.error().detail;
  }
  // The supervisor dies and a new one opens the same state directory.
  std::vector<std::pair<size_t, size_t>> progress;  // (logs looked at, logs) at each restart
  void restart() {
    store.reset();
    StoreOptions o;
    o.journal = false;
    o.on_warning = [this](const std::string& w) { warnings.push_back(w); };
    o.on_open_progress = [this](size_t done, size_t total) { progress.emplace_back(done, total); };
    auto s = ReceiptStore::open(dir.path(), key_from(kSupervisor), std::move(o));
    ASSERT_TRUE(s.ok()) << s.error().detail;
    store = std::move(*s);
  }
  std::vector<Json> payloads(const std::string& job = "job-i") {
    std::vector<Json> out;
    auto log = read_job_log(dir.path(), job);
    for (const auto& e : log->envelopes) out.push_back(decode(e));
    return out;
  }
  std::string log_bytes(const std::string& job = "job-i") { return slurp(dir.path() / "receipts" / (job + ".log")); }
  Json exported(const std::string& job = "job-i") {
    ExportOptions o;
    o.job_id = job;
    return export_bundle(dir.path(), key_from(kSupervisor), o).value();
  }
  Verdict verify(const Json& bundle, bool strict = false) {
    return verify_bundle(bundle, {key_from(kSupervisor).did()}, {.strict = strict, .gateway_signers = {}});
  }
  // The job's bundle with receipt `i` edited and signed again by the trusted key (an insider).
  Json with_edited_receipt(size_t i, const std::function<void(Json&)>& edit) {
    Json b = decode(exported());
    Json p = decode(b["receipts"][i]);
    edit(p);
    b["receipts"][i] = dsse_sign(key_from(kSupervisor), kReceiptPayloadType, p.dump());
    return dsse_sign(key_from(kSupervisor), kBundlePayloadType, b.dump());
  }
};

void expect_interrupted(const Json& finished, const Json& started, const std::string& after, const std::string& before) {
  EXPECT_EQ(finished["phase"], "finished");
  EXPECT_EQ(finished["decision"], "allowed");
  EXPECT_EQ(finished["reason_code"], "SUPERVISOR_RESTARTED");
  EXPECT_EQ(finished["result"]["status"], "interrupted");
  for (const char* key : kUnknown) EXPECT_TRUE(finished["result"].at(key).is_null()) << key << " is made up";
  EXPECT_EQ(finished["result"].size(), 10u) << finished["result"].dump();
  for (const char* key : {"call_id", "tool", "scopes", "agent_did", "policy_hash_b64u", "token_scope_hash_b64u",
                          "cst_jti", "request_hash_b64u", "jail_hash_b64u"})
    EXPECT_EQ(finished[key], started[key]) << key;
  // The reason names the restart time, taken while the restarted store opened.
  const std::string reason = finished["reason"];
  auto at = reason.find("restarted at ");
  ASSERT_NE(at, std::string::npos) << reason;
  std::string when = reason.substr(at + 13, 24);
  EXPECT_GE(when, after) << reason;
  EXPECT_LE(when, before) << reason;
}

TEST_F(Interrupted, ARestartRecordsEachOpenCallOnceWithNullsAndTheChainGoesOn) {
  record("started", "a");
  record("started", "b");
  record("finished", "a");
  record("blocked", "c");
  record("started", "d");
  record("started", "x", "job-j");
  auto before_restart = detail::rfc3339_ms(std::chrono::system_clock::now());
  restart();
  auto after_restart = detail::rfc3339_ms(std::chrono::system_clock::now());

  EXPECT_EQ(progress, (std::vector<std::pair<size_t, size_t>>{{1, 2}, {2, 2}})) << "every log is looked at";
  auto p = payloads();
  ASSERT_EQ(p.size(), 7u);
  EXPECT_EQ(p[5]["call_id"], "b");
  EXPECT_EQ(p[6]["call_id"], "d");
  expect_interrupted(p[5], p[1], before_restart, after_restart);
  expect_interrupted(p[6], p[4], before_restart, after_restart);
  EXPECT_EQ(p[6]["prev_receipt_hash_b64u"], hash_of(*detail::dsse_payload(read_job_log(dir.path(), "job-i")->envelopes[5])));
  auto j = payloads("job-j");
  ASSERT_EQ(j.size(), 2u);
  expect_interrupted(j[1], j[0], before_restart, after_restart);
  bool told = false;
  for (const auto& w : warnings) told = told || w.find("job job-i: 2 call(s) left running") != std::string::npos;
  EXPECT_TRUE(told) << "the operator is not told";

  // Idempotent: a second restart finds nothing open and adds nothing.
  const std::string sealed = log_bytes();
  restart();
  EXPECT_EQ(log_bytes(), sealed);
  // The job is served again: its next receipt continues the chain.
  auto next = store->record(draft("started", "job-i", "e", policy_hash));
  ASSERT_TRUE(next.ok()) << next.error().detail;
  EXPECT_EQ(next->seq, 7);
  record("finished", "e");

  auto v = verify(exported());
  EXPECT_TRUE(v.pass) << v.line();
  EXPECT_EQ(v.interrupted_calls, (std::vector<std::string>{"b", "d"}));
  EXPECT_NE(v.detail.find("2 call(s) interrupted"), std::string::npos) << v.detail;
  EXPECT_EQ(v.to_json()["interrupted_calls"], Json::array({"b", "d"}));
  auto strict = verify(exported(), true);
  EXPECT_FALSE(strict.pass);
  EXPECT_EQ(strict.reason, Reason::RECEIPT_INTERRUPTED_CALL) << strict.line();
  EXPECT_NE(strict.detail.find("b, d"), std::string::npos) << strict.detail;
}

// The store closes idle logs and reopens them on the job's next receipt; a call of this very
// process that is running then must not be taken for one a dead supervisor left.
TEST_F(Interrupted, ReopeningAnIdleLogDoesNotInterruptTheCallsThisProcessRuns) {
  record("started", "running");
  for (int i = 0; i < 300; ++i) record("blocked", "filler", "idle-" + std::to_string(i));
  record("finished", "running");
  auto p = payloads();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1]["result"]["status"], "success");
  EXPECT_TRUE(verify(exported(), true).pass);
}

TEST_F(Interrupted, TheWriterAcceptsNullsOnlyForAnInterruptedCall) {
  record("started", "r");
  Draft ran = draft("finished", "job-i", "r", policy_hash);
  Draft stopped = detail::interrupted_draft(payloads()[0], "2026-12-06T00:00:00.000Z");
  auto refused = [&](Draft d, const char* what) {
    auto w = store->record(d);
    ASSERT_FALSE(w.ok()) << what;
    EXPECT_EQ(w.reason(), Reason::RECEIPT_PAYLOAD_INVALID) << what;
  };
  refused([&] { Draft d = ran; d.result->at("exit_code") = nullptr; return d; }(), "a call that ran, exit_code null");
  refused([&] { Draft d = ran; d.result->at("violations") = nullptr; return d; }(), "a call that ran, violations null");
  refused([&] { Draft d = stopped; d.reason = Reason::OK; return d; }(), "interrupted without SUPERVISOR_RESTARTED");
  refused([&] { Draft d = ran; d.reason = Reason::SUPERVISOR_RESTARTED; return d; }(), "SUPERVISOR_RESTARTED, success");
  refused([&] { Draft d = stopped; d.result->at("exit_code") = 0; return d; }(), "interrupted with a made-up exit code");
  refused([&] { Draft d = stopped; (*d.result)["pid"] = nullptr; return d; }(), "interrupted with an extra field");
  refused([&] { Draft d = stopped; d.result->erase("signal"); return d; }(), "interrupted without signal");
  refused([&] { Draft d = draft("started", "job-i", "s", policy_hash); d.reason = Reason::SUPERVISOR_RESTARTED; return d; }(),
          "SUPERVISOR_RESTARTED on a started receipt");
  EXPECT_EQ(payloads().size(), 1u) << "a refused draft was written";
  auto w = store->record(stopped);
  ASSERT_TRUE(w.ok()) << w.error().detail;
}

TEST_F(Interrupted, TheVerifierAcceptsNullsOnlyForAnInterruptedCall) {
  record("started", "ran");
  record("finished", "ran");
  record("started", "cut");
  restart();  // receipt #3: "cut" interrupted
  ASSERT_TRUE(verify(exported()).pass);
  struct Case {
    size_t receipt;
    std::function<void(Json&)> edit;
    Reason want;
  };
  const std::vector<std::pair<std::string, Case>> cases = {
      {"a call that ran, exit_code null", {1, [](Json& p) { p["result"]["exit_code"] = nullptr; }, Reason::RECEIPT_PAYLOAD_INVALID}},
      {"a call that ran, hash null", {1, [](Json& p) { p["result"]["stdout_hash_b64u"] = nullptr; }, Reason::RECEIPT_PAYLOAD_INVALID}},
      {"a call that ran, status interrupted", {1, [](Json& p) { p["result"]["status"] = "interrupted"; }, Reason::RECEIPT_PAYLOAD_INVALID}},
      {"interrupted, reason OK", {3, [](Json& p) { p["reason_code"] = "OK"; }, Reason::RECEIPT_PAYLOAD_INVALID}},
      {"interrupted, made-up duration", {3, [](Json& p) { p["result"]["duration_ms"] = 5; }, Reason::RECEIPT_PAYLOAD_INVALID}},
      {"SUPERVISOR_RESTARTED, status success", {3, [](Json& p) { p["result"]["status"] = "success"; }, Reason::RECEIPT_PAYLOAD_INVALID}},
      {"interrupted, no result fields", {3, [](Json& p) { p["result"] = {{"status", "interrupted"}}; }, Reason::RECEIPT_PAYLOAD_INVALID}},
      {"a started with SUPERVISOR_RESTARTED", {2, [](Json& p) { p["reason_code"] = "SUPERVISOR_RESTARTED"; }, Reason::RECEIPT_PAYLOAD_INVALID}},
  };
  for (const auto& [what, c] : cases) {
    auto v = verify(with_edited_receipt(c.receipt, c.edit));
    EXPECT_FALSE(v.pass) << what;
    EXPECT_EQ(v.reason, c.want) << what << ": " << v.line();
  }
  // A started with neither a finished nor an interrupted receipt is still unfinished.
  Json b = decode(exported());
  b["receipts"].erase(3);
  auto v = verify(dsse_sign(key_from(kSupervisor), kBundlePayloadType, b.dump()));
  EXPECT_EQ(v.reason, Reason::RECEIPT_UNFINISHED_CALL) << v.line();
  EXPECT_EQ(v.unfinished_calls, std::vector<std::string>{"cut"});
  EXPECT_TRUE(v.interrupted_calls.empty());
}

}  // namespace
}  // namespace clawjail::receipts::testing
