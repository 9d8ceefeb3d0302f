// clawjail model-call --job J --cst-file F [--wpc HASH] --provider P --model M
// Admits one model call and prints the binding clawproxy needs (docs/claw-bundles.md).
#include <iostream>

#include "policy/decision.h"
#include "supervisor/client/client.h"
#include "supervisor/common/commands.h"

namespace clawjail::cli {
namespace {

struct ModelFlags {
  client::CallFlags call;
  std::string provider, model;
};

void run(const ModelFlags& f) {
  auto r = client::call_request("model-call", f.call, policy::kModelCallTool);
  r.model = proto::ModelArgs{f.provider, f.model};
  auto response = client::send_call("model-call", f.call, r);
  int code = client::report("model-call", response);
  if (code == 0 && response.value) std::cout << response.value->dump(2) << "\n";
  exit_with(code);
}

const CommandRegistrar kModelCall("model-call", [](CLI::App& app) {
  auto f = std::make_shared<ModelFlags>();
  auto* sub = app.add_subcommand(
      "model-call",
      "Admit a model call of a job before making it through clawproxy: the CST must grant it (tool scope "
      "model_call, or clawjail:call without tool: entries) and the WPC's models.providers must list the provider. "
      "The call gets a started and a finished receipt (a blocked one when refused). Prints, as JSON, the binding "
      "for clawproxy's gateway receipt: run_id, event_hash_b64u, nonce, policy_hash, token_scope_hash_b64u and "
      "the same as headers (X-Run-Id, X-Event-Hash, X-Idempotency-Key, X-Policy-Hash). Exit: 0 admitted, 126 "
      "blocked, 125 supervisor unreachable or failed");
  auto& c = f->call;
  sub->add_option("--job", c.job, "job id")->required();
  sub->add_option("--cst-file", c.cst_file, "file holding the job's CST")->required();
  sub->add_option("--wpc", c.wpc, "policy_hash_b64u of the WPC (default: the one the CST pins)");
  sub->add_option("--provider", f->provider, "the model provider, as the WPC's models.providers names it")->required();
  sub->add_option("--model", f->model, "the model")->required();
  sub->add_option("--socket", c.socket, "supervisor socket (default: from the configuration)");
  sub->add_option("--config", c.config, "configuration file, for the socket path");
  sub->callback([f] { run(*f); });
});

}  // namespace
}  // namespace clawjail::cli
