// Bytes made by the jail reach the supervisor's answers: file names that are not UTF-8, names
// full of terminal escapes, directories too large for one answer. The supervisor must answer
// every one of them, keep the bytes for --json, never print them raw, and stay up.
#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "fixture.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"

namespace clawjail::test {
namespace {

class JailBytes : public SupervisorTest {
 protected:
  void SetUp() override {
    SupervisorTest::SetUp();
    start_supervisor();
  }
  std::vector<std::string> fs_args(const std::string& job, const fs::path& cst, std::vector<std::string> tail) {
    std::vector<std::string> a = {"fs", "--socket", world.socket.string(), "--job", job, "--cst-file", cst.string(),
                                  "--workspace", world.workspace.string()};
    a.insert(a.end(), tail.begin(), tail.end());
    return a;
  }
  // Runs `script` with /bin/sh in a jail of `job`; the call must succeed.
  void jail_sh(const std::string& job, const fs::path& cst, const std::string& script) {
    auto c = clawjail(run_args(job, cst, {"--", "/bin/sh", "-c", script}));
    ASSERT_EQ(c.exit_code, 0) << c.err;
  }
  bool supervisor_alive() { return ::waitpid(supervisor, nullptr, WNOHANG) == 0; }
  // The supervisor's peak resident memory (VmHWM), in KiB.
  int64_t peak_rss_kib() {
    std::ifstream in("/proc/" + std::to_string(supervisor) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
    return -1;
  }
};

// The entry of `listing` whose exact name (name_b64 when present, else name) is `bytes`.
const Json* entry_named(const Json& listing, const std::string& bytes) {
  for (const auto& e : listing) {
    auto exact = e.contains("name_b64") ? policy::b64_decode(e["name_b64"].get<std::string>())
                                        : Result<std::string>(e["name"].get<std::string>());
    if (exact.ok() && *exact == bytes) return &e;
  }
  return nullptr;
}

TEST_F(JailBytes, NonUtf8NameIsListedAndTheSupervisorSurvives) {
  auto cst = job_token("job-bytes");
  auto other_cst = job_token("job-other");
  jail_sh("job-bytes", cst, "mkdir -p d && : > \"d/$(printf 'x\\377')\" && : > d/plain");
  // A call of another job is running while the listing is answered; it must end normally.
  auto other = start_client(run_args("job-other", other_cst, {"--", "/bin/sh", "-c", "sleep 3; echo survived"}));
  ASSERT_TRUE(wait_receipts("job-other", 1)) << "the other call never started";

  auto ls = clawjail(fs_args("job-bytes", cst, {"--json", "ls", "d"}));
  ASSERT_EQ(ls.exit_code, 0) << ls.err << supervisor_log();
  Json listing = Json::parse(ls.out);
  const Json* odd = entry_named(listing, "x\xff");
  ASSERT_NE(odd, nullptr) << ls.out;
  EXPECT_EQ((*odd)["name"], "x\xef\xbf\xbd") << "the lossy name replaces the byte with U+FFFD";
  EXPECT_EQ((*odd)["name_b64"], policy::b64_encode("x\xff"));
  const Json* plain = entry_named(listing, "plain");
  ASSERT_NE(plain, nullptr) << ls.out;
  EXPECT_FALSE(plain->contains("name_b64")) << "UTF-8 names travel as they are";

  // The name as the listing gave it reaches the file (fs paths travel as bytes too).
  auto stat = clawjail(fs_args("job-bytes", cst, {"--json", "stat", std::string("d/x\xff")}));
  EXPECT_EQ(stat.exit_code, 0) << stat.err;
  EXPECT_EQ(Json::parse(stat.out)["type"], "file") << stat.out;
  auto missing = clawjail(fs_args("job-bytes", cst, {"read", std::string("d/y\xfe\x1b[2J")}));
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_EQ(missing.err.find('\x1b'), std::string::npos) << "an escape reached the terminal: " << missing.err;
  EXPECT_NE(missing.err.find("d/y\\xfe\\x1b[2J"), std::string::npos) << missing.err;
  // The failed read's reason quotes the client's path; the operator's view of the receipts escapes it.
  auto shown = clawjail({"receipts", "show", "--config", world.config_path.string(), "--job", "job-bytes"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out.find('\x1b'), std::string::npos) << "an escape reached the terminal: " << shown.out;
  EXPECT_NE(shown.out.find("FS_OP_FAILED"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("d/y\\xfe\\x1b[2J"), std::string::npos) << shown.out;

  EXPECT_TRUE(supervisor_alive()) << supervisor_log();
  EXPECT_EQ(wait_exit_code(other.pid), 0);
  EXPECT_EQ(read_all(other.out.get()), "survived\n");
  auto r = receipts("job-other");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1]["phase"], "finished");
  auto rb = receipts("job-bytes");
  ASSERT_EQ(rb.size(), 8u);
  EXPECT_EQ(rb[7]["phase"], "finished");
  EXPECT_NE(rb[7]["reason"].get<std::string>().find("d/y\\xfe"), std::string::npos)
      << "signed receipts name bytes explicitly: " << rb[7].dump();
}

TEST_F(JailBytes, LsEscapesControlCharactersForTheTerminalAndJsonKeepsTheBytes) {
  auto cst = job_token("job-esc");
  const std::string title = "t\x1b]0;pwned\x07";
  const std::string clear = "c\x1b[2J\x9b" "1m";
  jail_sh("job-esc", cst, "mkdir e && cd e && : > \"$(printf 't\\033]0;pwned\\007')\" && "
                          ": > \"$(printf 'c\\033[2J\\233')1m\" && : > \"$(printf 'n\\nl')\" && mkdir sub");
  auto human = clawjail(fs_args("job-esc", cst, {"ls", "e"}));
  ASSERT_EQ(human.exit_code, 0) << human.err;
  for (unsigned char c : human.out)
    EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f) || c >= 0x80) << "control byte " << int(c) << " in " << human.out;
  EXPECT_EQ(human.out.find('\x9b'), std::string::npos) << "a raw byte 0x9b (CSI) was printed";
  EXPECT_NE(human.out.find("t\\x1b]0;pwned\\x07\n"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("c\\x1b[2J\\x9b1m\n"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("n\\x0al\n"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("sub/\n"), std::string::npos) << human.out;

  auto json = clawjail(fs_args("job-esc", cst, {"--json", "ls", "e"}));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Json listing = Json::parse(json.out);
  EXPECT_NE(entry_named(listing, title), nullptr) << json.out;
  EXPECT_NE(entry_named(listing, clear), nullptr) << json.out;
  EXPECT_NE(entry_named(listing, "n\nl"), nullptr) << json.out;
}

// 100k names of 200 bytes: far more than one answer may carry. Each listing is cut with
// `truncated`, and four at once leave the supervisor's peak memory nearly where it was.
TEST_F(JailBytes, HugeListingsAreTruncatedAndBoundTheSupervisorsMemory) {
  auto cst = job_token("job-big");
  jail_sh("job-big", cst,
          "mkdir big && cd big && p=$(printf '%0190d' 0) && seq -f \"$p%.0f\" 1 100000 | xargs touch");
  const int64_t before = peak_rss_kib();
  ASSERT_GT(before, 0);
  std::vector<Client> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(start_client(fs_args("job-big", cst, {"--json", "ls", "big"})));
  std::vector<int> codes;
  std::vector<std::string> outs, errs;
  for (auto& c : clients) {
    outs.push_back(read_all(c.out.get()));
    errs.push_back(read_all(c.err.get()));
    codes.push_back(wait_exit_code(c.pid));
  }
  const int64_t grown_mib = (peak_rss_kib() - before) / 1024;
  std::cerr << "supervisor peak RSS grew by " << grown_mib << " MiB for four listings of 100k names\n";
  // Unbounded, this was ~200 MiB per listing; bounded, a listing costs a few MiB (32 allows for
  // sanitizer builds).
  EXPECT_LT(grown_mib, 4 * 32) << "peak RSS before: " << before / 1024 << " MiB";
  EXPECT_TRUE(supervisor_alive());
  for (size_t i = 0; i < clients.size(); ++i) {
    EXPECT_EQ(codes[i], 0) << errs[i];
    EXPECT_NE(errs[i].find("listing truncated"), std::string::npos) << errs[i];
    Json listing = Json::parse(outs[i], nullptr, false);
    ASSERT_TRUE(listing.is_array()) << outs[i].substr(0, 200);
    EXPECT_GT(listing.size(), 1000u);
    EXPECT_LT(listing.size(), 100000u);
  }

  // The human form says it on stderr, after the names it has.
  auto human = clawjail(fs_args("job-big", cst, {"ls", "big"}));
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.err.find("listing truncated"), std::string::npos) << human.err;
}

}  // namespace
}  // namespace clawjail::test
