// `clawjail serve`: the long-running supervisor. Owns the socket, the threads of the
// connections, the receipt store, the ledger watcher, and the reaction to SIGTERM and SIGHUP.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>

#include "policy/wpc_store.h"
#include "receipts/receipts.h"
#include "sandbox/jail.h"
#include "supervisor/common/config.h"
#include "supervisor/daemon/cancel.h"
#include "supervisor/daemon/fs_workers.h"
#include "supervisor/daemon/job_slots.h"
#include "supervisor/fleet/fleet.h"

namespace clawjail {

// What a call reads from the configuration; replaced as a whole on SIGHUP.
struct Snapshot {
  std::shared_ptr<const Config> config;
  std::shared_ptr<const policy::PolicyStore> store;
};

// Everything a connection's thread shares with the others.
class DaemonContext {
 public:
  DaemonContext(Config config, std::unique_ptr<receipts::ReceiptStore> receipts, size_t prebuilt_jails = 0);
  Snapshot snapshot() const;
  void replace(Config config);  // SIGHUP; also drops the jails built for the old configuration
  Ledger& ledger() { return ledger_; }
  RunningCalls& calls() { return calls_; }
  receipts::ReceiptStore& receipts() { return *receipts_; }
  sandbox::JailPool& jails() { return jails_; }
  // Set while the server runs (it owns the Fleet); calls read it for issuer keys and the feed.
  fleet::Fleet* fleet() { return fleet_; }
  void set_fleet(fleet::Fleet* f) { fleet_ = f; }
  FsWorkers& fs_workers() { return fs_workers_; }
  JobSlots& job_slots() { return job_slots_; }
  bool draining() const { return draining_; }
  void start_draining() {
    draining_ = true;
    jails_.clear();
    fs_workers_.clear();
  }

 private:
  mutable std::mutex m_;
  Snapshot snapshot_;
  Ledger ledger_;
  RunningCalls calls_;
  std::unique_ptr<receipts::ReceiptStore> receipts_;
  sandbox::JailPool jails_;
  FsWorkers fs_workers_{ledger_};
  JobSlots job_slots_;
  std::atomic<bool> draining_{false};
  std::atomic<fleet::Fleet*> fleet_{nullptr};
};

struct ServeOptions {
  std::chrono::milliseconds drain_grace{3000};       // SIGTERM: running calls get this long
  std::chrono::milliseconds ledger_poll{200};        // job stop / cst revoke reach calls this fast
  // Each open connection holds a thread until its request arrives or its 10 s deadline passes;
  // the limit must stay well above the idle connections a hostile local peer can open, or they
  // lock everyone else out until their deadline (tests/faults: 1,000 idle connections).
  size_t max_connections = 4096;
  // Jails built ahead of their calls (sandbox::JailPool): at most this many wait at once.
  size_t prebuilt_jails = 4;
};

// Start-up checks (signers, issuers, key permissions, state directory, jail support), then
// serves until SIGTERM or SIGINT. Returns the process exit code.
int serve(const std::filesystem::path& config_path, const ServeOptions& options = {});

}  // namespace clawjail
