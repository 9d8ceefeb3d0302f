// A terminal for a call that asks for one, which the supervisor allocates itself; without one a
// call has no controlling terminal (docs/jail.md "Process and privileges").
//
// The supervisor opens the pair on the host's devpts and keeps the master: it relays the master's
// output like stdout (hashed, counted, capped) and copies the client's stdin into it. The jail gets
// exactly one slave, bound read-only (a device stays writable on a read-only mount) at the same
// /dev/pts/N path; there is no ptmx inside, so the jail cannot open terminals of its own. The
// worker reopens that jail path as fds 0-2 (so that ttyname() and Landlock see the jail's path,
// not the host's devpts mount) and makes it its controlling terminal. TIOCSTI/TIOCLINUX stay
// refused by seccomp whatever the descriptor.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "sandbox/idmap.h"
#include "sandbox/mounts.h"
#include "sandbox/pty.h"

namespace clawjail::sandbox::detail {
namespace {

Error pty_error(const char* what) {
  return fail(Reason::JAIL_SETUP_FAILED, std::string("pty: ") + what + ": " + strerror(errno));
}

}  // namespace

// The jail's host uid must own the slave to reopen it by path, and nobody else may open it: the
// pair is made as that uid (devpts gives a new slave the creator's fsuid), which then opens the
// slave and makes it 0600 as its owner. No CAP_CHOWN or CAP_FOWNER is needed.
Result<Pty> open_pty(uid_t owner, gid_t group, unsigned short rows, unsigned short cols) {
  Pty pty;
  {
    CreatingAs jail(owner, group);
    if (!jail.ok()) return pty_error("creating the terminal as the jail's uid");
    pty.master.reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.master) return pty_error("posix_openpt");
    if (grantpt(pty.master.get()) != 0 || unlockpt(pty.master.get()) != 0) return pty_error("unlockpt");
    char name[PATH_MAX];
    if (ptsname_r(pty.master.get(), name, sizeof name) != 0) return pty_error("ptsname");
    pty.path = name;
    pty.slave.reset(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!pty.slave) return pty_error("opening the slave");
    struct stat st;
    if (fstat(pty.slave.get(), &st) != 0 || st.st_uid != owner) {
      errno = EPERM;
      return pty_error("the slave is not the jail's");
    }
    if (fchmod(pty.slave.get(), 0600) != 0) return pty_error("handing the slave to the jail's uid");
  }
  winsize size{};
  size.ws_row = rows;
  size.ws_col = cols;
  if (ioctl(pty.master.get(), TIOCSWINSZ, &size) != 0) return pty_error("TIOCSWINSZ");
  // Never block the monitor thread on a full terminal: the input relay waits for POLLOUT.
  if (fcntl(pty.master.get(), F_SETFL, fcntl(pty.master.get(), F_GETFL) | O_NONBLOCK) != 0)
    return pty_error("O_NONBLOCK");
  return pty;
}

Status plan_pty_mount(MountPlan& plan, const Pty& pty) {
  if (plan.binds.size() >= kMaxBinds) return fail(Reason::BIND_INVALID, "too many binds");
  struct stat st;
  if (fstat(pty.slave.get(), &st) != 0) return pty_error("fstat");
  BindPlan b;
  b.source = pty.path;
  b.target = pty.path;
  b.dev = st.st_dev;
  b.ino = st.st_ino;
  b.directory = false;
  b.exec = false;
  b.device = true;
  plan.binds.push_back(b);
  return ok_status();
}

StepResult take_terminal(const char* path) {
  int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return failed(Step::terminal);
  bool ok = dup2(fd, 0) == 0 && dup2(fd, 1) == 1 && dup2(fd, 2) == 2;
  close(fd);
  if (!ok || ioctl(0, TIOCSCTTY, 0) != 0) return failed(Step::terminal);
  return {};
}

}  // namespace clawjail::sandbox::detail
