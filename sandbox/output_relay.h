// Private to sandbox/: a jail's output relayed to its caller (hashed, counted, cut at the cap,
// never blocking on a stalled reader), and the report records read back. Shared by the jail's
// monitor (monitor.cc) and the file worker (fs_worker.cc).
#pragma once
#include <sodium.h>

#include <chrono>
#include <functional>
#include <string>

#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

// stdout or stderr of the jail: hashed and counted as relayed, cut at the shared output cap.
struct Stream {
  int in = -1;
  int out = -1;
  crypto_hash_sha256_state hash;
  int64_t bytes = 0;
  bool out_failed = false;
  Stream() { crypto_hash_sha256_init(&hash); }
  std::string digest();
};

// The output cap, shared by stdout and stderr.
struct Cap {
  int64_t left = 0;
  bool truncated = false;
};

Msg read_msg(int fd, bool& eof);
// One read of s.in relayed to s.out; s.in becomes -1 at its end.
void relay(Stream& s, Cap& cap, std::chrono::steady_clock::time_point deadline, const std::function<void()>& on_client_gone);

}  // namespace clawjail::sandbox::detail
