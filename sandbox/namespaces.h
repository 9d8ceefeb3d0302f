// Creating the jail's namespaces: the clone and the inside of the new net and uts namespaces.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

uint64_t jail_namespace_flags();
// clone (+ `flags`, CLONE_PIDFD when `pidfd` is given): the child runs fn(arg) on a copy of the
// caller's memory and exits with what it returns; the caller gets the child's pid.
pid_t clone_copying_memory(uint64_t flags, int (*fn)(void*), void* arg, int* pidfd);
// The stack of a child that shares the supervisor's memory (clone_sharing_memory). Only pages
// the child touches cost anything; a guard page below catches an overflow.
class ChildStack {
 public:
  static Result<ChildStack> create(size_t size);
  ChildStack() = default;
  ChildStack(ChildStack&& o) noexcept;
  ChildStack& operator=(ChildStack&& o) noexcept;
  ~ChildStack();
  void* top() const { return base_ ? static_cast<char*>(base_) + size_ : nullptr; }
 private:
  void unmap();
  void* base_ = nullptr;
  size_t size_ = 0;
};
// clone with CLONE_VM (+ `flags`, CLONE_PIDFD when `pidfd` is given): the child runs fn(arg) on
// `stack` in the caller's address space, so no copy of the supervisor's memory is made, written
// or torn down. fn must not allocate or take locks (sandbox/steps.h's child-side rule) and must not
// return. The stack must outlive the child.
pid_t clone_sharing_memory(uint64_t flags, const ChildStack& stack, int (*fn)(void*), void* arg, int* pidfd);
bool clone_shares_memory();  // false in sanitizer builds: clone_sharing_memory copies there
StepResult set_hostname();
StepResult bring_up_loopback();

}  // namespace clawjail::sandbox::detail
