// How many calls of one job run at once. Each call's own limits bound what it can take, but not
// how many calls a job starts: without a cap, an agent that starts background calls in a loop
// holds the host's memory and processes many times over (docs/operations.md "Limits").
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace clawjail {

class JobSlots {
 public:
  // Held by one admitted call for its whole life; the slot is free again when it is dropped.
  class Slot {
   public:
    Slot(JobSlots* owner, std::string job) : owner_(owner), job_(std::move(job)) {}
    Slot(Slot&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), job_(std::move(o.job_)) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_) owner_->release(job_);
    }

   private:
    JobSlots* owner_;
    std::string job_;
  };

  // A slot, unless `max` calls of the job already hold one.
  std::optional<Slot> take(const std::string& job, size_t max);

 private:
  void release(const std::string& job);
  std::mutex m_;
  std::map<std::string, size_t, std::less<>> held_;
};

}  // namespace clawjail
