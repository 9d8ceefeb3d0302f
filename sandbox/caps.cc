// Capabilities: the jail keeps none. Securebits are locked first (they need CAP_SETPCAP), then
// the bounding set and the ambient set are cleared, then the permitted/effective/inheritable
// sets are emptied, and no_new_privs makes setuid/file-capability binaries inert.
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/caps.h"

namespace clawjail::sandbox::detail {

namespace {
constexpr unsigned kLockedSecurebits =
    SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
    SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
}

StepResult drop_privileges() {
  if (cap_set_secbits(kLockedSecurebits) != 0) return failed(Step::securebits);
  for (cap_value_t c = 0; c < static_cast<cap_value_t>(cap_max_bits()); ++c)
    if (cap_drop_bound(c) != 0) return failed(Step::bounding_set);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return failed(Step::ambient);
  // capset(2) itself, not libcap's cap_set_proc: that one locks the cap_t, and the init runs in
  // the supervisor's memory, so an init killed inside it (a timeout during set-up) left the lock
  // held and the supervisor spinning in cap_free for ever.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, none) != 0) return failed(Step::capabilities);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed(Step::no_new_privs);
  return {};
}

}  // namespace clawjail::sandbox::detail
