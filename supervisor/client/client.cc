#include "supervisor/client/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "policy/encoding.h"
#include "policy/json.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "policy/text.h"
#include "base/unique_fd.h"
#include "supervisor/common/commands.h"
#include "supervisor/common/config.h"

namespace clawjail::client {

std::filesystem::path resolve_socket(const std::string& socket_flag, const std::string& config_flag) {
  if (!socket_flag.empty()) return socket_flag;
  auto path = config_flag.empty() ? default_config_path() : std::filesystem::path(config_flag);
  if (auto config = load_config(path)) return config->socket;
  if (!config_flag.empty()) cli::die("config", load_config(path).error().detail, kExitSupervisor);
  return Config{}.socket;
}

UniqueFd connect_unix(const std::filesystem::path& socket) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket.string().size() >= sizeof(addr.sun_path)) {
    errno = ENAMETOOLONG;
    return {};
  }
  std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) return {};
  return fd;
}

Result<proto::Response> call(const std::filesystem::path& socket, const proto::Request& request,
                             std::span<const int> fds) {
  UniqueFd fd = connect_unix(socket);
  if (!fd && errno == ENAMETOOLONG) return fail(Reason::CONFIG_INVALID, "socket path too long: " + socket.string());
  if (!fd)
    return fail(Reason::INTERNAL_ERROR, "cannot reach the supervisor at " + socket.string() + ": " + std::strerror(errno));
  // A refused peer is answered before its request is read, so the write may meet a closed
  // connection (EPIPE): the answer waiting to be read says why, so read it before giving up.
  std::string body;
  try {
    body = proto::request_to_json(request).dump();
  } catch (const policy::Json::type_error&) {
    return fail(Reason::REQUEST_MALFORMED, "the command line, environment and workspace must be UTF-8 text "
                                           "(only file tool paths may be any bytes)");
  }
  auto sent = proto::write_frame(fd.get(), body, fds);
  auto frame = proto::read_frame(fd.get(), std::nullopt);
  if (!frame && !sent) return sent.error();
  if (!frame) return fail(Reason::INTERNAL_ERROR, "no answer from the supervisor: " + frame.error().detail);
  auto json = policy::parse_strict_json(frame->body);
  if (!json) return fail(Reason::INTERNAL_ERROR, "unreadable answer from the supervisor: " + json.error().detail);
  return proto::parse_response(*json);
}

Result<std::string> read_cst_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return fail(Reason::CST_MISSING, "cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  auto first = token.find_first_not_of(" \t\r\n");
  auto last = token.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) return fail(Reason::CST_MISSING, path.string() + " is empty");
  return token.substr(first, last - first + 1);
}

std::optional<std::string> pinned_policy_hash(std::string_view token) {
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 == std::string_view::npos ? 0 : dot1 + 1);
  if (dot1 == std::string_view::npos || dot2 == std::string_view::npos) return std::nullopt;
  auto claims = policy::b64u_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!claims) return std::nullopt;
  auto json = policy::Json::parse(*claims, nullptr, false);
  if (!json.is_object() || !json.contains("policy_hash_b64u") || !json["policy_hash_b64u"].is_string())
    return std::nullopt;
  return json["policy_hash_b64u"].get<std::string>();
}

void add_call_flags(CLI::App& sub, CallFlags& f, bool workspace_required) {
  sub.add_option("--job", f.job, "job id")->required();
  sub.add_option("--cst-file", f.cst_file, "file holding the job's CST")->required();
  sub.add_option("--wpc", f.wpc, "policy_hash_b64u of the WPC (default: the one the CST pins)");
  sub.add_option("--workspace", f.workspace, "host directory mounted at /workspace")->required(workspace_required);
  sub.add_option("--socket", f.socket, "supervisor socket (default: from the configuration)");
  sub.add_option("--config", f.config, "configuration file, for the socket path");
}

proto::Request call_request(std::string_view command, const CallFlags& f, std::string tool) {
  auto token = read_cst_file(f.cst_file);
  if (!token) cli::die(command, token.error().detail, kExitSupervisor);
  proto::Request r;
  r.type = RequestType::call;
  r.job_id = f.job;
  r.cst = *token;
  r.wpc_hash_b64u = f.wpc.empty() ? pinned_policy_hash(*token) : f.wpc;
  if (!r.wpc_hash_b64u) cli::die(command, "no --wpc given and the CST pins no policy_hash_b64u", 2);
  r.tool = std::move(tool);
  if (!f.workspace.empty()) r.workspace = std::filesystem::absolute(f.workspace).lexically_normal().string();
  return r;
}

proto::Response send_call(std::string_view command, const CallFlags& f, const proto::Request& request) {
  int fds[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  auto response = call(resolve_socket(f.socket, f.config), request, fds);
  if (!response) cli::die(command, response.error().detail, kExitSupervisor);
  return std::move(response.value());
}

int report(std::string_view command, const proto::Response& r) {
  auto code = std::string(reason_name(r.reason));
  const std::string detail = policy::printable(r.reason_detail);  // it quotes paths and names: no raw escapes
  if (r.decision == Verdict::blocked && r.exit_code == kExitBlocked)
    std::cerr << "clawjail: blocked: " << code << ": " << detail << "\n";
  else if (r.status == CallStatus::failed || r.exit_code == kExitSupervisor)
    std::cerr << "clawjail: " << command << ": " << code << ": " << detail << "\n";
  else if (r.status == CallStatus::timeout)
    std::cerr << "clawjail: " << command << ": timed out" << (detail.empty() ? "" : ": " + detail) << "\n";
  else if (r.status == CallStatus::killed)
    std::cerr << "clawjail: " << command << ": killed: " << code << ": " << detail << "\n";
  else if (r.status == CallStatus::limit)
    std::cerr << "clawjail: " << command << ": stopped at a limit of the WPC\n";
  else if (r.reason != Reason::OK)
    std::cerr << "clawjail: " << command << ": " << code << ": " << detail << "\n";
  return r.exit_code;
}

}  // namespace clawjail::client
