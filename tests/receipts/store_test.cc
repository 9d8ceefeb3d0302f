#include <regex>
#include <set>
#include <thread>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "receipts/internal.h"
#include "test_util.h"

namespace clawjail::receipts::testing {
namespace {

const std::string kPolicy = hash_of("policy");

Json payload_of(const Json& envelope) {
  auto bytes = policy::b64_decode(envelope["payload"].get<std::string>());
  EXPECT_TRUE(bytes.ok());
  return Json::parse(*bytes);
}

std::string payload_bytes(const Json& envelope) {
  return *policy::b64_decode(envelope["payload"].get<std::string>());
}

// Signature by `did`, seq from 0, each prev the hash of the previous payload bytes.
void expect_valid_chain(const std::vector<Json>& envelopes, const std::string& did) {
  std::optional<std::string> prev;
  for (size_t i = 0; i < envelopes.size(); ++i) {
    auto bytes = dsse_verify(envelopes[i], kReceiptPayloadType, {did});
    ASSERT_TRUE(bytes.ok()) << "line " << i << ": " << bytes.error().detail;
    Json p = Json::parse(*bytes);
    ASSERT_EQ(p["seq"], static_cast<int64_t>(i));
    if (prev)
      ASSERT_EQ(p["prev_receipt_hash_b64u"], *prev) << "line " << i;
    else
      ASSERT_TRUE(p["prev_receipt_hash_b64u"].is_null());
    prev = hash_of(*bytes);
  }
}

// A store without the journal whose warnings are appended to `warned`.
Result<std::unique_ptr<ReceiptStore>> open_warning_into(const std::filesystem::path& state_dir,
                                                        std::vector<std::string>& warned) {
  StoreOptions o;
  o.journal = false;
  o.on_warning = [&warned](const std::string& w) { warned.push_back(w); };
  return ReceiptStore::open(state_dir, key_from('\x05'), o);
}

TEST(ReceiptStore, WritesSignedChainedReceiptsWithExactlyTheSpecsFields) {
  TempDir dir;
  auto store = open_store(dir.path(), '\x05');
  ASSERT_TRUE(store);
  auto did = key_from('\x05').did();
  EXPECT_EQ(store->signer_did(), did);
  auto a = store->record(draft("started", "job-a", "c1", kPolicy));
  auto b = store->record(draft("finished", "job-a", "c1", kPolicy));
  auto c = store->record(draft("blocked", "job-a", "c2", kPolicy));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << (c.ok() ? "" : c.error().detail);
  EXPECT_EQ(a->seq, 0);
  EXPECT_EQ(c->seq, 2);

  auto log = read_job_log(dir.path(), "job-a");
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->envelopes.size(), 3u);
  EXPECT_FALSE(log->torn);
  expect_valid_chain(log->envelopes, did);
  EXPECT_EQ(payload_bytes(log->envelopes[1]), b->payload);
  EXPECT_EQ(log->envelopes[1], b->envelope);

  std::set<std::string> fields{"receipt_version", "receipt_id", "phase", "job_id", "seq",
                               "prev_receipt_hash_b64u", "call_id", "timestamp", "tool", "scopes",
                               "decision", "reason_code", "reason", "agent_did", "policy_hash_b64u",
                               "token_scope_hash_b64u", "cst_jti", "request_hash_b64u", "jail_hash_b64u"};
  std::regex uuid("^rcpt_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::regex rfc3339("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$");
  for (const auto& env : log->envelopes) {
    Json p = payload_of(env);
    std::set<std::string> keys;
    for (const auto& [k, _] : p.items()) keys.insert(k);
    auto want = fields;
    if (p["phase"] == "finished") want.insert("result");
    EXPECT_EQ(keys, want);
    EXPECT_TRUE(std::regex_match(p["receipt_id"].get<std::string>(), uuid)) << p["receipt_id"];
    EXPECT_TRUE(std::regex_match(p["timestamp"].get<std::string>(), rfc3339)) << p["timestamp"];
    EXPECT_EQ(p["receipt_version"], "1");
    EXPECT_TRUE(p["token_scope_hash_b64u"].is_null());
  }
  Json blocked = payload_of(log->envelopes[2]);
  EXPECT_EQ(blocked["decision"], "blocked");
  EXPECT_EQ(blocked["reason_code"], "EXEC_DENIED");
  EXPECT_EQ(blocked["reason"], "exec is denied by the WPC");
  Json finished = payload_of(log->envelopes[1]);
  EXPECT_EQ(finished["result"]["violations"][0]["syscall"], "ptrace");
  EXPECT_EQ(finished["reason_code"], "OK");
}

TEST(ReceiptStore, ReceiptIdsAreUnique) {
  TempDir dir;
  auto store = open_store(dir.path(), '\x05');
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.insert(store->record(draft("blocked", "j", "c" + std::to_string(i), kPolicy))->receipt_id);
  EXPECT_EQ(ids.size(), 50u);
}

TEST(ReceiptStore, ChainContinuesAfterReopenAndJobsHaveSeparateChains) {
  TempDir dir;
  {
    auto store = open_store(dir.path(), '\x05');
    ASSERT_TRUE(store->record(draft("blocked", "job-1", "c1", kPolicy)).ok());
    ASSERT_TRUE(store->record(draft("blocked", "job-2", "c9", kPolicy)).ok());
  }
  auto store = open_store(dir.path(), '\x05');
  auto w = store->record(draft("blocked", "job-1", "c2", kPolicy));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->seq, 1);
  EXPECT_EQ(store->record(draft("blocked", "job-2", "c10", kPolicy))->seq, 1);
  expect_valid_chain(read_job_log(dir.path(), "job-1")->envelopes, store->signer_did());
  EXPECT_EQ(list_jobs(dir.path()), (std::vector<std::string>{"job-1", "job-2"}));
}

TEST(ReceiptStore, KeyRotationStartsNoNewChainAndOldReceiptsStayVerifiable) {
  TempDir dir;
  auto old_did = key_from('\x05').did();
  auto new_did = key_from('\x06').did();
  {
    auto old_store = open_store(dir.path(), '\x05');
    old_store->record(draft("started", "rot", "c1", kPolicy)).value();
    old_store->record(draft("finished", "rot", "c1", kPolicy)).value();
  }
  open_store(dir.path(), '\x06')->record(draft("blocked", "rot", "c2", kPolicy)).value();
  auto log = read_job_log(dir.path(), "rot");
  ASSERT_EQ(log->envelopes.size(), 3u);
  EXPECT_TRUE(dsse_verify(log->envelopes[0], kReceiptPayloadType, {new_did, old_did}).ok());
  EXPECT_TRUE(dsse_verify(log->envelopes[2], kReceiptPayloadType, {new_did, old_did}).ok());
  EXPECT_FALSE(dsse_verify(log->envelopes[2], kReceiptPayloadType, {old_did}).ok());
  EXPECT_EQ(payload_of(log->envelopes[2])["prev_receipt_hash_b64u"], hash_of(payload_bytes(log->envelopes[1])));
}

TEST(ReceiptStore, RefusesJobIdsThatCouldNameAnotherFile) {
  TempDir dir;
  auto store = open_store(dir.path(), '\x05');
  for (std::string bad : std::vector<std::string>{"", "../escape", "a/b", "..", ".hidden", "a..b", std::string(129, 'j'),
                          std::string("nul\0x", 5), "sp ace"}) {
    EXPECT_FALSE(check_job_id(bad).ok()) << bad;
    auto r = store->record(draft("blocked", bad, "c", kPolicy));
    EXPECT_EQ(r.reason(), Reason::RECEIPT_PAYLOAD_INVALID) << bad;
    EXPECT_FALSE(read_job_log(dir.path(), bad).ok());
  }
  EXPECT_TRUE(check_job_id("job-2026.11_a:b@c+d").ok());
  EXPECT_TRUE(check_job_id(std::string(128, 'j')).ok());
  EXPECT_FALSE(fs::exists(dir.path() / "escape.log"));
}

TEST(ReceiptStore, RefusesDraftsTheFormatCannotExpress) {
  TempDir dir;
  auto store = open_store(dir.path(), '\x05');
  auto blocked_ok = draft("blocked", "j", "c", kPolicy);
  blocked_ok.reason = Reason::OK;
  auto finished_no_result = draft("finished", "j", "c", kPolicy);
  finished_no_result.result.reset();
  auto started_with_result = draft("started", "j", "c", kPolicy);
  started_with_result.result = Json::object();
  auto float_result = draft("finished", "j", "c", kPolicy);
  (*float_result.result)["duration_ms"] = 1.5;
  auto bad_hash = draft("started", "j", "c", "b64u:short");
  auto no_policy_allowed = draft("started", "j", "c", "");
  for (const auto& d : {blocked_ok, finished_no_result, started_with_result, float_result, bad_hash,
                        no_policy_allowed})
    EXPECT_EQ(store->record(d).reason(), Reason::RECEIPT_PAYLOAD_INVALID) << d.phase;
  EXPECT_FALSE(fs::exists(dir.path() / "receipts" / "j.log") &&
               !slurp(dir.path() / "receipts" / "j.log").empty());
  // A call refused before any WPC was found has no policy to name.
  auto no_policy_blocked = draft("blocked", "j", "c", "");
  no_policy_blocked.reason = Reason::WPC_NOT_FOUND;
  auto w = store->record(no_policy_blocked);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(Json::parse(w->payload)["policy_hash_b64u"].is_null());
}

TEST(ReceiptStore, InvalidUtf8FromOutsideIsRecordedNotThrown) {
  TempDir dir;
  auto store = open_store(dir.path(), '\x05');
  auto d = draft("blocked", "j", "c", kPolicy);
  d.reason_detail = "bad \xff\xfe bytes";
  d.tool = "ex\xc3";
  auto w = store->record(d);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(policy::parse_strict_json(w->payload).ok());
}

TEST(ReceiptStore, ConcurrentRecordsOfOneJobShareFdatasyncAndNeverInterleave) {
  TempDir dir;
  auto store = open_store(dir.path(), '\x05');
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto call = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!store->record(draft("blocked", "busy", call, kPolicy)).ok()) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  auto text = slurp(dir.path() / "receipts" / "busy.log");
  auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kEach));
  std::vector<Json> envelopes;
  std::set<std::string> calls;
  for (const auto& l : lines) {
    envelopes.push_back(Json::parse(l));  // throws on an interleaved line
    calls.insert(payload_of(envelopes.back())["call_id"].get<std::string>());
  }
  EXPECT_EQ(calls.size(), lines.size());  // none lost, none twice
  expect_valid_chain(envelopes, store->signer_did());
  auto stats = store->stats();
  EXPECT_EQ(stats.receipts, kThreads * kEach);
  EXPECT_GT(stats.fdatasyncs, 0);
  EXPECT_LT(stats.fdatasyncs, stats.receipts) << "no group commit happened";
  std::cout << "[ group commit ] " << stats.receipts << " receipts, " << stats.fdatasyncs << " fdatasyncs\n";
}

TEST(ReceiptStore, ATornFinalLineIsSetAsideReportedAndHidesNothingBeforeIt) {
  TempDir dir;
  auto log_path = dir.path() / "receipts" / "crashy.log";
  {
    auto store = open_store(dir.path(), '\x05');
    for (int i = 0; i < 3; ++i) store->record(draft("blocked", "crashy", "c" + std::to_string(i), kPolicy)).value();
  }
  std::string intact = slurp(log_path);
  std::string torn = "{\"payloadType\":\"application/vnd.clawjail.rec";
  { std::ofstream(log_path, std::ios::app) << torn; }

  auto seen = read_job_log(dir.path(), "crashy");
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->envelopes.size(), 3u);
  ASSERT_TRUE(seen->torn);
  EXPECT_NE(seen->torn->find("torn final line"), std::string::npos);
  EXPECT_EQ(slurp(log_path), intact + torn) << "reading must not change the log";

  std::vector<std::string> warned;
  auto store = open_warning_into(dir.path(), warned);
  ASSERT_TRUE(store.ok());
  ASSERT_EQ(warned.size(), 1u);
  EXPECT_NE(warned[0].find("torn final line"), std::string::npos);
  EXPECT_NE(warned[0].find("crashy.log.torn-1"), std::string::npos);
  EXPECT_EQ((*store)->take_warnings(), warned);
  EXPECT_EQ(slurp(log_path), intact);
  EXPECT_EQ(slurp(dir.path() / "receipts" / "crashy.log.torn-1"), torn);

  auto next = (*store)->record(draft("blocked", "crashy", "c3", kPolicy));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq, 3);
  auto log = read_job_log(dir.path(), "crashy");
  expect_valid_chain(log->envelopes, (*store)->signer_did());
  ASSERT_TRUE(log->torn);
  EXPECT_NE(log->torn->find("set aside in"), std::string::npos);
}

TEST(ReceiptStore, AGarbageLastLineLeftByACrashIsTornToo) {
  TempDir dir;
  auto log_path = dir.path() / "receipts" / "zeros.log";
  open_store(dir.path(), '\x05')->record(draft("blocked", "zeros", "c0", kPolicy)).value();
  { std::ofstream(log_path, std::ios::app) << std::string(40, '\0') << "\n"; }
  auto store = open_store(dir.path(), '\x05');
  EXPECT_EQ(store->take_warnings().size(), 1u);
  EXPECT_EQ(store->record(draft("blocked", "zeros", "c1", kPolicy))->seq, 1);
  expect_valid_chain(read_job_log(dir.path(), "zeros")->envelopes, store->signer_did());
}

TEST(ReceiptStore, RefusesToExtendALogWhoseChainIsBroken) {
  TempDir dir;
  auto log_path = dir.path() / "receipts" / "edited.log";
  {
    auto store = open_store(dir.path(), '\x05');
    for (int i = 0; i < 3; ++i) store->record(draft("blocked", "edited", "c" + std::to_string(i), kPolicy)).value();
  }
  auto lines = lines_of(slurp(log_path));
  spit(log_path, lines[0] + "\n" + lines[2] + "\n");  // a line deleted in the middle
  auto store = open_store(dir.path(), '\x05');
  auto r = store->record(draft("blocked", "edited", "c3", kPolicy));
  EXPECT_EQ(r.reason(), Reason::RECEIPT_STORE_FAILED);
  EXPECT_NE(r.error().detail.find("breaks the chain"), std::string::npos) << r.error().detail;
  EXPECT_EQ(lines_of(slurp(log_path)).size(), 2u);
}

// The log is reopened a MiB at a time: lines cut by a read's end are joined, a torn tail is still
// the last bytes, and a break past the first read is found with its line number.
TEST(ReceiptStore, ALogLongerThanOneReadIsRecoveredAcrossItsReadBoundaries) {
  TempDir dir;
  auto log_path = dir.path() / "receipts" / "long.log";
  int64_t written = 0;
  {
    auto store = open_store(dir.path(), '\x05');
    do
      store->record(draft("blocked", "long", "c" + std::to_string(written++), kPolicy)).value();
    while (std::filesystem::file_size(log_path) < (size_t{5} << 19));  // two and a half reads
  }
  auto lines = lines_of(slurp(log_path));
  ASSERT_EQ(lines.size(), static_cast<size_t>(written));
  { std::ofstream(log_path, std::ios::app) << "{\"payloadType\":\"applic"; }
  // A copy with a line deleted well past the first MiB: the next line is the one that breaks the chain.
  const size_t gone = lines.size() - 3;
  std::string cut;
  for (size_t i = 0; i < lines.size(); ++i)
    if (i != gone) cut += lines[i] + "\n";
  spit(dir.path() / "receipts" / "cut.log", cut);

  std::vector<std::string> warned;  // at start-up, in job order: cut's broken chain, long's torn line
  auto store = open_warning_into(dir.path(), warned);
  ASSERT_TRUE(store.ok());
  auto next = (*store)->record(draft("blocked", "long", "last", kPolicy));
  ASSERT_TRUE(next.ok()) << next.error().detail;
  EXPECT_EQ(next->seq, written);
  ASSERT_EQ(warned.size(), 2u);
  EXPECT_NE(warned[0].find("log line " + std::to_string(gone + 1) + ": breaks the chain"), std::string::npos) << warned[0];
  EXPECT_NE(warned[1].find("the " + std::to_string(written) + " lines before it are kept"), std::string::npos) << warned[1];
  expect_valid_chain(read_job_log(dir.path(), "long")->envelopes, (*store)->signer_did());

  auto refused = (*store)->record(draft("blocked", "cut", "c", kPolicy));
  EXPECT_EQ(refused.reason(), Reason::RECEIPT_STORE_FAILED);
  EXPECT_NE(refused.error().detail.find("log line " + std::to_string(gone + 1) + ": breaks the chain"), std::string::npos)
      << refused.error().detail;
}

// A second store on the same state directory would take the first's running calls for calls a
// dead supervisor left open; it is refused at open, and each log keeps its own writer lock too.
TEST(ReceiptStore, OneStorePerStateDirectoryAndOneWriterPerLog) {
  TempDir dir;
  auto first = open_store(dir.path(), '\x05');
  ASSERT_TRUE(first->record(draft("started", "shared", "c0", kPolicy)).ok());
  auto second = ReceiptStore::open(dir.path(), key_from('\x05'));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.reason(), Reason::RECEIPT_STORE_FAILED);
  EXPECT_NE(second.error().detail.find("held by another supervisor"), std::string::npos) << second.error().detail;
  std::vector<std::string> warnings;
  auto writer = detail::JobLogWriter::open(dir.path(), "shared", warnings);
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().detail.find("held by another writer"), std::string::npos);
  ASSERT_TRUE(first->record(draft("finished", "shared", "c0", kPolicy)).ok());
  EXPECT_EQ(read_job_log(dir.path(), "shared")->envelopes.size(), 2u) << "the running call was taken for an open one";
}

TEST(JobCst, RecordsClaimsAndTokenPrivatelyAndReadsThemBack) {
  TempDir dir;
  policy::Cst cst;
  cst.token = "aaa.bbb.ccc";
  cst.kid = "issuer-1";
  cst.claims = Json{{"sub", "did:key:z6Mk"}, {"jti", "j1"}, {"mission_id", "job-c"}};
  EXPECT_FALSE(read_job_cst(dir.path(), "job-c")->has_value());
  ASSERT_TRUE(record_job_cst(dir.path(), "job-c", cst).ok());
  auto back = read_job_cst(dir.path(), "job-c");
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->claims, cst.claims);
  EXPECT_EQ((*back)->token, cst.token);
  EXPECT_EQ((*back)->token_sha256_b64u, hash_of(cst.token));
  EXPECT_EQ((*back)->issuer_kid, "issuer-1");
  auto perms = fs::status(dir.path() / "jobs" / "job-c.cst.json").permissions();
  EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  EXPECT_FALSE(record_job_cst(dir.path(), "../x", cst).ok());
}

}  // namespace
}  // namespace clawjail::receipts::testing
