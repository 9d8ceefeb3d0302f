// A full disk, for real: a 64 KiB tmpfs holds the state directory and a filler file eats it.
#include <sched.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "base/unique_fd.h"
#include "test_util.h"

namespace clawjail::receipts::testing {
namespace {

class TinyDisk {
 public:
  TinyDisk() : mountpoint_(dir_.path() / "state") {
    fs::create_directories(mountpoint_);
    // A private mount namespace keeps the tmpfs out of the host's view and drops it with us;
    // without one (threads already running) the mount is undone in the destructor.
    if (::unshare(CLONE_NEWNS) == 0) ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    mounted_ = ::mount("tmpfs", mountpoint_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0700") == 0;
    error_ = std::strerror(errno);
  }
  ~TinyDisk() {
    if (mounted_) ::umount2(mountpoint_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const fs::path& path() const { return mountpoint_; }

  // Writes until the file system refuses; returns the bytes written.
  size_t fill() {
    UniqueFd fd(::open((mountpoint_ / "filler").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    std::string chunk(1024, 'x');
    size_t total = 0;
    for (ssize_t n; (n = ::write(fd.get(), chunk.data(), chunk.size())) > 0;) total += static_cast<size_t>(n);
    return total;
  }
  void free_space() { fs::remove(mountpoint_ / "filler"); }

 private:
  TempDir dir_;  // first: mountpoint_ lives inside it
  fs::path mountpoint_;
  bool mounted_ = false;
  std::string error_;
};

TEST(DiskFull, RecordFailsWithStoreFailedLeavesNoPartialLineAndTheChainStaysValid) {
  TinyDisk disk;
  ASSERT_TRUE(disk.mounted()) << "mount tmpfs: " << disk.error() << " (this suite runs as root)";
  auto store = open_store(disk.path(), '\x31');
  const std::string policy = hash_of("policy");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->record(draft("blocked", "full", "ok" + std::to_string(i), policy)).ok());
  ASSERT_GT(disk.fill(), 0u);

  // tmpfs allocates whole pages, so a line may still fit in the log's last page: keep going
  // until the disk really refuses.
  auto log = disk.path() / "receipts" / "full.log";
  int refused = 0, attempts = 0;
  while (refused == 0 && attempts < 16) {
    auto size_before = fs::file_size(log);
    auto r = store->record(draft("blocked", "full", "try" + std::to_string(attempts++), policy));
    if (r.ok()) continue;
    ++refused;
    EXPECT_EQ(r.reason(), Reason::RECEIPT_STORE_FAILED);
    EXPECT_NE(r.error().detail.find("No space left"), std::string::npos) << r.error().detail;
    EXPECT_EQ(fs::file_size(log), size_before) << "a partial line stayed on disk";
  }
  ASSERT_EQ(refused, 1) << "the 64k tmpfs never filled up";
  std::string text = slurp(log);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  auto durable_lines = lines_of(text).size();

  disk.free_space();
  auto after = store->record(draft("blocked", "full", "after", policy));
  ASSERT_TRUE(after.ok()) << after.error().detail;
  EXPECT_EQ(after->seq, static_cast<int64_t>(durable_lines)) << "the chain ran ahead of the disk";

  auto read = read_job_log(disk.path(), "full");
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->torn);
  std::optional<std::string> prev;
  for (size_t i = 0; i < read->envelopes.size(); ++i) {
    auto bytes = dsse_verify(read->envelopes[i], kReceiptPayloadType, {store->signer_did()});
    ASSERT_TRUE(bytes.ok());
    auto p = Json::parse(*bytes);
    EXPECT_EQ(p["seq"], static_cast<int64_t>(i));
    EXPECT_EQ(p["prev_receipt_hash_b64u"], prev ? Json(*prev) : Json(nullptr));
    prev = hash_of(*bytes);
  }
  // And a restarted supervisor continues the same chain.
  store.reset();
  auto reopened = open_store(disk.path(), '\x31');
  EXPECT_EQ(reopened->record(draft("blocked", "full", "reopened", policy))->seq,
            static_cast<int64_t>(durable_lines + 1));
}

// Fills the disk, then records blocked receipts until one is refused: tmpfs allocates whole
// pages, so the log's last page may still have room after fill().
void exhaust(TinyDisk& disk, ReceiptStore& store, const std::string& job, const std::string& policy) {
  ASSERT_GT(disk.fill(), 0u);
  for (int i = 0; i < 16; ++i)
    if (!store.record(draft("blocked", job, "slack" + std::to_string(i), policy)).ok()) return;
  FAIL() << "the 64k tmpfs never filled up";
}

// "phase call_id" of each receipt in the job's log, each signature checked.
std::vector<std::string> phases_and_calls(const fs::path& state, const std::string& job, const std::string& did) {
  std::vector<std::string> out;
  auto read = read_job_log(state, job);
  EXPECT_TRUE(read.ok());
  for (const auto& e : read->envelopes) {
    auto bytes = dsse_verify(e, kReceiptPayloadType, {did});
    if (!bytes.ok()) return {"bad signature"};
    auto p = Json::parse(*bytes);
    out.push_back(p["phase"].get<std::string>() + " " + p["call_id"].get<std::string>());
  }
  return out;
}

TEST(DiskFull, AFinishedReceiptThatMetAFullDiskIsWrittenBeforeTheJobsNextReceipt) {
  TinyDisk disk;
  ASSERT_TRUE(disk.mounted()) << "mount tmpfs: " << disk.error();
  auto store = open_store(disk.path(), '\x32');
  const std::string policy = hash_of("policy");
  ASSERT_TRUE(store->record(draft("started", "owed", "ran", policy)).ok());
  exhaust(disk, *store, "owed", policy);
  auto finished = store->record(draft("finished", "owed", "ran", policy));
  ASSERT_FALSE(finished.ok());
  EXPECT_EQ(finished.reason(), Reason::RECEIPT_STORE_FAILED);
  EXPECT_NE(finished.error().detail.find("kept and written once"), std::string::npos) << finished.error().detail;
  EXPECT_EQ(store->stats().owed, 1);
  EXPECT_EQ(store->retry_owed(), 1u) << "still no room";
  // A started receipt is never kept: that call must not run, and later it would be false.
  EXPECT_FALSE(store->record(draft("started", "owed", "refused", policy)).ok());
  EXPECT_EQ(store->stats().owed, 1);

  disk.free_space();
  ASSERT_TRUE(store->record(draft("started", "owed", "next", policy)).ok());
  EXPECT_EQ(store->stats().owed, 0);
  auto log = phases_and_calls(disk.path(), "owed", store->signer_did());
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log[log.size() - 2], "finished ran");
  EXPECT_EQ(log.back(), "started next");
  for (const auto& line : log) EXPECT_NE(line, "started refused");
}

TEST(DiskFull, AKeptFinishedReceiptIsWrittenByRetryOnceThereIsRoom) {
  TinyDisk disk;
  ASSERT_TRUE(disk.mounted()) << "mount tmpfs: " << disk.error();
  auto store = open_store(disk.path(), '\x33');
  const std::string policy = hash_of("policy");
  ASSERT_TRUE(store->record(draft("started", "quiet", "ran", policy)).ok());
  exhaust(disk, *store, "quiet", policy);
  ASSERT_FALSE(store->record(draft("finished", "quiet", "ran", policy)).ok());
  EXPECT_FALSE(store->record(draft("blocked", "quiet", "refused", policy)).ok());
  EXPECT_EQ(store->stats().owed, 1) << "only the finished receipt is kept";
  disk.free_space();
  EXPECT_EQ(store->retry_owed(), 0u);
  EXPECT_EQ(phases_and_calls(disk.path(), "quiet", store->signer_did()).back(), "finished ran");
}

// A kept finished receipt dies with the process; the restarted store finds its call open like any
// other and records it as interrupted, kept in memory itself while the disk is still full.
TEST(DiskFull, AKeptFinishedReceiptLostWithTheProcessIsRecordedInterruptedAfterTheRestart) {
  TinyDisk disk;
  ASSERT_TRUE(disk.mounted()) << "mount tmpfs: " << disk.error();
  auto store = open_store(disk.path(), '\x34');
  const std::string policy = hash_of("policy");
  ASSERT_TRUE(store->record(draft("started", "lost", "ran", policy)).ok());
  exhaust(disk, *store, "lost", policy);
  ASSERT_FALSE(store->record(draft("finished", "lost", "ran", policy)).ok());
  ASSERT_EQ(store->stats().owed, 1);
  store.reset();  // the process dies with the receipt it kept

  auto restarted = open_store(disk.path(), '\x34');  // the disk is still full
  EXPECT_EQ(restarted->stats().owed, 1) << "the interrupted receipt is not kept for later";
  EXPECT_EQ(restarted->retry_owed(), 1u);
  disk.free_space();
  EXPECT_EQ(restarted->retry_owed(), 0u);
  auto log = phases_and_calls(disk.path(), "lost", restarted->signer_did());
  EXPECT_EQ(std::count(log.begin(), log.end(), "finished ran"), 1);
  EXPECT_EQ(log.back(), "finished ran");
  auto last = Json::parse(*policy::b64_decode(read_job_log(disk.path(), "lost")->envelopes.back()["payload"].get<std::string>()));
  EXPECT_EQ(last["reason_code"], "SUPERVISOR_RESTARTED");
  EXPECT_EQ(last["result"]["status"], "interrupted");
  EXPECT_TRUE(last["result"]["exit_code"].is_null());

  restarted.reset();  // and a second restart adds nothing
  auto again = open_store(disk.path(), '\x34');
  EXPECT_EQ(phases_and_calls(disk.path(), "lost", again->signer_did()).size(), log.size());
}

}  // namespace
}  // namespace clawjail::receipts::testing
