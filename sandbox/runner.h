// Private: one jail from launch to the end of its tree. The monitor thread owns the clone (so
// PR_SET_PDEATHSIG follows the thread that lives exactly as long as the jail), answers seccomp
// notifications, relays output and enforces the wall-clock timeout. As root the jail's init runs
// in the supervisor's memory (no copy per call), on this Runner's plan and stacks: the Runner
// reaps it before anything it reads goes away.
// By concern: runner.cc plans and launches the jail (the builder), monitor.cc watches it until
// its tree is gone and reaps it (the watcher), outcome.cc turns what was seen into the Outcome.
#pragma once
#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "sandbox/cgroups.h"
#include "sandbox/egress.h"
#include "sandbox/idmap.h"
#include "sandbox/init.h"
#include "sandbox/landlock.h"
#include "sandbox/limits.h"
#include "sandbox/mounts.h"
#include "sandbox/namespaces.h"
#include "sandbox/outcome.h"
#include "sandbox/seccomp.h"
#include "sandbox/stdin_relay.h"
#include "sandbox/worker.h"

namespace clawjail::sandbox::detail {

Status fill_command(WorkerPlan& w, const JailSpec& spec, const Command& command);
Error setup_error(const char* what);  // JAIL_SETUP_FAILED with errno's text

class Runner {
  struct Key {
    explicit Key() = default;
  };

 public:
  explicit Runner(Key) {}  // only launch() and launch_ahead() hold a Key
  using FillWorker = std::function<Status(WorkerPlan&)>;
  // Prepares and starts building the jail in the background; the command waits for release().
  static Result<std::unique_ptr<Runner>> launch(const JailSpec& spec, const FillWorker& fill, const Io& io);
  // The same, for a call that has not arrived yet: hand_over() gives it its command and
  // descriptors later. Only where the init shares this process's memory (builds_ahead()).
  static Result<std::unique_ptr<Runner>> launch_ahead(const JailSpec& spec);
  static bool builds_ahead();
  // Before release() of a jail built ahead: the call's command, output and stdin. Refused when a
  // bind source (the workspace, a WPC bind) is another object than the jail bound.
  Status hand_over(const JailSpec& spec, const FillWorker& fill, const Io& io);
  // Waits until the jail is built and lets the command run; an error if it could not be built.
  // The wall-clock timeout counts from here for a jail built ahead.
  Status release();
  ~Runner();
  pid_t pid() const { return pid_; }
  void kill();
  const Outcome& wait();                       // joins the monitor
  int done_fd() const { return done_.get(); }  // readable once wait() no longer blocks
  const std::vector<Msg>& fs_messages() const { return fs_msgs_; }
  // The workspace and binds `call` opens are the objects this jail bound (and the workspace has
  // the owner the idmap maps): a jail built for an earlier call may serve this one.
  Status sources_unchanged(const JailSpec& call) const;

 private:
  Status prepare(const JailSpec& spec, const FillWorker& fill, const Io& io);
  Status fill_worker(const FillWorker& fill);
  void start_monitor();
  Status prepare_pty(const Io& io);
  Status plan_stdin(const Io& io, UniqueFd& jail_end);

  // The init's lifecycle, moved forward by enter() alone (monitor.cc). Built ahead, `ready`
  // lasts until release(); the tree's end is `tree_gone` (the init reported every other process
  // reaped and is exiting) or `reaped` (the init was waited for).
  enum class Phase { building, ready, tree_gone, reaped };
  struct Watch;  // the monitor loop's descriptors, streams and deadline (monitor.cc)
  void monitor();
  Status release_child();
  void enter(Phase next);
  bool ending() const { return phase_ >= Phase::tree_gone; }
  std::chrono::steady_clock::time_point grace_end() const;
  void loop();
  Watch start_watch();
  StdinRelay relay_stdin();
  void on_released(Watch& w);
  void on_report(Watch& w);
  void on_listener(Watch& w);
  void on_notification(Watch& w, short revents);
  void on_init_exit();
  void record_output(Watch& w);
  void finish();
  void reap_init();
  void signal_done();

  JailSpec spec_;
  bool root_mode_ = false;
  uid_t host_uid_ = 0;
  gid_t host_gid_ = 0;
  std::optional<UidLease> lease_;
  JailCgroup cgroup_;
  bool born_in_cgroup_ = false;  // cloned from inside the jail's cgroup: no add() needed
  std::vector<UniqueFd> keep_alive_;
  MountPlan mounts_;
  std::vector<RlimitPlan> rlimits_;
  SeccompProgram seccomp_;
  WorkerPlan worker_;
  LandlockPlan landlock_;
  std::string pty_path_;
  // The client's stdin (never the jail's), and the pipe end the monitor copies it into (without
  // a pty; with one it goes into the terminal).
  UniqueFd stdin_src_, stdin_feed_;
  ChildStack init_stack_, worker_stack_;  // in use until the init is reaped
  ChildPlan child_;
  UniqueFd sync_r_, sync_w_, report_r_, report_w_, out_r_, out_w_, err_r_, err_w_, sock_r_, sock_w_, stdin_;
  UniqueFd io_out_, io_err_;
  UniqueFd done_;  // eventfd, written when the monitor is done
  std::unique_ptr<EgressProxy> egress_;  // with approved hosts: the jail's only way out

  std::thread thread_;
  std::promise<Status> ready_;
  std::future<Status> ready_future_;
  std::optional<Status> release_;  // what release() found, once it was called
  // Built ahead of its call: no deadline until release(), which publishes released_at_ and the
  // call's output descriptors through released_ and wakes the monitor.
  bool ahead_ = false;
  std::optional<std::pair<uid_t, gid_t>> workspace_owner_;  // what the idmapped workspace maps
  UniqueFd go_stdin_;
  UniqueFd wake_;
  std::atomic<bool> released_{false};
  std::chrono::steady_clock::time_point released_at_;
  std::chrono::milliseconds call_timeout_{0};  // the call's, not the spec's it was built for
  std::atomic<int> pidfd_{-1};
  pid_t pid_ = -1;
  std::atomic<bool> killed_{false};  // kill() was called, from any thread
  Phase phase_ = Phase::building;    // the monitor's, then (once joined) the destructor's
  EndFacts facts_;                   // what the monitor saw, for classify_outcome()
  std::atomic<bool> done_writing_{false};  // the outcome is final; the thread may still be exiting
  std::chrono::steady_clock::time_point started_, ended_;
  std::map<int, int64_t> violations_;
  std::vector<Msg> fs_msgs_;
  Outcome outcome_;
};

}  // namespace clawjail::sandbox::detail
