// The socket protocol between `clawjail run|fs|job` and `clawjail serve` (docs/protocol.md).
// One request frame (with the client's stdin/stdout/stderr attached by SCM_RIGHTS), one final
// response frame. A frame is a 4-byte big-endian length followed by that many bytes of JSON.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy/json.h"
#include "base/fs_op_kind.h"
#include "base/named_enum.h"
#include "base/reason.h"
#include "base/run_status.h"
#include "base/unique_fd.h"
#include "base/verdict.h"
#include "supervisor/proto/exit_codes.h"

namespace clawjail {

// The protocol's typed words; their strings appear only in the JSON of a frame.
enum class RequestType { call, stop_job };
template <>
struct EnumNames<RequestType> {
  static constexpr std::array<std::string_view, 2> names{"call", "stop_job"};
};
enum class ResponseType { result, stopped };
template <>
struct EnumNames<ResponseType> {
  static constexpr std::array<std::string_view, 2> names{"result", "stopped"};
};
// A response's status: how the command ended (RunStatus), or that it was refused (blocked) or
// that the supervisor failed it (failed).
enum class CallStatus { success, error, timeout, killed, limit, blocked, failed };
template <>
struct EnumNames<CallStatus> {
  static constexpr std::array<std::string_view, 7> names{"success", "error",   "timeout", "killed",
                                                         "limit",   "blocked", "failed"};
};
constexpr CallStatus call_status_of(RunStatus s) { return static_cast<CallStatus>(s); }
static_assert(EnumNames<CallStatus>::names[static_cast<size_t>(RunStatus::limit)] == "limit",
              "CallStatus starts with RunStatus's values, in its order");

}  // namespace clawjail

namespace clawjail::proto {

using policy::Json;

inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kMaxFrameBytes = 1 << 20;  // 1 MiB, requests and responses alike
inline constexpr size_t kMaxFds = 3;               // stdin, stdout, stderr
inline constexpr auto kRequestDeadline = std::chrono::seconds(10);
// A file tool's data in the frames of a call without descriptors (docs/protocol.md, "Inline file
// tools"): at most this many bytes a call, so that its base64 and the rest of a frame stay well
// under kMaxFrameBytes; more is sent in ranges.
inline constexpr int64_t kMaxInlineBytes = 512 * 1024;

// ---- framing (frame.cc) ----
struct Frame {
  std::string body;
  std::vector<UniqueFd> fds;  // received with the frame, O_CLOEXEC
};
using Deadline = std::optional<std::chrono::steady_clock::time_point>;
// REQUEST_TOO_LARGE for a length above max_bytes, REQUEST_TIMEOUT past the deadline,
// REQUEST_MALFORMED for a short read, a truncated descriptor list or more than kMaxFds.
Result<Frame> read_frame(int fd, Deadline deadline, size_t max_bytes = kMaxFrameBytes);
Status write_frame(int fd, std::string_view body, std::span<const int> fds = {});

// ---- messages (protocol.cc) ----
struct PtySize {
  int rows, cols;
};
struct ExecArgs {
  std::vector<std::string> argv;      // either argv …
  std::optional<std::string> command;  // … or a shell command (run by /bin/sh -c)
  std::string workdir = "/workspace";
  std::map<std::string, std::string> env;
  std::optional<int64_t> timeout_ms;  // can shorten the WPC's timeout, never lengthen it
  bool pty = false, elevated = false, background = false;
  std::optional<PtySize> pty_size;  // with pty: the client's own terminal size (else 24x80)
};
struct FsArgs {
  FsOpKind op = FsOpKind::stat;
  std::vector<std::string> paths;  // bytes: sent as paths_b64 when one is not UTF-8
  bool exclusive = false, truncate = true, recursive = false;
  int64_t offset = 0;                 // read, write: where the data starts in the file
  std::optional<int64_t> length{};    // read: at most this many bytes
  std::optional<std::string> data{};  // write without descriptors: the bytes (sent as data_b64)
};
// A model call (docs/claw-bundles.md, "Model calls in the same proof"): admitted and recorded by the supervisor,
// made by the client through clawproxy with the binding the answer carries.
struct ModelArgs {
  std::string provider;  // must be in the WPC's models.providers
  std::string model;
};
struct Request {
  RequestType type = RequestType::call;
  std::string job_id;
  std::optional<std::string> cst;  // stop_job: the job's token, unless the caller is root
  std::optional<std::string> wpc_hash_b64u;
  std::string tool;                      // exec, or the fs op's name
  std::optional<std::string> workspace;  // host directory
  std::optional<ExecArgs> exec;
  std::optional<FsArgs> fs;
  std::optional<ModelArgs> model;  // tool "model_call"
};
// What a refused request still tells us (for the blocked receipt).
struct ParseFailure {
  Error error;
  std::optional<std::string> job_id;
};
// Strict: unknown fields, wrong types and missing fields are refused with the field's name.
std::variant<Request, ParseFailure> parse_request(const Json& json);
Json request_to_json(const Request& request);

struct Response {
  ResponseType type = ResponseType::result;
  std::string call_id;
  Verdict decision = Verdict::blocked;
  Reason reason = Reason::INTERNAL_ERROR;
  std::string reason_detail;
  CallStatus status = CallStatus::blocked;
  int exit_code = kExitSupervisor;  // what `clawjail run` exits with (docs/cli.md "Exit codes")
  int signal = 0;
  std::optional<Json> value;       // fs ops: the result
  bool truncated = false;          // ls: the directory has more entries than `value` holds
  std::vector<std::string> receipt_ids;
  int64_t killed_calls = 0;        // stop_job
};
Json response_to_json(const Response& response);
// The frame body of a response; never throws for its content: outside bytes in `reason` are
// written as \xNN, and an answer that would exceed kMaxFrameBytes becomes an INTERNAL_ERROR.
std::string response_body(const Response& response);
Result<Response> parse_response(const Json& json);

}  // namespace clawjail::proto
