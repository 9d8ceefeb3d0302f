// CLAWJAIL_TEST_OPENAT2_ENOSYS=1 makes openat2 answer ENOSYS in the test process and in everything
// it starts (jails, and the supervisor the supervisor suite runs), as systemd's RestrictSUIDSGID=yes
// does to clawjail.service. Suites registered with it then run file tools, bind sources and
// workspaces through the component walk of sandbox/beneath.cc.
#pragma once

namespace clawjail::test {

// Whether the filter is in force in this process (installed before main when the variable is set).
bool openat2_refused();

}  // namespace clawjail::test
