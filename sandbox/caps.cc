// Capabilities: the jail keeps none. Securebits are locked first (they need CAP_SETPCAP), then
// the bounding set and the ambient set are cleared, then the permitted/effective/inheritable
// sets are emptied with libcap, and no_new_privs makes setuid/file-capability binaries inert.
#include <linux/securebits.h>
#include <sys/prctl.h>

#include "sandbox/internal.h"

namespace clawjail::sandbox::detail {

// cap_init() allocates, so the empty set is made in the parent; cap_set_proc() on it is a
// plain capset(2) and safe in the child.
EmptyCaps::EmptyCaps() : caps_(cap_init()) {}
EmptyCaps::~EmptyCaps() { cap_free(caps_); }

namespace {
constexpr unsigned kLockedSecurebits =
    SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
    SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
}

StepResult drop_privileges(const EmptyCaps& caps) {
  if (cap_set_secbits(kLockedSecurebits) != 0) return failed(Step::securebits);
  for (cap_value_t c = 0; c < static_cast<cap_value_t>(cap_max_bits()); ++c)
    if (cap_drop_bound(c) != 0) return failed(Step::bounding_set);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return failed(Step::ambient);
  if (caps.get() == nullptr || cap_set_proc(caps.get()) != 0) return failed(Step::capabilities);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed(Step::no_new_privs);
  return {};
}

}  // namespace clawjail::sandbox::detail
