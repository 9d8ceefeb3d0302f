// clawjail serve [--config FILE]
#include "supervisor/common/commands.h"
#include "supervisor/common/config.h"
#include "supervisor/daemon/daemon.h"

namespace clawjail::cli {
namespace {

struct ServeFlags {
  std::string config;
  int64_t drain_grace_ms = 3000;
  size_t max_connections = ServeOptions{}.max_connections;
  size_t prebuilt_jails = ServeOptions{}.prebuilt_jails;
};

const CommandRegistrar kServe("serve", [](CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  auto* sub = app.add_subcommand("serve", "Run the supervisor in the foreground (systemd runs this; socket "
                                          "activation supported)");
  sub->add_option("--config", flags->config, "configuration file (default: $CLAWJAIL_CONFIG, else /etc/clawjail/config.json)");
  sub->add_option("--drain-grace-ms", flags->drain_grace_ms,
                  "on SIGTERM, how long running calls may go on before they are killed")
      ->check(CLI::Range(int64_t{0}, int64_t{600000}));
  sub->add_option("--max-connections", flags->max_connections,
                  "open connections served at once; past it a client is answered SUPERVISOR_BUSY")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  sub->add_option("--prebuilt-jails", flags->prebuilt_jails,
                  "jails built ahead for the next call of a recent shape (as root; default 4, 0: every jail is "
                  "built by its call). A jail built ahead runs nothing until a call takes it")
      ->check(CLI::Range(size_t{0}, size_t{64}));
  sub->callback([flags] {
    ServeOptions options;
    options.drain_grace = std::chrono::milliseconds(flags->drain_grace_ms);
    options.max_connections = flags->max_connections;
    options.prebuilt_jails = flags->prebuilt_jails;
    auto path = flags->config.empty() ? default_config_path() : std::filesystem::path(flags->config);
    exit_with(serve(path, options));
  });
});

}  // namespace
}  // namespace clawjail::cli
