// The client side of the socket protocol, shared by `run`, `fs`, `job stop` and `demo`.
#pragma once
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "supervisor/proto/protocol.h"

namespace CLI {
class App;
}

namespace clawjail::client {

// --socket, else the socket of the configuration (--config, $CLAWJAIL_CONFIG, the default file)
// when it can be read, else the default path.
std::filesystem::path resolve_socket(const std::string& socket_flag, const std::string& config_flag);

// A connected stream socket to the supervisor, or an empty one (errno says why; a path longer
// than sockaddr_un holds is ENAMETOOLONG).
UniqueFd connect_unix(const std::filesystem::path& socket);

// Sends the request with `fds` attached and waits for the final frame.
Result<proto::Response> call(const std::filesystem::path& socket, const proto::Request& request,
                             std::span<const int> fds);

// The token in a CST file (surrounding white space removed).
Result<std::string> read_cst_file(const std::filesystem::path& path);
// The WPC hash a CST pins (claim policy_hash_b64u), read without verification: only the
// supervisor verifies tokens.
std::optional<std::string> pinned_policy_hash(std::string_view token);

// What every call names, shared by `clawjail run` and `clawjail fs`: the job, its token, the WPC
// (default: the one the token pins), the workspace, and where the supervisor listens.
struct CallFlags {
  std::string job, cst_file, wpc, workspace, socket, config;
};
void add_call_flags(CLI::App& sub, CallFlags& flags, bool workspace_required);
// The `call` request the flags describe; exits like the CLI (125, 2) on a token it cannot use.
proto::Request call_request(std::string_view command, const CallFlags& flags, std::string tool);
// Sends it with this process's stdin, stdout and stderr; exits 125 when no supervisor answers.
proto::Response send_call(std::string_view command, const CallFlags& flags, const proto::Request& request);

// Prints what the client's user must know (blocked, failed) on stderr as `clawjail: …` and
// returns the exit code of docs/cli.md "Exit codes".
int report(std::string_view command, const proto::Response& response);

}  // namespace clawjail::client
