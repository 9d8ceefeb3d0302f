// A background thread that runs one task on a fixed period until it is destroyed: the ledger
// watcher, the file workers' reaper, the JWKS refresh and the revocation feed each own one.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace clawjail {

// Runs `tick` every `period` on its own thread; the destructor stops it and waits for a running
// tick to end, so whatever `tick` touches must outlive the Ticker (declare it last).
class Ticker {
 public:
  Ticker(std::chrono::milliseconds period, std::function<void()> tick);
  ~Ticker();
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

 private:
  void loop();
  std::chrono::milliseconds period_;
  std::function<void()> tick_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace clawjail
