// Writes, with the real receipts library, a state directory for `bundle export --format claw`
// beyond one Claw bundle's limit:
//   make_long_job OUTDIR CALLS -> OUTDIR/state with job claw-long (CALLS calls: started and
//   finished each, then one blocked call), job claw-intr (a call left running by a store that goes
//   away, finished "interrupted" by the next), job claw-open (a call still running),
//   OUTDIR/supervisor.key, OUTDIR/config.json and
//   OUTDIR/trust.txt (the supervisor's did:key).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "receipts/receipts.h"
#include "tests/receipts/tools/drafts.h"

namespace fs = std::filesystem;
using namespace clawjail;
using namespace clawjail::receipts;
using policy::Json;
using policy::SecretKey;

namespace {

SecretKey key(char fill) { return testing::seeded_key(fill); }

Draft draft(const std::string& job, const std::string& phase, const std::string& call, const std::string& hash) {
  return testing::exec_draft(job, phase, call, hash);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_long_job OUTDIR CALLS\n";
    return 2;
  }
  fs::path out = argv[1], state = out / "state";
  int calls = std::stoi(argv[2]);
  auto supervisor = key('\x61'), wpc_signer = key('\x62');
  Json wpc = policy::sign_wpc({{"wpc_version", "v1"}, {"policy_id", "claw-long"}, {"issuer_did", wpc_signer.did()},
                               {"tools", {{"allow", {"exec"}}}}},
                              wpc_signer);
  std::string hash = *policy::wpc_hash(wpc);
  fs::create_directories(state / "policies");
  std::ofstream(state / "policies" / (hash + ".json")) << wpc.dump();
  StoreOptions options;
  options.journal = false;
  auto store = ReceiptStore::open(state, key('\x61'), options);
  if (!store) return 1;
  for (int i = 0; i < calls; ++i)
    for (const char* phase : {"started", "finished"})
      if (!(*store)->record(draft("claw-long", phase, "c" + std::to_string(i), hash))) return 1;
  if (!(*store)->record(draft("claw-long", "blocked", "c-blocked", hash))) return 1;
  for (const auto& [phase, call] : std::vector<std::pair<std::string, std::string>>{
           {"started", "c-ok"}, {"started", "c-int"}, {"finished", "c-ok"}})
    if (!(*store)->record(draft("claw-intr", phase, call, hash))) return 1;
  store->reset();
  store = ReceiptStore::open(state, key('\x61'), options);  // the restart: c-int is finished "interrupted"
  if (!store) return 1;
  if (!(*store)->record(draft("claw-open", "started", "c-running", hash))) return 1;  // still running
  if (!supervisor.save(out / "supervisor.key")) return 1;
  std::ofstream(out / "config.json") << Json{{"state_dir", state.string()},
                                             {"signing_key", (out / "supervisor.key").string()},
                                             {"socket", (out / "unused.sock").string()},
                                             {"wpc_signers", {wpc_signer.did()}}}
                                            .dump(2);
  std::ofstream(out / "trust.txt") << supervisor.did();
  return 0;
}
