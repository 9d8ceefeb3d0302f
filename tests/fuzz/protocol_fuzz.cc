// Outside bytes on the supervisor's socket: framing (over a real socketpair) and request decoding.
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/strict_json.h"
#include "base/unique_fd.h"
#include "supervisor/proto/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clawjail;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  UniqueFd reader(sv[0]), writer(sv[1]);
  // Frames larger than the socket buffer would block the writer; the reader's bound is what
  // matters, so feed at most what fits and then close (a truncated frame is a case too).
  size_t n = size < 100000 ? size : 100000;
  if (::send(writer.get(), data, n, MSG_DONTWAIT) < 0) return 0;
  writer.reset();
  auto frame = proto::read_frame(reader.get(), std::chrono::steady_clock::now(), 64 * 1024);
  if (!frame) return 0;
  auto json = policy::parse_strict_json(frame->body);
  if (!json) return 0;
  auto parsed = proto::parse_request(*json);
  // A request's fs paths may be any bytes (paths_b64): serialising it again must not throw.
  if (auto* request = std::get_if<proto::Request>(&parsed)) (void)proto::request_to_json(*request).dump();
  // Whatever the client sent that an answer quotes, the answer is a frame of valid JSON.
  if (auto response = proto::parse_response(*json)) {
    if (!policy::parse_strict_json(proto::response_body(*response), {.max_bytes = proto::kMaxFrameBytes}))
      std::abort();
  }
  return 0;
}
