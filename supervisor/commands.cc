#include "supervisor/commands.h"

#include <iostream>
#include <map>

namespace clawjail::cli {
namespace {
std::map<std::string, AddCommand>& registry() {
  static std::map<std::string, AddCommand> commands;  // sorted: --help lists them in order
  return commands;
}
}  // namespace

CommandRegistrar::CommandRegistrar(std::string name, AddCommand add) {
  registry().emplace(std::move(name), std::move(add));
}

void add_all_commands(CLI::App& app) {
  for (auto& [name, add] : registry()) add(app);
}

void die(std::string_view what, std::string_view why, int code) {
  std::cerr << "clawjail: " << what << ": " << why << "\n";
  throw ExitRequest{code};
}

void exit_with(int code) { throw ExitRequest{code}; }

}  // namespace clawjail::cli
