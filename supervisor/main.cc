#include <iostream>

#include "supervisor/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"clawjail: runs every tool call of an agent in a jail built from a signed policy, "
               "and signs a receipt for every permitted or blocked call",
               "clawjail"};
  app.set_version_flag("--version", CLAWJAIL_VERSION);
  app.require_subcommand(1);
  clawjail::cli::add_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) {
      std::cerr << "clawjail: " << e.what() << "\n";
      std::cerr << "Run 'clawjail --help' for the list of commands.\n";
      return 2;
    }
    return app.exit(e);
  } catch (const clawjail::cli::ExitRequest& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::cerr << "clawjail: internal error: " << e.what() << "\n";
    return 125;
  }
  return 0;
}
