#include "supervisor/daemon/daemon.h"

#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <string>
#include <spdlog/spdlog.h>
#include <thread>

#include "sandbox/jail.h"
#include "supervisor/daemon/call.h"
#include "supervisor/daemon/listener.h"
#include "supervisor/daemon/logging.h"
#include "supervisor/proto/exit_codes.h"
#include "supervisor/proto/protocol.h"

namespace clawjail {

DaemonContext::DaemonContext(Config config, std::unique_ptr<receipts::ReceiptStore> receipts, size_t prebuilt_jails)
    : ledger_(config.state_dir), receipts_(std::move(receipts)), jails_(prebuilt_jails) {
  replace(std::move(config));
}

Snapshot DaemonContext::snapshot() const {
  std::lock_guard lock(m_);
  return snapshot_;
}

void DaemonContext::replace(Config config) {
  auto store = std::make_shared<const policy::PolicyStore>(config.state_dir, config.wpc_signers);
  auto shared = std::make_shared<const Config>(std::move(config));
  {
    std::lock_guard lock(m_);
    snapshot_ = {std::move(shared), std::move(store)};
  }
  jails_.clear();
  fs_workers_.clear();
}

namespace {

// Fail at start-up, with one clear sentence, rather than on every call.
Status check_startup(const Config& c) {
  if (c.wpc_signers.empty())
    return fail(Reason::WPC_NO_SIGNERS, c.path.string() + ": wpc_signers is empty, so every WPC would be refused; "
                                                          "add the did:key of your WPC signer");
  if (c.cst_issuers.empty() && c.jwks_urls.empty())
    return fail(Reason::CONFIG_INVALID, c.path.string() + ": cst_issuers is empty, so every CST would be refused; "
                                                          "add {\"kid\": …, \"did\": …} of your CST issuer "
                                                          "or {\"jwks_url\": …} of its JWKS");
  if (auto problem = sandbox::host_support().problem) return fail(Reason::JAIL_UNAVAILABLE, *problem);
  std::error_code ec;
  std::filesystem::create_directories(c.state_dir, ec);
  if (ec) return fail(Reason::CONFIG_INVALID, "state_dir " + c.state_dir.string() + ": " + ec.message());
  ::chmod(c.state_dir.c_str(), 0700);
  return ok_status();
}

// systemd connects a unit's stderr to the journal and names that stream in $JOURNAL_STREAM
// ("device:inode"); a process started by hand from such a unit inherits the variable but not
// necessarily the stream.
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (!stream || ::fstat(STDERR_FILENO, &st) != 0) return false;
  return std::string(stream) == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

// Said once at start-up, and loudly when the jails' limits rest on rlimits alone: on stderr as
// well when that is not already the journal (a supervisor run by hand).
void log_limits_enforcement() {
  auto e = sandbox::limits_enforcement(sandbox::host_support());
  if (!e.warning) {
    spdlog::info("{}", e.text);
    return;
  }
  spdlog::warn("{}", e.text);
  if (!stderr_is_journal()) std::fprintf(stderr, "clawjail: warning: %s\n", e.text.c_str());
}

// Start-up reads every receipt log (calls a dead supervisor left open): a large state directory
// takes longer than systemd's start timeout, so each few seconds the supervisor asks for more
// time and says how far it is (`systemctl status`). Outside systemd sd_notify does nothing.
void tell_log_progress(size_t done, size_t total) {
  using Clock = std::chrono::steady_clock;
  static Clock::time_point last = Clock::now();
  if (Clock::now() - last < std::chrono::seconds(5)) return;
  last = Clock::now();
  sd_notifyf(0, "EXTEND_TIMEOUT_USEC=30000000\nSTATUS=receipt logs checked: %zu of %zu", done, total);
}

Result<std::unique_ptr<DaemonContext>> make_context(const std::filesystem::path& path, const ServeOptions& options) {
  auto config = load_config(path);
  if (!config) return config.error();
  init_logging(config->log_level);
  if (auto s = check_startup(*config); !s) return s.error();
  log_limits_enforcement();
  if (int stale = sandbox::remove_stale_jail_cgroups(); stale > 0)
    spdlog::info("removed {} empty jail cgroup(s) left by a supervisor that did not exit cleanly", stale);
  auto key = policy::SecretKey::load(config->signing_key);
  if (!key) return fail(key.reason(), "signing_key " + config->signing_key.string() + ": " + key.error().detail);
  // The store warns once (journald unreachable, a torn line set aside). stderr, not spdlog: when
  // journald is gone the journal sink is too, and the warning must still reach someone.
  receipts::StoreOptions store_options;
  store_options.on_warning = [](const std::string& text) { std::fprintf(stderr, "clawjail: warning: %s\n", text.c_str()); };
  store_options.on_open_progress = tell_log_progress;
  auto store = receipts::ReceiptStore::open(config->state_dir, std::move(key.value()), std::move(store_options));
  if (!store) return store.error();
  return std::make_unique<DaemonContext>(std::move(config.value()), std::move(store.value()), options.prebuilt_jails);
}

// SIGTERM, SIGINT and SIGHUP arrive on a self-pipe. Neither a blocked mask (signalfd) nor
// SIG_IGN is used: both survive fork and execve into every jail, and a jailed command must start
// with default signal handling. Handlers, unlike those, are reset by execve.
int g_signal_pipe = -1;

void on_signal_handler(int sig) {
  if (sig == SIGPIPE) return;  // a vanished log reader must not kill the supervisor
  int saved = errno;
  unsigned char byte = static_cast<unsigned char>(sig);
  (void)!::write(g_signal_pipe, &byte, 1);
  errno = saved;
}

UniqueFd install_signal_handlers() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return UniqueFd();
  g_signal_pipe = fds[1];  // lives as long as the process
  struct sigaction sa{};
  sa.sa_handler = on_signal_handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) ::sigaction(sig, &sa, nullptr);
  return UniqueFd(fds[0]);
}

struct Connection {
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> done = std::make_shared<std::atomic<bool>>(false);
};

class Server {
 public:
  Server(DaemonContext& ctx, Listener listener, UniqueFd signals, const ServeOptions& options)
      : ctx_(ctx), listener_(std::move(listener)), signals_(std::move(signals)), options_(options) {}

  int run() {
    LedgerWatcher watcher(ctx_.ledger(), ctx_.calls(), options_.ledger_poll);
    fleet::Fleet fleet(*ctx_.snapshot().config);
    ctx_.set_fleet(&fleet);
    spdlog::info("clawjail supervisor listening on {}", ctx_.snapshot().config->socket.string());
    sd_notify(0, "READY=1");
    while (!stopping_) {
      pollfd fds[2] = {{listener_.fd.get(), POLLIN, 0}, {signals_.get(), POLLIN, 0}};
      if (::poll(fds, 2, 1000) < 0 && errno != EINTR) break;
      if (fds[1].revents) on_signal();
      if (fds[0].revents && !stopping_) accept_one();
      reap(false);
      ctx_.receipts().retry_owed();  // finished receipts that met a full disk, once there is room
    }
    drain();
    ctx_.set_fleet(nullptr);  // every connection thread was joined by drain()
    return 0;
  }

 private:
  void on_signal() {
    unsigned char sig = 0;
    if (::read(signals_.get(), &sig, 1) != 1) return;
    if (sig == SIGHUP) return reload();
    spdlog::info("signal {}: draining", static_cast<int>(sig));
    sd_notify(0, "STOPPING=1");
    stopping_ = true;
  }

  void reload() {
    auto config = load_config(ctx_.snapshot().config->path);
    if (!config) return spdlog::error("SIGHUP: configuration not reloaded: {}", config.error().detail);
    if (auto s = check_startup(*config); !s) return spdlog::error("SIGHUP: configuration not reloaded: {}", s.error().detail);
    if (config->socket != ctx_.snapshot().config->socket || config->signing_key != ctx_.snapshot().config->signing_key)
      spdlog::warn("SIGHUP: socket and signing_key changes take effect at the next restart");
    const auto& old = *ctx_.snapshot().config;
    if (config->jwks_urls != old.jwks_urls || config->jwks_refresh_s != old.jwks_refresh_s ||
        config->revocation_feed != old.revocation_feed || config->control_plane_timeout_ms != old.control_plane_timeout_ms)
      spdlog::warn("SIGHUP: JWKS and revocation feed changes take effect at the next restart");
    ctx_.replace(std::move(config.value()));
    ctx_.ledger().reload();
    spdlog::info("SIGHUP: configuration, WPC store and revocations reloaded");
  }

  void accept_one() {
    UniqueFd conn(::accept4(listener_.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return;
    if (connections_.size() >= options_.max_connections) return refuse_busy(conn.get());
    Connection c;
    c.thread = std::thread([this, fd = conn.release(), done = c.done]() mutable {
      serve_connection(ctx_, UniqueFd(fd));
      *done = true;
    });
    connections_.push_back(std::move(c));
  }

  // Over the limit a client still learns why, in a frame it can read, before the close; the
  // write never waits (a fresh socket's buffer has room for one small frame).
  void refuse_busy(int fd) {
    spdlog::warn("connection refused: {} connections already open (SUPERVISOR_BUSY)", connections_.size());
    proto::Response r;
    r.status = CallStatus::failed;
    r.reason = Reason::SUPERVISOR_BUSY;
    r.reason_detail = std::to_string(connections_.size()) + " connections are open, the most this supervisor takes";
    r.exit_code = kExitSupervisor;
    timeval no_wait{0, 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &no_wait, sizeof(no_wait));
    (void)proto::write_frame(fd, proto::response_body(r));
  }

  void reap(bool all) {
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (all || *it->done) {
        it->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // New connections are refused from here on; running calls get the grace, then are killed,
  // and every connection thread writes its `finished` receipt before we return.
  void drain() {
    ctx_.start_draining();
    close_listener(listener_);
    auto deadline = std::chrono::steady_clock::now() + options_.drain_grace;
    if (!ctx_.calls().wait_empty(deadline)) {
      int n = ctx_.calls().close({Reason::SUPERVISOR_SHUTTING_DOWN, "the supervisor is shutting down"});
      spdlog::warn("grace over: killed {} running call(s)", n);
    }
    reap(true);
    if (size_t lost = ctx_.receipts().retry_owed(); lost > 0)
      spdlog::error("{} finished receipt(s) could not be stored (no room in the state directory) and are lost", lost);
    spdlog::info("clawjail supervisor stopped");
  }

  DaemonContext& ctx_;
  Listener listener_;
  UniqueFd signals_;
  ServeOptions options_;
  std::list<Connection> connections_;
  bool stopping_ = false;
};

}  // namespace

int serve(const std::filesystem::path& config_path, const ServeOptions& options) {
  // Connections are descriptors: take the hard limit (systemd gives services a soft limit of 1024).
  if (rlimit nofile{}; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  auto signals = install_signal_handlers();
  auto ctx = make_context(config_path, options);
  if (!ctx) {
    spdlog::critical("cannot start: {}: {}", reason_name(ctx.reason()), ctx.error().detail);
    std::fprintf(stderr, "clawjail: serve: %s: %s\n", std::string(reason_name(ctx.reason())).c_str(),
                 ctx.error().detail.c_str());
    return 1;
  }
  auto listener = open_listener(*(*ctx)->snapshot().config);
  if (!listener) {
    std::fprintf(stderr, "clawjail: serve: %s\n", listener.error().detail.c_str());
    return 1;
  }
  if (const auto& config = *(*ctx)->snapshot().config;
      !listener->activated && !config.client_uids.empty() && !socket_group(config))
    spdlog::warn("{} is root's only (0660, no clients.gids and no {} group): the uids in clients.uids cannot reach "
                 "it; create the {} group and add them to it", config.socket.string(), kSocketGroupName, kSocketGroupName);
  Server server(**ctx, std::move(listener.value()), std::move(signals), options);
  return server.run();
}

}  // namespace clawjail
