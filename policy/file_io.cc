#include "policy/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "policy/policy.h"

namespace clawjail::policy {
namespace {

Error io_error(Reason reason, const std::filesystem::path& path, std::string_view op) {
  return fail(reason, path.string() + ": " + std::string(op) + ": " + std::strerror(errno));
}

Status fsync_dir(const std::filesystem::path& dir, Reason reason) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) return io_error(reason, dir, "fsync");
  return ok_status();
}

}  // namespace

Status write_all(int fd, std::string_view data, const std::filesystem::path& path, Reason reason) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error(reason, path, "write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok_status();
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view data, int mode, Reason reason) {
  std::string tmpl = (path.parent_path() / ("." + path.filename().string() + ".XXXXXX")).string();
  UniqueFd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd) return io_error(reason, path.parent_path(), "create temporary file");
  auto written = write_all(fd.get(), data, tmpl, reason);
  if (written && (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0 || ::fsync(fd.get()) != 0))
    written = io_error(reason, tmpl, "fsync");
  if (written && ::rename(tmpl.c_str(), path.c_str()) != 0) written = io_error(reason, path, "rename");
  if (!written) {
    ::unlink(tmpl.c_str());
    return written;
  }
  return fsync_dir(path.parent_path(), reason);
}

Status ensure_private_dir(const std::filesystem::path& dir, Reason reason) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(reason, dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) return io_error(reason, dir, "chmod");
  return ok_status();
}

Result<std::string> read_file_limited(const std::filesystem::path& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return io_error(Reason::BAD_JSON, path, "open");
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(Reason::BAD_JSON, path, "read");
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes)
      return fail(Reason::DOCUMENT_TOO_LARGE, path.string() + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
}

Result<Json> parse_strict_json_file(const std::filesystem::path& path, const JsonLimits& limits) {
  auto text = read_file_limited(path, limits.max_bytes);
  if (!text) return text.error();
  auto json = parse_strict_json(*text, limits);
  if (!json) return fail(json.reason(), path.string() + ": " + json.error().detail);
  return json;
}

}  // namespace clawjail::policy
