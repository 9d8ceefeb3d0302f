// Each subcommand lives in its own program folder (supervisor/<program>/<command>.cc) and registers itself here, so that
// `clawjail --help` lists exactly what is built.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/proto/exit_codes.h"

namespace clawjail::cli {

// Adds the subcommand to `app`; the callback it sets runs the command and calls exit_with().
using AddCommand = std::function<void(CLI::App& app)>;

struct CommandRegistrar {
  CommandRegistrar(std::string name, AddCommand add);
};
void add_all_commands(CLI::App& app);
// Parses argv against every registered command and runs it; returns the process's exit code.
int run_app(int argc, char** argv);

// Thrown by a command to end the process with `code` after the message (if any) went to stderr
// as "clawjail: <what>: <why>".
struct ExitRequest {
  int code;
};
[[noreturn]] void die(std::string_view what, std::string_view why, int code = 1);
[[noreturn]] void exit_with(int code);

// A comma-separated list of did:keys given with `flag`; a name that is not one ends the command
// (usage, exit 2).
std::vector<std::string> split_dids(std::string_view what, const std::string& list, std::string_view flag = "--trust");

}  // namespace clawjail::cli
