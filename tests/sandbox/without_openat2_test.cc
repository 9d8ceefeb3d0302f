// CLAWJAIL_TEST_OPENAT2_ENOSYS=1 makes openat2 answer ENOSYS in this test process and in every
// jail it starts, as systemd's RestrictSUIDSGID=yes does to clawjail.service. The tests
// registered with it (sandbox.without_openat2, tests/sandbox/tests.cmake) then run the file
// tools and bind sources through the component walk of sandbox/beneath.cc, the hostile ones
// included.
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

namespace {

bool refuse_openat2() {
  if (std::getenv("CLAWJAIL_TEST_OPENAT2_ENOSYS") == nullptr) return false;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  bool ok = ctx != nullptr && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) == 0 &&
            seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) == 0 && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  if (!ok) {
    std::fprintf(stderr, "CLAWJAIL_TEST_OPENAT2_ENOSYS: cannot install the filter\n");
    std::abort();
  }
  return true;
}

// Before main: no thread exists yet, and every test of the run sees the filter.
const bool kOpenat2Refused = refuse_openat2();

TEST(WithoutOpenat2, TheFilterIsInForceWhenAskedFor) {
  if (!kOpenat2Refused) GTEST_SKIP() << "runs as sandbox.without_openat2 (CLAWJAIL_TEST_OPENAT2_ENOSYS=1)";
  open_how how{};
  how.flags = O_PATH;
  errno = 0;
  EXPECT_EQ(syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how), -1);
  EXPECT_EQ(errno, ENOSYS);
}

}  // namespace
