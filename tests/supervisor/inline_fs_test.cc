// File tools without descriptors (docs/protocol.md, "Inline file tools"): the data travels in the
// frames, bounded per call, with the same admission, jail and receipts as a file tool whose client
// passes its stdin and stdout.
#include <atomic>
#include <fstream>
#include <thread>
#include <limits>

#include "fixture.h"
#include "policy/encoding.h"
#include "supervisor/client/client.h"
#include "supervisor/proto/protocol.h"

namespace clawjail::test {
namespace {

constexpr int64_t kBound = proto::kMaxInlineBytes;

class InlineFs : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
  Json fs_call(const std::string& job, const std::string& op, std::vector<std::string> paths, Json extra = Json::object()) {
    Json fs = {{"op", op}, {"paths", paths}};
    for (auto& [k, v] : extra.items()) fs[k] = v;
    return {{"clawjail_protocol", 1}, {"type", "call"}, {"job_id", job}, {"wpc_hash_b64u", main_wpc},
            {"tool", op}, {"cst", token(job)}, {"workspace", world.workspace.string()}, {"fs", fs}};
  }
  // One request, one answer; with `descriptors`, this process's stdin, stdout and stderr go along.
  Json send(const Json& request, bool descriptors = false) {
    auto fd = client::connect_unix(world.socket);
    EXPECT_TRUE(fd);
    int std_fds[3] = {0, 1, 2};
    EXPECT_TRUE(proto::write_frame(fd.get(), request.dump(), descriptors ? std::span<const int>(std_fds) : std::span<const int>{}).ok());
    auto frame = proto::read_frame(fd.get(), std::chrono::steady_clock::now() + std::chrono::seconds(20));
    if (!frame) return {{"error", frame.error().detail}};
    return Json::parse(frame->body);
  }
  std::string token(const std::string& job) { return demo::issue_token(world, {.job = job, .policy_hash_b64u = main_wpc}); }
  std::string host_file(const std::string& name) {
    std::ifstream in(world.workspace / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static std::string bytes_of(const Json& answer) {
    auto b = policy::b64_decode(answer["value"]["data_b64"].get<std::string>());
    return b ? *b : "<not base64>";
  }
  void expect_refused(const std::string& job, const Json& answer, Reason reason) {
    EXPECT_EQ(answer["decision"], "blocked") << answer.dump();
    EXPECT_EQ(answer["reason_code"], std::string(reason_name(reason))) << answer.dump();
    EXPECT_EQ(answer["exit_code"], 126);
    auto rs = receipts(job);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0]["phase"], "blocked");
    EXPECT_EQ(rs[0]["reason_code"], std::string(reason_name(reason)));
  }
};

std::string binary_bytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919 + i / 251) & 0xff);
  return s;
}

TEST_F(InlineFs, BinaryDataIsWrittenAndReadBackWithItsReceipts) {
  const std::string data = std::string("\0\xff\xfe\x80 not UTF-8 \xc3\x28\n\0", 18) + binary_bytes(70000);
  auto w = send(fs_call("job-in", "write", {"bin.dat"}, {{"data_b64", policy::b64_encode(data)}}));
  ASSERT_EQ(w["status"], "success") << w.dump();
  EXPECT_EQ(w["exit_code"], 0);
  EXPECT_EQ(host_file("bin.dat"), data) << "the jail wrote other bytes";
  auto r = send(fs_call("job-in", "read", {"bin.dat"}));
  ASSERT_EQ(r["status"], "success") << r.dump();
  EXPECT_EQ(bytes_of(r), data);
  EXPECT_EQ(r["value"]["eof"], true);

  auto rs = receipts("job-in");
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[0]["phase"], "started");
  EXPECT_EQ(rs[1]["phase"], "finished");
  EXPECT_EQ(rs[1]["tool"], "write");
  EXPECT_EQ(rs[2]["phase"], "started");
  EXPECT_EQ(rs[3]["phase"], "finished");
  EXPECT_EQ(rs[3]["tool"], "read");
  EXPECT_EQ(rs[3]["result"]["stdout_bytes"], data.size());
  EXPECT_EQ(rs[3]["result"]["stdout_hash_b64u"], policy::sha256_b64u(data)) << "the receipt hashes other bytes than those returned";
  EXPECT_EQ(r["receipt_ids"].size(), 2u);
}

TEST_F(InlineFs, RangesReadAndWriteAFileInChunks) {
  const std::string data = binary_bytes(1000);
  auto first = send(fs_call("job-rg", "write", {"r.dat"}, {{"data_b64", policy::b64_encode(data.substr(0, 600))}}));
  ASSERT_EQ(first["status"], "success") << first.dump();
  auto second = send(fs_call("job-rg", "write", {"r.dat"},
                             {{"data_b64", policy::b64_encode(data.substr(600))}, {"offset", 600}, {"truncate", false}}));
  ASSERT_EQ(second["status"], "success") << second.dump();
  EXPECT_EQ(host_file("r.dat"), data);

  auto a = send(fs_call("job-rg", "read", {"r.dat"}, {{"offset", 0}, {"length", 400}}));
  EXPECT_EQ(bytes_of(a), data.substr(0, 400));
  EXPECT_EQ(a["value"]["eof"], false);
  auto b = send(fs_call("job-rg", "read", {"r.dat"}, {{"offset", 400}, {"length", 600}}));  // ends exactly at the end
  EXPECT_EQ(bytes_of(b), data.substr(400));
  EXPECT_EQ(b["value"]["eof"], true) << "a range that ends at the end of the file reached it";
  auto c = send(fs_call("job-rg", "read", {"r.dat"}, {{"offset", 999}, {"length", 1}}));
  EXPECT_EQ(bytes_of(c), data.substr(999));
  EXPECT_EQ(c["value"]["eof"], true);
  for (int64_t past : {1000, 5000}) {
    auto d = send(fs_call("job-rg", "read", {"r.dat"}, {{"offset", past}, {"length", 10}}));
    EXPECT_EQ(d["status"], "success") << d.dump();
    EXPECT_EQ(bytes_of(d), "");
    EXPECT_EQ(d["value"]["eof"], true);
  }
  auto zero = send(fs_call("job-rg", "read", {"r.dat"}, {{"offset", 10}, {"length", 0}}));
  EXPECT_EQ(bytes_of(zero), "");
  EXPECT_EQ(zero["value"]["eof"], false);
  // The other file tools carry no data: stat, ls, mkdir, rename, remove.
  auto st = send(fs_call("job-rg", "stat", {"r.dat"}));
  EXPECT_EQ(st["value"]["size"], 1000) << st.dump();
  EXPECT_EQ(send(fs_call("job-rg", "mkdir", {"d/e"}, {{"recursive", true}}))["status"], "success");
  EXPECT_EQ(send(fs_call("job-rg", "rename", {"r.dat", "d/e/r.dat"}))["status"], "success");
  auto ls = send(fs_call("job-rg", "ls", {"d/e"}));
  ASSERT_EQ(ls["value"].size(), 1u) << ls.dump();
  EXPECT_EQ(ls["value"][0]["name"], "r.dat");
  EXPECT_EQ(send(fs_call("job-rg", "remove", {"d"}, {{"recursive", true}}))["status"], "success");
  auto missing = send(fs_call("job-rg", "remove", {"d"}));
  EXPECT_EQ(missing["reason_code"], "FS_OP_FAILED");
  EXPECT_NE(missing["reason"].get<std::string>().find("No such file"), std::string::npos) << missing.dump();
  EXPECT_FALSE(fs::exists(world.workspace / "d"));
}

// A jail can make a file of any size; an inline read returns the bound and says there is more,
// and the supervisor relays no byte past it.
TEST_F(InlineFs, AReadOfAFileLargerThanTheBoundStaysBounded) {
  auto cst = job_token("job-big");
  auto made = clawjail(run_args("job-big", cst, {"--", "/bin/sh", "-c", "head -c 3000000 /dev/zero > big.dat"}));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto r = send(fs_call("job-big", "read", {"big.dat"}));
  ASSERT_EQ(r["status"], "success") << r.dump().substr(0, 500);
  EXPECT_EQ(bytes_of(r).size(), static_cast<size_t>(kBound));
  EXPECT_EQ(r["value"]["eof"], false);
  auto rs = receipts("job-big");
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[3]["result"]["stdout_bytes"], kBound);
  EXPECT_EQ(rs[3]["result"]["stdout_hash_b64u"], policy::sha256_b64u(bytes_of(r)));
  auto more = send(fs_call("job-big", "read", {"big.dat"}, {{"length", kBound + 1}}));
  EXPECT_EQ(more["reason_code"], "BAD_FIELD") << "a length past the bound";
  EXPECT_EQ(more["decision"], "blocked");
  auto last = send(fs_call("job-big", "read", {"big.dat"}, {{"offset", 3000000 - 100}}));
  EXPECT_EQ(bytes_of(last), std::string(100, '\0'));
  EXPECT_EQ(last["value"]["eof"], true);
}

TEST_F(InlineFs, OversizeDataIsRefusedWithABlockedReceipt) {
  auto r = send(fs_call("job-over", "write", {"o.dat"}, {{"data_b64", policy::b64_encode(binary_bytes(kBound + 1))}}));
  expect_refused("job-over", r, Reason::BAD_FIELD);
  EXPECT_FALSE(fs::exists(world.workspace / "o.dat"));
  auto fits = send(fs_call("job-fits", "write", {"o.dat"}, {{"data_b64", policy::b64_encode(binary_bytes(kBound))}}));
  EXPECT_EQ(fits["status"], "success") << fits.dump();
  EXPECT_EQ(host_file("o.dat"), binary_bytes(kBound));
}

TEST_F(InlineFs, BadBase64IsRefusedWithABlockedReceipt) {
  for (std::string bad : {"not base64!", "QUJD=", "QUJDRA", "QU JD"}) {
    const std::string job = "job-b64-" + std::to_string(bad.size()) + (bad.find(' ') != std::string::npos ? "s" : "");
    auto r = send(fs_call(job, "write", {"b.dat"}, {{"data_b64", bad}}));
    expect_refused(job, r, Reason::BAD_FIELD);
  }
  EXPECT_FALSE(fs::exists(world.workspace / "b.dat"));
}

TEST_F(InlineFs, DataAndDescriptorsDoNotMix) {
  // data_b64 on an operation other than write
  expect_refused("job-mix-a", send(fs_call("job-mix-a", "read", {"x"}, {{"data_b64", "QUJD"}})), Reason::BAD_FIELD);
  // data_b64 with descriptors
  expect_refused("job-mix-b", send(fs_call("job-mix-b", "write", {"x"}, {{"data_b64", "QUJD"}}), true),
                 Reason::REQUEST_MALFORMED);
  // an inline write without its data
  expect_refused("job-mix-c", send(fs_call("job-mix-c", "write", {"x"})), Reason::BAD_FIELD);
  // offset on a tool without data, a negative offset
  expect_refused("job-mix-d", send(fs_call("job-mix-d", "stat", {"x"}, {{"offset", 3}})), Reason::BAD_FIELD);
  expect_refused("job-mix-e", send(fs_call("job-mix-e", "read", {"x"}, {{"offset", -1}})), Reason::BAD_FIELD);
  expect_refused("job-mix-f", send(fs_call("job-mix-f", "stat", {"x"}, {{"length", 3}})), Reason::BAD_FIELD);
  EXPECT_FALSE(fs::exists(world.workspace / "x"));
  // An exec still needs its three descriptors.
  Json exec = {{"clawjail_protocol", 1}, {"type", "call"}, {"job_id", "job-mix-g"}, {"wpc_hash_b64u", main_wpc},
               {"tool", "exec"}, {"cst", token("job-mix-g")}, {"exec", {{"argv", {"/bin/sh", "-c", "touch x"}}}},
               {"workspace", world.workspace.string()}};
  expect_refused("job-mix-g", send(exec), Reason::REQUEST_MALFORMED);
  EXPECT_FALSE(fs::exists(world.workspace / "x"));
}

// Through the descriptors, a range read is the same operation: its bytes go to stdout.
TEST_F(InlineFs, TheSameRangeRulesHoldWithDescriptors) {
  std::ofstream(world.workspace / "plain.txt") << "0123456789";
  auto fd = client::connect_unix(world.socket);
  ASSERT_TRUE(fd);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd rd(p[0]), wr(p[1]);
  int fds[3] = {0, wr.get(), 2};
  ASSERT_TRUE(proto::write_frame(fd.get(), fs_call("job-desc", "read", {"plain.txt"}, {{"offset", 2}, {"length", 3}}).dump(), fds).ok());
  wr.reset();
  auto frame = proto::read_frame(fd.get(), std::chrono::steady_clock::now() + std::chrono::seconds(20));
  ASSERT_TRUE(frame.ok());
  auto answer = Json::parse(frame->body);
  EXPECT_EQ(answer["status"], "success") << answer.dump();
  EXPECT_EQ(answer["value"], Json({{"eof", false}}));
  EXPECT_EQ(read_all(rd.get()), "234");
}

// Offsets at the far end of the range: a write there would make a file as large as the offset
// says (sparse, but its size is what the WPC's file_size_mb bounds), and offset + length can
// overflow. Each is refused or reads nothing; none grows a file past the limit or ends the
// supervisor, and every one has its receipts.
TEST_F(InlineFs, OffsetsAtTheEndOfTheRangeNeitherGrowFilesNorBreakTheSupervisor) {
  ASSERT_EQ(send(fs_call("job-far", "write", {"f.dat"}, {{"data_b64", policy::b64_encode("abc")}}))["status"], "success");
  for (int64_t offset : {int64_t{1} << 40, std::numeric_limits<int64_t>::max() - 1, std::numeric_limits<int64_t>::max()}) {
    auto w = send(fs_call("job-far", "write", {"f.dat"},
                          {{"data_b64", policy::b64_encode("xyz")}, {"offset", offset}, {"truncate", false}}));
    EXPECT_NE(w["status"], "success") << offset << ": " << w.dump();
    EXPECT_EQ(w["exit_code"], 1) << w.dump();
    EXPECT_EQ(w["reason_code"], "FS_OP_FAILED") << w.dump();
    if (offset == int64_t{1} << 40) {  // past file_size_mb: an answer, not a killed file worker
      EXPECT_NE(w["reason"].get<std::string>().find("File too large"), std::string::npos) << w.dump();
    }
    auto r = send(fs_call("job-far", "read", {"f.dat"}, {{"offset", offset}, {"length", kBound}}));
    EXPECT_EQ(r["status"], "success") << offset << ": " << r.dump();
    EXPECT_EQ(bytes_of(r), "");
  }
  EXPECT_EQ(std::filesystem::file_size(world.workspace / "f.dat"), 3u) << "a write far out grew the file";
  EXPECT_EQ(host_file("f.dat"), "abc");
  EXPECT_EQ(send(fs_call("job-far", "read", {"f.dat"}))["status"], "success") << "the supervisor stopped serving";
  EXPECT_EQ(receipts("job-far").size(), 2u * 8u);
}

// A path the jail cannot take (empty, holding a NUL byte, longer than its 4095 bytes) is a bad
// request: refused with a `blocked` receipt before anything starts, for each path of each tool,
// not failed after a `started` receipt as if the supervisor had.
TEST_F(InlineFs, PathsTheJailCannotTakeAreRefusedBeforeTheCallStarts) {
  std::ofstream(world.workspace / "plain.txt") << "0123456789";
  const std::vector<std::string> bad = {std::string("plain.txt\0x", 11), "", std::string(4096, 'a'), std::string(70000, 'b')};
  int n = 0;
  for (const auto& path : bad) {
    for (const std::string op : {"read", "write", "stat", "ls", "remove", "mkdir", "rename"}) {
      for (bool first : {true, false}) {
        if (!first && op != "rename") continue;
        const std::string job = "job-path-" + std::to_string(n++);
        Json extra = op == "write" ? Json{{"data_b64", "QUJD"}} : Json::object();
        Json call = fs_call(job, op, op == "rename" ? std::vector<std::string>{"x", "y"} : std::vector<std::string>{"x"}, extra);
        call["fs"].erase("paths");
        call["fs"]["paths_b64"] = op != "rename" ? Json{policy::b64_encode(path)}
                                  : first      ? Json{policy::b64_encode(path), policy::b64_encode("moved")}
                                               : Json{policy::b64_encode("plain.txt"), policy::b64_encode(path)};
        SCOPED_TRACE(op + " of a path of " + std::to_string(path.size()) + " bytes");
        expect_refused(job, send(call), Reason::BAD_FIELD);
      }
    }
  }
  EXPECT_EQ(host_file("plain.txt"), "0123456789");
  EXPECT_FALSE(fs::exists(world.workspace / "moved"));
  // The longest path the jail takes is an operation like any other.
  auto longest = send(fs_call("job-path-longest", "stat", {std::string(4095, 'c')}));
  EXPECT_EQ(longest["status"], "error") << longest.dump().substr(0, 300);
  EXPECT_EQ(longest["reason_code"], "FS_OP_FAILED");
  EXPECT_EQ(longest["exit_code"], 1);
}

// `job stop` races the job's calls in flight: one admitted just before the stop that reaches the
// file worker after it must not run. No write lands after the stop's answer (file times lag the
// clock, never lead it).
TEST_F(InlineFs, NoOperationRunsAfterJobStopAnswered) {
  const std::string job = "job-race";
  std::atomic<bool> stopping{false};
  std::atomic<int> ran{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 12; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < 400; ++i) {
        auto call = fs_call(job, "write", {"w-" + std::to_string(t) + "-" + std::to_string(i)}, {{"data_b64", "QUJD"}});
        auto fd = client::connect_unix(world.socket);
        if (!fd || !proto::write_frame(fd.get(), call.dump()).ok()) return;
        auto frame = proto::read_frame(fd.get(), std::chrono::steady_clock::now() + std::chrono::seconds(20));
        if (!frame) return;
        auto answer = Json::parse(frame->body);
        if (answer["status"] == "success") ++ran;
        if (stopping && answer["decision"] == "blocked") return;
      }
    });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (ran < 30 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stopping = true;
  EXPECT_GE(ran, 30) << "the writes did not run before the stop";
  auto stop = clawjail({"job", "stop", job, "--socket", world.socket.string()});
  const auto stopped_at = fs::file_time_type::clock::now();
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  for (auto& w : writers) w.join();
  int late = 0;
  for (auto& e : fs::directory_iterator(world.workspace))
    if (e.last_write_time() > stopped_at) ++late;
  EXPECT_EQ(late, 0) << late << " write(s) ran after `job stop` answered (" << ran << " ran in all)";
}

// A file a command of the same job keeps growing while it is read inline: each read still returns
// at most the bound, and its `finished` receipt hashes exactly the bytes returned.
TEST_F(InlineFs, AFileGrowingWhileItIsReadIsReadBoundedAndHashedAsReturned) {
  auto cst = job_token("job-grow");
  auto grower = start_client(run_args("job-grow", cst, {"--", "/bin/sh", "-c",
      "i=0; while [ $i -lt 60 ]; do head -c 65536 /dev/zero >> grow.dat; i=$((i+1)); done"}));
  for (int i = 0; i < 500 && !fs::exists(world.workspace / "grow.dat"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::vector<std::string> read;
  for (int i = 0; i < 5; ++i) {
    auto r = send(fs_call("job-grow", "read", {"grow.dat"}, {{"offset", i * 100000}}));
    ASSERT_EQ(r["status"], "success") << r.dump().substr(0, 300);
    read.push_back(bytes_of(r));
    EXPECT_LE(read.back().size(), static_cast<size_t>(kBound));
  }
  wait_exit_code(grower.pid);
  std::vector<Json> finished;
  for (auto& rc : receipts("job-grow"))
    if (rc["tool"] == "read" && rc["phase"] == "finished") finished.push_back(rc);
  ASSERT_EQ(finished.size(), read.size());
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(finished[i]["result"]["stdout_bytes"], read[i].size());
    EXPECT_EQ(finished[i]["result"]["stdout_hash_b64u"], policy::sha256_b64u(read[i]));
  }
}

}  // namespace
}  // namespace clawjail::test
