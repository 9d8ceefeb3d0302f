// clawjail job stop J
#include <iostream>

#include "policy/job_id.h"
#include "policy/json.h"
#include "policy/ledger.h"
#include "supervisor/client/client.h"
#include "supervisor/common/commands.h"
#include "supervisor/common/config.h"

namespace clawjail::cli {
namespace {

struct JobFlags {
  std::string job, socket, config, cst_file;
  bool json = false;
};

// Without a reachable supervisor the ledger is written directly: the job stays stopped for the
// next start, and no call of it can be admitted meanwhile.
int stop_offline(const JobFlags& f, const Error& why) {
  auto config = load_config(f.config.empty() ? default_config_path() : std::filesystem::path(f.config));
  if (!config) die("job stop", why.detail + "; and no configuration to write the ledger: " + config.error().detail, kExitSupervisor);
  policy::TokenLedger ledger(config->state_dir);
  if (auto s = ledger.revoke_job(f.job); !s) die("job stop", s.error().detail, kExitSupervisor);
  std::cerr << "clawjail: job stop: supervisor not reachable (" << why.detail << "); job " << f.job
            << " recorded as stopped in " << config->state_dir.string() << "\n";
  if (f.json) std::cout << policy::Json{{"job_id", f.job}, {"stopped", true}, {"killed_calls", 0}}.dump() << "\n";
  return 0;
}

void stop(const JobFlags& f) {
  if (auto id = policy::check_job_id(f.job); !id) die("job stop", "not a job id: " + f.job + ": " + id.error().detail, 2);
  proto::Request r;
  r.type = RequestType::stop_job;
  r.job_id = f.job;
  if (!f.cst_file.empty()) {
    auto token = client::read_cst_file(f.cst_file);
    if (!token) die("job stop", token.error().detail, kExitSupervisor);
    r.cst = *token;
  }
  auto response = client::call(client::resolve_socket(f.socket, f.config), r, {});
  if (!response) exit_with(stop_offline(f, response.error()));
  if (response->type != ResponseType::stopped) exit_with(client::report("job stop", *response));
  if (f.json)
    std::cout << policy::Json{{"job_id", f.job}, {"stopped", true}, {"killed_calls", response->killed_calls}}.dump() << "\n";
  else
    std::cout << "job " << f.job << " stopped; " << response->killed_calls << " running call(s) killed\n";
  exit_with(0);
}

const CommandRegistrar kJob("job", [](CLI::App& app) {
  auto f = std::make_shared<JobFlags>();
  auto* job = app.add_subcommand("job", "Jobs on this supervisor");
  job->require_subcommand(1);
  auto* sub = job->add_subcommand("stop", "Revoke the job's CSTs and kill its running calls; later calls of the "
                                          "job are blocked (JOB_STOPPED)");
  sub->add_option("job", f->job, "job id")->required();
  sub->add_option("--cst-file", f->cst_file, "a token of the job (needed unless you are root)");
  sub->add_option("--socket", f->socket, "supervisor socket (default: from the configuration)");
  sub->add_option("--config", f->config, "configuration file");
  sub->add_flag("--json", f->json, "machine-readable result");
  sub->callback([f] { stop(*f); });
});

}  // namespace
}  // namespace clawjail::cli
