// The jail's namespaces: one clone into new user, mount, pid, ipc, uts, cgroup and network
// namespaces, with a pidfd so that every later signal and wait names exactly this child.
#include <net/if.h>
#include <sanitizer/asan_interface.h>
#include <sched.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "sandbox/namespaces.h"

namespace clawjail::sandbox::detail {
namespace {
constexpr char kHostname[] = "clawjail";
}  // namespace

uint64_t jail_namespace_flags() {
  return CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
         CLONE_NEWCGROUP | CLONE_NEWNET;
}

pid_t clone_copying_memory(uint64_t flags, int (*fn)(void*), void* arg, int* pidfd) {
  // The clone system call, not clone3: the jail's init forks its worker under its own seccomp
  // filter, which answers clone3 with ENOSYS. With CLONE_PIDFD the descriptor is stored through
  // the parent_tid argument.
  const unsigned long f = flags | SIGCHLD | (pidfd ? CLONE_PIDFD : 0);
  pid_t pid = static_cast<pid_t>(syscall(SYS_clone, f, nullptr, pidfd, nullptr, nullptr));
  if (pid == 0) _exit(fn(arg));
  return pid;
}

Result<ChildStack> ChildStack::create(size_t size) {
  const size_t guard = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* base = mmap(nullptr, size + guard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) return fail(Reason::JAIL_SETUP_FAILED, std::string("child stack: ") + strerror(errno));
  if (mprotect(base, guard, PROT_NONE) != 0) {
    munmap(base, size + guard);
    return fail(Reason::JAIL_SETUP_FAILED, std::string("child stack guard: ") + strerror(errno));
  }
  // Under ASan a child's frames poison this memory's shadow and no thread exit clears it: a new
  // mapping at the same address would inherit the stale poison (false reports in the child).
  ASAN_UNPOISON_MEMORY_REGION(base, size + guard);
  ChildStack s;
  s.base_ = base;
  s.size_ = size + guard;
  return s;
}

ChildStack::ChildStack(ChildStack&& o) noexcept : base_(o.base_), size_(o.size_) { o.base_ = nullptr; }

ChildStack& ChildStack::operator=(ChildStack&& o) noexcept {
  if (this != &o) {
    unmap();
    base_ = o.base_;
    size_ = o.size_;
    o.base_ = nullptr;
  }
  return *this;
}

ChildStack::~ChildStack() { unmap(); }

void ChildStack::unmap() {
  if (!base_) return;
  ASAN_UNPOISON_MEMORY_REGION(base_, size_);  // the address range may become a heap or a stack
  munmap(base_, size_);
  base_ = nullptr;
}

bool clone_shares_memory() {
#if defined(__SANITIZE_ADDRESS__)
  return false;
#else
  return true;
#endif
}

pid_t clone_sharing_memory(uint64_t flags, const ChildStack& stack, int (*fn)(void*), void* arg, int* pidfd) {
#if defined(__SANITIZE_ADDRESS__)
  // ASan's runtime keeps locks and per-thread state that a child sharing the memory would take
  // and never give back (its thread registry deadlocked the test suite): a sanitizer build
  // gives the child a copy instead. The plain build runs the shared path in every test.
  (void)stack;
  return clone_copying_memory(flags, fn, arg, pidfd);
#else
  // glibc's clone(), not clone3: it switches to the new stack and calls fn there. With
  // CLONE_PIDFD the descriptor is stored through the parent_tid argument.
  int f = static_cast<int>(flags | CLONE_VM | SIGCHLD | (pidfd ? CLONE_PIDFD : 0));
  return clone(fn, stack.top(), f, arg, pidfd);
#endif
}

StepResult set_hostname() {
  if (sethostname(kHostname, sizeof kHostname - 1) != 0) return failed(Step::hostname);
  return {};
}

// A new network namespace has only `lo`, and it is down: bring it up so that local servers in
// the jail work. There is no other interface, so nothing routes out of the jail.
StepResult bring_up_loopback() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed(Step::loopback);
  ifreq req{};
  memcpy(req.ifr_name, "lo", 3);
  int rc = ioctl(fd, SIOCGIFFLAGS, &req);
  if (rc == 0) {
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    rc = ioctl(fd, SIOCSIFFLAGS, &req);
  }
  StepResult r = rc == 0 ? StepResult{} : failed(Step::loopback);
  close(fd);
  return r;
}

}  // namespace clawjail::sandbox::detail
