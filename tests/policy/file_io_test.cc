// replace_file_keeping_owner: what `clawjail cst issue --out` renews a token file with. The file is
// replaced, never rewritten in place; what stood at the path decides the new file's mode, and
// anything but a regular file there is refused with the target left as it was.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "policy/file_io.h"
#include "policy/json.h"
#include "test_util.h"

namespace clawjail::policy {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct stat stat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(ReplaceFile, NewFileIsPrivate) {
  testing::TempDir dir;
  auto path = dir.path() / "job.cst";
  ASSERT_TRUE(replace_file_keeping_owner(path, "a.b.c\n", std::nullopt, Reason::CONFIG_INVALID).ok());
  EXPECT_EQ(slurp(path), "a.b.c\n");
  EXPECT_EQ(stat_of(path).st_mode & 0777, 0600u);
  EXPECT_EQ(stat_of(path).st_uid, ::geteuid());
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(ReplaceFile, ExistingFileKeepsItsModeAndIsReplacedNotRewritten) {
  testing::TempDir dir;
  auto path = dir.path() / "job.cst";
  ASSERT_TRUE(replace_file_keeping_owner(path, "old\n", std::nullopt, Reason::CONFIG_INVALID).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  auto inode = stat_of(path).st_ino;
  // A reader holding the old file keeps reading the old token whole.
  std::ifstream reader(path);
  ASSERT_TRUE(replace_file_keeping_owner(path, "new\n", std::nullopt, Reason::CONFIG_INVALID).ok());
  EXPECT_EQ(slurp(path), "new\n");
  EXPECT_EQ(stat_of(path).st_mode & 0777, 0640u);
  EXPECT_NE(stat_of(path).st_ino, inode);
  std::string old;
  std::getline(reader, old);
  EXPECT_EQ(old, "old");
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(ReplaceFile, SymlinkIsRefusedAndItsTargetUntouched) {
  testing::TempDir dir;
  auto target = dir.path() / "elsewhere";
  std::ofstream(target) << "precious";
  fs::create_symlink(target, dir.path() / "job.cst");
  auto s = replace_file_keeping_owner(dir.path() / "job.cst", "x\n", std::nullopt, Reason::CONFIG_INVALID);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.reason(), Reason::CONFIG_INVALID);
  EXPECT_NE(s.error().detail.find("is a symbolic link"), std::string::npos) << s.error().detail;
  EXPECT_TRUE(S_ISLNK(stat_of(dir.path() / "job.cst").st_mode));
  EXPECT_EQ(slurp(target), "precious");
  EXPECT_EQ(entries(dir.path()), 2u);
}

TEST(ReplaceFile, DirectoryAndFifoAreRefused) {
  testing::TempDir dir;
  fs::create_directory(dir.path() / "d");
  auto s = replace_file_keeping_owner(dir.path() / "d", "x\n", std::nullopt, Reason::CONFIG_INVALID);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("is a directory"), std::string::npos) << s.error().detail;
  ASSERT_EQ(::mkfifo((dir.path() / "f").c_str(), 0600), 0);
  s = replace_file_keeping_owner(dir.path() / "f", "x\n", std::nullopt, Reason::CONFIG_INVALID);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("not a regular file"), std::string::npos) << s.error().detail;
  EXPECT_EQ(entries(dir.path()), 2u);
}

TEST(ReplaceFile, ExistingFileOfAnotherUserThanAskedIsRefused) {
  testing::TempDir dir;
  auto path = dir.path() / "job.cst";
  std::ofstream(path) << "old\n";
  FileOwner other{::geteuid() + 1, ::getegid()};
  auto s = replace_file_keeping_owner(path, "new\n", other, Reason::CONFIG_INVALID);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("belongs to uid"), std::string::npos) << s.error().detail;
  EXPECT_EQ(slurp(path), "old\n");
}

}  // namespace
}  // namespace clawjail::policy
