#include "supervisor/common/commands.h"

#include <iostream>
#include <map>
#include <sstream>

#include "policy/keys.h"


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

int run_app(int argc, char** argv) {
  CLI::App app{"clawjail: runs every tool call of an agent in a jail built from a signed policy, "
               "and signs a receipt for every permitted or blocked call",
               "clawjail"};
  app.set_version_flag("--version", CLAWJAIL_VERSION);
  app.require_subcommand(1);
  add_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) {
      std::cerr << "clawjail: " << e.what() << "\n";
      std::cerr << "Run 'clawjail --help' for the list of commands.\n";
      return 2;
    }
    return app.exit(e);
  } catch (const ExitRequest& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::cerr << "clawjail: internal error: " << e.what() << "\n";
    return kExitSupervisor;
  }
  return 0;
}

void die(std::string_view what, std::string_view why, int code) {
  std::cerr << "clawjail: " << what << ": " << why << "\n";
  throw ExitRequest{code};
}

void exit_with(int code) { throw ExitRequest{code}; }

std::vector<std::string> split_dids(std::string_view what, const std::string& list, std::string_view flag) {
  std::vector<std::string> dids;
  std::stringstream in(list);
  for (std::string did; std::getline(in, did, ',');) {
    if (did.empty()) continue;
    if (auto pk = policy::public_key_from_did(did); !pk) die(what, std::string(flag) + " " + did + ": " + pk.error().detail, 2);
    dids.push_back(did);
  }
  return dids;
}

}  // namespace clawjail::cli
