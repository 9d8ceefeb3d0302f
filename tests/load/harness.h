// Shared by the load and fault suites: raw protocol calls against a real supervisor, the
// supervisor's resource usage from /proc, survivors of the jail uid range, and bundle checks
// through the real `clawjail bundle export|verify`.
#pragma once
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "receipts/receipts.h"
#include "sandbox/jail.h"
#include "supervisor/client/client.h"
#include "supervisor/proto/protocol.h"
#include "tests/supervisor/fixture.h"

namespace clawjail::test {

using Clock = std::chrono::steady_clock;

using client::connect_unix;

inline Result<proto::Response> read_answer(int fd, std::chrono::seconds within = std::chrono::seconds(60)) {
  auto frame = proto::read_frame(fd, Clock::now() + within);
  if (!frame) return frame.error();
  auto json = Json::parse(frame->body, nullptr, false);
  if (json.is_discarded()) return fail(Reason::REQUEST_MALFORMED, "response is not JSON: " + frame->body);
  return proto::parse_response(json);
}

// One request with /dev/null as the call's stdin, stdout and stderr; the response.
inline Result<proto::Response> call_once(const fs::path& socket, const Json& request) {
  auto fd = connect_unix(socket);
  if (!fd) return fail(Reason::INTERNAL_ERROR, std::string("connect: ") + std::strerror(errno));
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  int fds[3] = {null.get(), null.get(), null.get()};
  // Like `clawjail run`: a refused peer is answered before its request is read, so a failed
  // write (EPIPE) still leaves the answer to read.
  auto sent = proto::write_frame(fd.get(), request.dump(), fds);
  auto answer = read_answer(fd.get());
  if (!answer && !sent) return sent.error();
  return answer;
}

struct Usage {
  long rss_kb = 0, fds = 0, threads = 0, children = 0;
  // Of fds, those the supervisor keeps for the next jails: the open files of jail cgroups (spare
  // or in use) and the user namespaces of idmapped workspaces. Bounded, not returned at rest.
  long kept_fds = 0;
};
// Every process whose parent chain reaches `pid` (jails, relays, helpers).
inline std::vector<pid_t> descendants(pid_t pid) {
  std::map<pid_t, pid_t> parent;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(it->path() / "stat");
    std::string line;
    std::getline(in, line);
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2) parent[std::stoi(name)] = ppid;
  }
  std::vector<pid_t> out;
  for (auto [p, pp] : parent) {
    for (pid_t up = pp; up > 1 && parent.count(up); up = parent[up])
      if (up == pid) {
        out.push_back(p);
        break;
      }
    if (pp == pid && (out.empty() || out.back() != p)) out.push_back(p);
  }
  return out;
}
inline Usage usage_of(pid_t pid) {
  Usage u;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) u.rss_kb = std::stol(line.substr(6));
    if (line.rfind("Threads:", 0) == 0) u.threads = std::stol(line.substr(8));
  }
  std::error_code ec;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end; it.increment(ec)) {
    ++u.fds;
    if (kept_for_next_jails(it->path())) ++u.kept_fds;
  }
  u.children = static_cast<long>(descendants(pid).size());
  return u;
}
// The usage once nothing changes any more: two readings 300 ms apart agree on descriptors,
// threads and children (at most 10 s). Right after calls the pool may still be building the
// jails it keeps ahead, whose descriptors are not all open yet; a reading then is no baseline.
inline Usage usage_at_rest(pid_t pid) {
  Usage u = usage_of(pid);
  for (int i = 0; i < 33; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    Usage next = usage_of(pid);
    bool same = next.fds == u.fds && next.kept_fds == u.kept_fds && next.threads == u.threads && next.children == u.children;
    u = next;
    if (same) break;
  }
  return u;
}
inline std::string to_string(const Usage& u) {
  return "RSS " + std::to_string(u.rss_kb) + " kB, " + std::to_string(u.fds) + " fds (" + std::to_string(u.kept_fds) +
         " kept for the next jails), " + std::to_string(u.threads) +
         " threads, " + std::to_string(u.children) + " child processes";
}

// Processes running as a uid of the jail range [first, first+count): jails that survived.
inline std::vector<pid_t> jail_uid_processes(uid_t first = sandbox::UidRange{}.first,
                                              uint32_t count = sandbox::UidRange{}.count) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream status(it->path() / "status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("Uid:", 0) == 0) {
        unsigned long uid = std::stoul(line.substr(4));
        if (uid >= first && uid < first + count) out.push_back(std::stoi(name));
        break;
      }
  }
  return out;
}

inline long env_count(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::stol(v) : fallback;
}

}  // namespace clawjail::test
