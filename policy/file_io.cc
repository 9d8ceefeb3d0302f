#include "policy/file_io.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "policy/json.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "base/unique_fd.h"

namespace clawjail::policy {
namespace {

Error io_error(Reason reason, const std::filesystem::path& path, std::string_view op) {
  return fail(reason, path.string() + ": " + std::string(op) + ": " + std::strerror(errno));
}

// What the replacement file gets: its permission bits, and an owner when it must not be the caller.
struct FileAttrs {
  mode_t mode = 0600;
  std::optional<FileOwner> owner;
};

std::filesystem::path dir_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

// Every later step works on this one handle, so a directory renamed or swapped for a symlink
// meanwhile cannot redirect the temporary file or the rename somewhere else.
Result<UniqueFd> open_parent(const std::filesystem::path& path, Reason reason) {
  if (!path.has_filename()) return fail(reason, path.string() + ": names a directory, not a file");
  UniqueFd dir(::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return io_error(reason, dir_of(path), "open directory");
  return dir;
}

// A fresh name beside the target; O_EXCL|O_NOFOLLOW: never an existing file or a planted link.
Result<std::pair<UniqueFd, std::string>> create_temp(int dir, const std::filesystem::path& path, Reason reason) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    unsigned char raw[6];
    if (::getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw)) continue;
    std::string name = "." + path.filename().string() + ".";
    for (unsigned char c : raw) name += "0123456789abcdef"[c & 15];
    UniqueFd fd(::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd) return std::pair{std::move(fd), name};
    if (errno != EEXIST) break;
  }
  return io_error(reason, dir_of(path), "create temporary file");
}

// Mode before owner: once the file is someone else's, changing its mode would need CAP_FOWNER.
// Errors name the file being replaced: the temporary one is gone by the time anyone reads them.
Status finish_temp(int fd, const FileAttrs& attrs, const std::filesystem::path& path, Reason reason) {
  if (::fchmod(fd, attrs.mode) != 0) return io_error(reason, path, "set the new file's mode");
  struct stat st {};
  if (attrs.owner && (::fstat(fd, &st) != 0 || st.st_uid != attrs.owner->uid || st.st_gid != attrs.owner->gid) &&
      ::fchown(fd, attrs.owner->uid, attrs.owner->gid) != 0)
    return io_error(reason, path, "give the new file owner " + std::to_string(attrs.owner->uid) + ":" +
                                      std::to_string(attrs.owner->gid));
  if (::fsync(fd) != 0) return io_error(reason, path, "fsync");
  return ok_status();
}

Status replace_entry(int dir, const std::filesystem::path& path, std::string_view data, const FileAttrs& attrs,
                     Reason reason) {
  auto temp = create_temp(dir, path, reason);
  if (!temp) return temp.error();
  const std::string& name = temp->second;
  auto written = write_all(temp->first.get(), data, dir_of(path) / name, reason);
  if (written) written = finish_temp(temp->first.get(), attrs, path, reason);
  if (written && ::renameat(dir, name.c_str(), dir, path.filename().c_str()) != 0)
    written = io_error(reason, path, "rename");
  if (!written) {
    ::unlinkat(dir, name.c_str(), 0);
    return written;
  }
  if (::fsync(dir) != 0) return io_error(reason, dir_of(path), "fsync");
  return ok_status();
}

// The file being replaced decides the new one's owner, group and permission bits; anything but a
// regular file there is refused rather than followed or clobbered.
Result<FileAttrs> kept_attributes(int dir, const std::filesystem::path& path, const std::optional<FileOwner>& new_owner,
                                  Reason reason) {
  struct stat st {};
  if (::fstatat(dir, path.filename().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) return io_error(reason, path, "stat");
    return FileAttrs{.mode = 0600, .owner = new_owner};
  }
  if (S_ISLNK(st.st_mode))
    return fail(reason, path.string() + " is a symbolic link: refusing to replace it (name the file itself)");
  if (S_ISDIR(st.st_mode)) return fail(reason, path.string() + " is a directory, not a file");
  if (!S_ISREG(st.st_mode)) return fail(reason, path.string() + " is not a regular file");
  if (new_owner && st.st_uid != new_owner->uid)
    return fail(reason, path.string() + " belongs to uid " + std::to_string(st.st_uid) + ", not to uid " +
                            std::to_string(new_owner->uid) + " as asked: chown it or change the owner asked for");
  return FileAttrs{.mode = static_cast<mode_t>(st.st_mode & 0777), .owner = FileOwner{st.st_uid, st.st_gid}};
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
  auto dir = open_parent(path, reason);
  if (!dir) return dir.error();
  return replace_entry(dir->get(), path, data, {.mode = static_cast<mode_t>(mode), .owner = std::nullopt}, reason);
}

Status replace_file_keeping_owner(const std::filesystem::path& path, std::string_view data,
                                  const std::optional<FileOwner>& new_owner, Reason reason) {
  auto dir = open_parent(path, reason);
  if (!dir) return dir.error();
  auto attrs = kept_attributes(dir->get(), path, new_owner, reason);
  if (!attrs) return attrs.error();
  return replace_entry(dir->get(), path, data, *attrs, reason);
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
