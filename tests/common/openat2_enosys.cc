#include "tests/common/openat2_enosys.h"

#include <errno.h>
#include <seccomp.h>

#include <cstdio>
#include <cstdlib>

namespace clawjail::test {
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

}  // namespace

bool openat2_refused() { return kOpenat2Refused; }

}  // namespace clawjail::test
