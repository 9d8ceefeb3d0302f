// The user namespaces behind idmapped workspaces: one per (workspace owner, host uid) pair, kept
// for the next jails of that pair. Jails built ahead take turns on a few host uids, so more than
// the latest pair must be kept, or every jail pays a helper process again. The pairs of this
// test are the most recently used ones, whatever other tests of this process made before.
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/idmap.h"
#include "tests/sandbox/jail_fixture.h"

namespace clawjail::sandbox::testing {
namespace {

ino_t ns_inode(const std::shared_ptr<const UniqueFd>& ns) {
  struct stat st {};
  return ns && fstat(ns->get(), &st) == 0 ? st.st_ino : 0;
}

TEST(Idmap, TheNamespacesOfHostUidsTakingTurnsAreAllKept) {
  if (getuid() != 0) GTEST_SKIP() << "idmapped workspaces are made as root";
  const uid_t owner = 4242, first = host_support().running_as_root ? 300000 : 0;
  auto a = detail::shared_idmap_userns(owner, owner, first, first);
  auto b = detail::shared_idmap_userns(owner, owner, first + 1, first + 1);
  auto c = detail::shared_idmap_userns(owner, owner, first + 2, first + 2);
  ASSERT_NE(ns_inode(a), 0u);
  ASSERT_NE(ns_inode(b), 0u);
  EXPECT_NE(ns_inode(a), ns_inode(b)) << "two pairs share one mapping";
  EXPECT_NE(ns_inode(b), ns_inode(c));
  EXPECT_EQ(ns_inode(detail::shared_idmap_userns(owner, owner, first, first)), ns_inode(a))
      << "the first pair's namespace was made again";
  EXPECT_EQ(ns_inode(detail::shared_idmap_userns(owner, owner, first + 1, first + 1)), ns_inode(b));
}

}  // namespace
}  // namespace clawjail::sandbox::testing
