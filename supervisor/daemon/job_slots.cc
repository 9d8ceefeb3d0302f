#include "supervisor/daemon/job_slots.h"

namespace clawjail {

std::optional<JobSlots::Slot> JobSlots::take(const std::string& job, size_t max) {
  std::lock_guard lock(m_);
  auto& n = held_[job];
  if (n >= max) {
    if (n == 0) held_.erase(job);
    return std::nullopt;
  }
  ++n;
  return std::optional<Slot>(std::in_place, this, job);
}

void JobSlots::release(const std::string& job) {
  std::lock_guard lock(m_);
  auto it = held_.find(job);
  if (it != held_.end() && --it->second == 0) held_.erase(it);
}

}  // namespace clawjail
