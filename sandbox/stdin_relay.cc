// The client's stdin reaches the jail only through the supervisor: the jail gets no descriptor
// of the caller's (docs/operations.md, "Terminals: what a jail gets of its caller"). Handed over as it is, a terminal would let the jail write past the
// output relay (uncounted in the receipt) and change the caller's terminal: its modes, its size,
// its flow control. So the monitor reads the client's stdin and writes it into the call's own
// terminal or into a pipe that is the jail's stdin.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/stdin_relay.h"

namespace clawjail::sandbox::detail {

bool is_dev_null(int fd) {
  struct stat st{};
  return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

StdinRelay StdinRelay::to_terminal(int client_in, int master) {
  StdinRelay r;
  r.in_ = client_in;
  r.out_ = master;
  if (r.in_ < 0) r.end_of_input();  // no input: the terminal's end-of-file right away
  return r;
}

// The pipe's write end is the relay's: never blocking the monitor thread (it waits for POLLOUT),
// and closed at the end of the input so that the jail reads end-of-file.
StdinRelay StdinRelay::to_pipe(int client_in, UniqueFd pipe_w) {
  StdinRelay r;
  r.pipe_ = std::move(pipe_w);
  r.in_ = r.pipe_ ? client_in : -1;
  r.out_ = r.pipe_.get();
  if (r.pipe_ && fcntl(r.out_, F_SETFL, fcntl(r.out_, F_GETFL) | O_NONBLOCK) != 0) r.stop();
  if (r.in_ < 0) r.end_of_input();
  return r;
}

pollfd StdinRelay::want() const {
  if (!pending_.empty()) return {out_, POLLOUT, 0};
  return {in_, POLLIN, 0};
}

void StdinRelay::ready(short revents) {
  if (!pending_.empty()) {
    ssize_t n = write(out_, pending_.data(), pending_.size());
    if (n > 0) pending_.erase(0, static_cast<size_t>(n));
    else if (n < 0 && errno != EINTR && errno != EAGAIN) stop();  // the jail is gone
    return;
  }
  if (in_ < 0) return;
  char buf[4096];
  ssize_t n = revents & (POLLIN | POLLHUP | POLLERR) ? read(in_, buf, sizeof buf) : 0;
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n > 0) {
    pending_.assign(buf, static_cast<size_t>(n));
    line_open_ = buf[n - 1] != '\n' && buf[n - 1] != '\r';
    return;
  }
  end_of_input();
}

void StdinRelay::stop() {
  in_ = -1;
  pending_.clear();
  pipe_.reset();
  out_ = -1;
}

// A pipe ends by closing it. A terminal has no such end: its EOF character at the start of a line
// makes the reader's read() return 0, as a closed pipe would; in the middle of a line the first
// one only ends the line.
void StdinRelay::end_of_input() {
  in_ = -1;
  if (pipe_ || out_ < 0) return stop();
  termios t{};
  char eof = tcgetattr(out_, &t) == 0 && t.c_cc[VEOF] ? static_cast<char>(t.c_cc[VEOF]) : '\x04';
  pending_.assign(line_open_ ? 2 : 1, eof);
}

}  // namespace clawjail::sandbox::detail
