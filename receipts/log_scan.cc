// Reading job logs: naming, splitting into lines, finding a torn final line. Never writes.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "policy/json.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "receipts/internal.h"

namespace clawjail::receipts {
namespace {

std::string describe_tail(const detail::LogScan& scan) {
  return "torn final line (" + std::to_string(scan.tail->size()) + " bytes at offset " +
         std::to_string(scan.good_end) + "), left by an interrupted write (or one still in progress)";
}

}  // namespace

namespace detail {

bool parses_as_object(std::string_view line) {
  auto j = Json::parse(line, nullptr, false);
  return !j.is_discarded() && j.is_object();
}

Result<std::string> for_each_line(int fd, uint64_t max_bytes, const std::function<Status(std::string_view)>& line) {
  std::vector<char> buf(size_t{1} << 20);
  std::string partial;  // the bytes after the last '\n' read so far
  for (uint64_t at = 0;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Reason::RECEIPT_STORE_FAILED, std::string("read: ") + std::strerror(errno));
    if (n == 0) return partial;
    at += static_cast<uint64_t>(n);
    if (at > max_bytes) return fail(Reason::DOCUMENT_TOO_LARGE, "larger than " + std::to_string(max_bytes) + " bytes");
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    for (size_t nl; (nl = chunk.find('\n')) != std::string_view::npos; chunk.remove_prefix(nl + 1)) {
      auto s = partial.empty() ? line(chunk.substr(0, nl)) : line(partial.append(chunk.substr(0, nl)));
      if (!s.ok()) return s.error();
      partial.clear();
    }
    partial.append(chunk);
  }
}

std::filesystem::path receipts_dir(const std::filesystem::path& state_dir) {
  return state_dir / "receipts";
}

std::filesystem::path log_path(const std::filesystem::path& state_dir, std::string_view job_id) {
  return receipts_dir(state_dir) / (std::string(job_id) + ".log");
}

LogScan scan_log(std::string_view bytes) {
  LogScan scan;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) break;
    scan.lines.emplace_back(bytes.substr(pos, nl - pos));
    pos = nl + 1;
  }
  scan.good_end = pos;
  if (pos < bytes.size()) {
    scan.tail = std::string(bytes.substr(pos));
  } else if (!scan.lines.empty() && !parses_as_object(scan.lines.back())) {
    // A crash can leave a complete-looking last line of zeros or garbage (size updated before
    // data): it was never acknowledged, so it is torn too.
    scan.good_end -= scan.lines.back().size() + 1;
    scan.tail = std::move(scan.lines.back()) + "\n";
    scan.lines.pop_back();
  }
  return scan;
}

std::vector<std::filesystem::path> torn_files(const std::filesystem::path& state_dir,
                                              std::string_view job_id) {
  std::vector<std::filesystem::path> out;
  std::string prefix = std::string(job_id) + ".log.torn-";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(receipts_dir(state_dir), ec))
    if (entry.path().filename().string().starts_with(prefix)) out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace detail

Result<JobLog> read_job_log(const std::filesystem::path& state_dir, std::string_view job_id) {
  if (auto s = check_job_id(job_id); !s.ok()) return s.error();
  auto path = detail::log_path(state_dir, job_id);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return fail(Reason::BAD_FIELD, "no receipt log for job " + std::string(job_id) + " in " +
                                       detail::receipts_dir(state_dir).string());
  auto bytes = policy::read_file_limited(path, detail::kMaxLogBytes);
  if (!bytes.ok()) return bytes.error();
  auto scan = detail::scan_log(*bytes);
  JobLog log;
  for (size_t i = 0; i < scan.lines.size(); ++i) {
    auto env = Json::parse(scan.lines[i], nullptr, false);
    if (env.is_discarded() || !env.is_object())
      return fail(Reason::RECEIPT_PAYLOAD_INVALID, path.string() + " line " + std::to_string(i + 1) +
                                                       " is not a JSON envelope");
    log.envelopes.push_back(std::move(env));
  }
  std::vector<std::string> notes;
  if (scan.tail) notes.push_back(describe_tail(scan));
  for (const auto& f : detail::torn_files(state_dir, job_id))
    notes.push_back("a torn line was set aside in " + f.string());
  if (!notes.empty()) {
    std::string all;
    for (const auto& n : notes) all += (all.empty() ? "" : "; ") + n;
    log.torn = all;
  }
  return log;
}

std::vector<std::string> list_jobs(const std::filesystem::path& state_dir) {
  std::vector<std::string> jobs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(detail::receipts_dir(state_dir), ec)) {
    auto name = entry.path().filename().string();
    if (!name.ends_with(".log") || !entry.is_regular_file(ec)) continue;
    auto job = name.substr(0, name.size() - 4);
    if (check_job_id(job).ok()) jobs.push_back(job);
  }
  std::sort(jobs.begin(), jobs.end());
  return jobs;
}

}  // namespace clawjail::receipts
