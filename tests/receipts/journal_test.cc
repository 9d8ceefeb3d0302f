// The journal copy of each receipt, against a real systemd-journald, and the store's behaviour
// when journald is absent.
#include <sched.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "test_util.h"
#include "tests/common/journald.h"

extern char** environ;

namespace clawjail::receipts::testing {
namespace {

::testing::AssertionResult ensure_journald() {
  std::string why = test::journald::ensure_host();
  return why.empty() ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << why;
}

std::vector<Json> journal_entries(const std::vector<std::string>& matches) {
  std::vector<std::string> argv{"journalctl", "--no-pager", "-o", "json"};
  argv.insert(argv.end(), matches.begin(), matches.end());
  auto [status, out] = run_capture(argv);
  std::vector<Json> entries;
  for (const auto& line : lines_of(out))
    if (auto j = Json::parse(line, nullptr, false); j.is_object()) entries.push_back(j);
  return entries;
}

// journald stores asynchronously: poll for a moment.
std::vector<Json> wait_for_entries(const std::vector<std::string>& matches, size_t want) {
  std::vector<Json> entries;
  for (int i = 0; i < 100; ++i) {
    entries = journal_entries(matches);
    if (entries.size() >= want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return entries;
}

TEST(Journal, JournalctlFindsTheBlockedReceiptByItsFields) {
  ASSERT_TRUE(ensure_journald());
  TempDir dir;
  auto store = open_store(dir.path(), '\x41', /*journal=*/true);
  std::string job = unique_name("jtest");
  const std::string policy = hash_of("policy");
  ASSERT_TRUE(store->record(draft("started", job, "c1", policy)).ok());
  ASSERT_TRUE(store->record(draft("finished", job, "c1", policy)).ok());
  auto blocked = store->record(draft("blocked", job, "c2", policy));
  ASSERT_TRUE(blocked.ok());
  EXPECT_TRUE(store->journal_available());
  EXPECT_TRUE(store->take_warnings().empty());

  auto entries = wait_for_entries({"SYSLOG_IDENTIFIER=clawjail", "CLAWJAIL_DECISION=blocked", "CLAWJAIL_JOB=" + job}, 1);
  ASSERT_EQ(entries.size(), 1u) << "journalctl SYSLOG_IDENTIFIER=clawjail CLAWJAIL_DECISION=blocked found nothing";
  const Json& e = entries[0];
  EXPECT_EQ(e["CLAWJAIL_JOB"], job);
  EXPECT_EQ(e["CLAWJAIL_CALL"], "c2");
  EXPECT_EQ(e["CLAWJAIL_TOOL"], "exec");
  EXPECT_EQ(e["CLAWJAIL_PHASE"], "blocked");
  EXPECT_EQ(e["CLAWJAIL_REASON"], "EXEC_DENIED");
  EXPECT_EQ(e["CLAWJAIL_RECEIPT_ID"], blocked->receipt_id);
  EXPECT_NE(e["MESSAGE"].get<std::string>().find("EXEC_DENIED"), std::string::npos);
  // The journal's copy is the signed envelope itself: it verifies on its own.
  auto envelope = Json::parse(e["CLAWJAIL_RECEIPT"].get<std::string>());
  auto payload = dsse_verify(envelope, kReceiptPayloadType, {store->signer_did()});
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(*payload, blocked->payload);

  auto all = wait_for_entries({"SYSLOG_IDENTIFIER=clawjail", "CLAWJAIL_JOB=" + job}, 3);
  EXPECT_EQ(all.size(), 3u);
  auto finished = wait_for_entries({"SYSLOG_IDENTIFIER=clawjail", "CLAWJAIL_JOB=" + job, "CLAWJAIL_PHASE=finished"}, 1);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_NE(finished[0]["MESSAGE"].get<std::string>().find("exec finished: success, exit 0 (receipt "), std::string::npos)
      << finished[0]["MESSAGE"];
}

// An interrupted call's receipt (its exit code and signal null) reaches the journal like any
// other, and its message says how little is known.
TEST(Journal, AnInterruptedCallsReceiptIsSentWithItsReason) {
  ASSERT_TRUE(ensure_journald());
  TempDir dir;
  std::string job = unique_name("jintr");
  ASSERT_TRUE(open_store(dir.path(), '\x41', /*journal=*/true)->record(draft("started", job, "c1", hash_of("p"))).ok());
  auto restarted = open_store(dir.path(), '\x41', /*journal=*/true);
  auto entries = wait_for_entries({"SYSLOG_IDENTIFIER=clawjail", "CLAWJAIL_JOB=" + job, "CLAWJAIL_PHASE=finished"}, 1);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["CLAWJAIL_REASON"], "SUPERVISOR_RESTARTED");
  EXPECT_NE(entries[0]["MESSAGE"].get<std::string>().find("exec finished: interrupted, SUPERVISOR_RESTARTED (receipt "),
            std::string::npos)
      << entries[0]["MESSAGE"];
}

// The copies go to journald from the store's own thread: closing the store right after a burst
// of receipts still sends every copy, in the order they were recorded.
TEST(Journal, CopiesStillQueuedWhenTheStoreClosesAreAllSentInOrder) {
  ASSERT_TRUE(ensure_journald());
  TempDir dir;
  const std::string job = unique_name("jdrain");
  constexpr int kReceipts = 200;
  {
    auto store = open_store(dir.path(), '\x43', /*journal=*/true);
    for (int i = 0; i < kReceipts; ++i)
      ASSERT_TRUE(store->record(draft("blocked", job, "c" + std::to_string(i), hash_of("p"))).ok());
  }
  auto entries = wait_for_entries({"SYSLOG_IDENTIFIER=clawjail", "CLAWJAIL_JOB=" + job}, kReceipts);
  ASSERT_EQ(entries.size(), static_cast<size_t>(kReceipts));
  for (int i = 0; i < kReceipts; ++i) EXPECT_EQ(entries[i]["CLAWJAIL_SEQ"], std::to_string(i)) << i;
}

// In a child with an empty /run/systemd (a private mount namespace), no journald can be reached.
int record_without_journald(const fs::path& state_dir) {
  if (::unshare(CLONE_NEWNS) != 0) return 10;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 11;
  std::error_code ec;
  fs::create_directories("/run/systemd", ec);
  if (::mount("tmpfs", "/run/systemd", "tmpfs", 0, "size=64k") != 0) return 12;
  std::vector<std::string> warned;
  StoreOptions o;
  o.on_warning = [&](const std::string& w) { warned.push_back(w); };
  auto store = ReceiptStore::open(state_dir, key_from('\x42'), o);
  if (!store.ok()) return 13;
  for (int i = 0; i < 3; ++i)
    if (!(*store)->record(draft("blocked", "nojournal", "c" + std::to_string(i), hash_of("p"))).ok()) return 14;
  if (warned.size() != 1) return 15;
  if (warned[0].find("journald is not reachable") == std::string::npos) return 16;
  if ((*store)->journal_available()) return 17;
  return 0;
}

TEST(Journal, WithoutJournaldCallsGoOnTheLogStaysCompleteAndItWarnsOnce) {
  TempDir dir;
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(record_without_journald(dir.path()));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see record_without_journald() for the failing step";
  auto log = read_job_log(dir.path(), "nojournal");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->envelopes.size(), 3u);
}

}  // namespace
}  // namespace clawjail::receipts::testing
