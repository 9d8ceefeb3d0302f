// The filter of tests/common/openat2_enosys.h is really in force when sandbox.without_openat2 asks
// for it (tests/sandbox/tests.cmake), so that suite cannot pass by quietly using openat2.
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/common/openat2_enosys.h"

namespace {

TEST(WithoutOpenat2, TheFilterIsInForceWhenAskedFor) {
  if (!clawjail::test::openat2_refused()) GTEST_SKIP() << "runs as sandbox.without_openat2 (CLAWJAIL_TEST_OPENAT2_ENOSYS=1)";
  open_how how{};
  how.flags = O_PATH;
  errno = 0;
  EXPECT_EQ(syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how), -1);
  EXPECT_EQ(errno, ENOSYS);
}

}  // namespace
