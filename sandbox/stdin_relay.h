// The caller's stdin, relayed into the jail.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

// Parent: the client's stdin copied into the jail, which never holds the client's descriptor
// itself (it may be the caller's terminal). Into the call's own terminal (with a pty: the
// terminal's end-of-file when the input ends, or at once when the call has none), or into a pipe
// whose read end is the jail's stdin (closed when the input ends).
class StdinRelay {
 public:
  StdinRelay() = default;
  static StdinRelay to_terminal(int client_in, int master);
  static StdinRelay to_pipe(int client_in, UniqueFd pipe_w);
  pollfd want() const;  // what to poll for next ({-1} when done)
  void ready(short revents);
 private:
  void end_of_input();
  void stop();
  int in_ = -1, out_ = -1;
  UniqueFd pipe_;  // to_pipe: owns out_
  std::string pending_;
  bool line_open_ = false;
};
// The client's stdin is /dev/null: the jail gets one of its own and nothing needs relaying.
bool is_dev_null(int fd);

}  // namespace clawjail::sandbox::detail
