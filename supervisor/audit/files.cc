// Ownership and modes: who could read the supervisor's key, or rewrite whom it trusts.
#include <grp.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "supervisor/audit/checks.h"

namespace clawjail::audit {
namespace {

namespace fs = std::filesystem;

std::optional<struct stat> stat_of(const fs::path& path, bool follow, int& err) {
  struct stat st {};
  int rc = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  err = rc == 0 ? 0 : errno;
  if (rc != 0) return std::nullopt;
  return st;
}

bool owner_ok(uid_t uid, const HostPaths& host) { return uid == 0 || uid == host.expected_owner; }

// Anyone who can write a directory on the way can swap what lies below it. A sticky bit (/tmp)
// keeps others' entries safe; group root counts as root.
bool dir_unsafe(const struct stat& st, const HostPaths& host) {
  if (!owner_ok(st.st_uid, host)) return true;
  if (st.st_mode & S_ISVTX) return false;
  return (st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0);
}

void check_owner(const struct stat& st, const fs::path& path, const std::string& id,
                 const std::string& what, const HostPaths& host, Report& report) {
  if (owner_ok(st.st_uid, host)) return;
  report.add(id + ".owner", Severity::critical, what + " is owned by another user",
             path.string() + ": owner uid " + std::to_string(st.st_uid) + ", the supervisor runs as uid " +
                 std::to_string(host.expected_owner),
             "chown " + std::to_string(host.expected_owner) + " " + path.string());
}

void warn_symlink(const fs::path& path, const std::string& id, const std::string& what,
                  Report& report) {
  int err = 0;
  auto lst = stat_of(path, false, err);
  if (!lst || !S_ISLNK(lst->st_mode)) return;
  std::error_code ec;
  report.add(id + ".symlink", Severity::warn, what + " is a symbolic link",
             path.string() + " -> " + fs::read_symlink(path, ec).string(),
             "replace the link with the file itself, so that its owner and mode are the ones checked here");
}

bool on_volatile_fs(const fs::path& path, std::string& fs_name) {
  struct statfs sfs {};
  if (::statfs(path.c_str(), &sfs) != 0) return false;
  if (sfs.f_type == TMPFS_MAGIC) fs_name = "tmpfs";
  else if (sfs.f_type == RAMFS_MAGIC) fs_name = "ramfs";
  else return false;
  return true;
}

std::string group_text(gid_t gid) {
  std::string text = "gid " + std::to_string(gid);
  if (const struct group* gr = ::getgrgid(gid)) {
    text += " (" + std::string(gr->gr_name) + ", members:";
    for (char** m = gr->gr_mem; m && *m; ++m) text += " " + std::string(*m);
    text += ")";
  }
  return text;
}

template <class T>
std::string list_text(const std::vector<T>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

}  // namespace

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

void check_ancestors(const fs::path& path, const std::string& id, const std::string& what,
                     const HostPaths& host, Report& report) {
  std::error_code ec;
  fs::path real = fs::weakly_canonical(path, ec);
  if (ec) real = path;
  for (fs::path dir = real.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    int err = 0;
    if (auto st = stat_of(dir, true, err); st && dir_unsafe(*st, host)) {
      report.add(id + ".dir_writable", Severity::critical,
                 what + " sits in a directory that another user can change",
                 dir.string() + ": owner uid " + std::to_string(st->st_uid) + ", gid " +
                     std::to_string(st->st_gid) + ", mode " + octal(st->st_mode),
                 "chown root:root " + dir.string() + " && chmod go-w " + dir.string());
      return;
    }
    if (dir == dir.root_path()) break;
  }
}

void check_config_file(const fs::path& path, const HostPaths& host, Report& report) {
  int err = 0;
  auto st = stat_of(path, true, err);
  if (!st) return;  // audit_installation reports a config it cannot read
  warn_symlink(path, "fs.config", "the configuration", report);
  check_owner(*st, path, "fs.config", "the configuration", host, report);
  if (st->st_mode & (S_IWGRP | S_IWOTH))
    report.add("fs.config.perms_writable", Severity::critical,
               "the configuration is writable by group or others: they decide which WPCs and tokens are trusted",
               path.string() + ": mode " + octal(st->st_mode), "chmod 0644 " + path.string());
  check_ancestors(path, "fs.config", "the configuration", host, report);
}

void check_signing_key(const Config& config, const HostPaths& host, Report& report) {
  const fs::path& key = config.signing_key;
  int err = 0;
  auto st = stat_of(key, true, err);
  if (!st) {
    report.add("fs.key.missing", Severity::critical,
               "the supervisor's signing key cannot be read: no receipt can be signed",
               key.string() + ": " + std::strerror(err),
               "clawjail keygen --out " + key.parent_path().string() + " --name " + key.stem().string());
    return;
  }
  warn_symlink(key, "fs.key", "the signing key", report);
  check_owner(*st, key, "fs.key", "the signing key", host, report);
  if (st->st_mode & (S_IRWXG | S_IRWXO)) {
    report.add("fs.key.perms_readable", Severity::critical,
               "the signing key is open to group or others: whoever reads it can forge receipts",
               key.string() + ": mode " + octal(st->st_mode),
               "chmod 0600 " + key.string() + ", then rotate it (clawjail keygen) since it may have leaked");
  } else if (auto loaded = policy::SecretKey::load(key); !loaded) {
    report.add("fs.key.invalid", Severity::critical, "the signing key cannot be loaded",
               key.string() + ": " + std::string(reason_name(loaded.reason())) + ": " + loaded.error().detail,
               "restore the key from backup or create a new one with clawjail keygen");
  }
  int dir_err = 0;
  if (auto dir = stat_of(key.parent_path(), true, dir_err); dir && (dir->st_mode & (S_IRWXG | S_IRWXO)))
    report.add("fs.key.dir_perms", Severity::warn, "the key's directory is open to group or others",
               key.parent_path().string() + ": mode " + octal(dir->st_mode),
               "chmod 0700 " + key.parent_path().string());
  check_ancestors(key, "fs.key", "the signing key", host, report);
}

void check_state_dir(const Config& config, const HostPaths& host, Report& report) {
  const fs::path& dir = config.state_dir;
  int err = 0;
  auto st = stat_of(dir, true, err);
  if (!st) {
    report.add("fs.state_dir.missing", Severity::warn, "the state directory does not exist",
               dir.string() + ": " + std::strerror(err),
               "systemd-tmpfiles --create clawjail.conf (or: install -d -m 0700 " + dir.string() + ")");
    return;
  }
  check_owner(*st, dir, "fs.state_dir", "the state directory", host, report);
  if (st->st_mode & (S_IWGRP | S_IWOTH))
    report.add("fs.state_dir.perms_writable", Severity::critical,
               "the state directory is writable by group or others: receipts, revocations and stored WPCs can be changed",
               dir.string() + ": mode " + octal(st->st_mode), "chmod 0700 " + dir.string());
  else if (st->st_mode & (S_IRWXG | S_IRWXO))
    report.add("fs.state_dir.perms_readable", Severity::warn,
               "the state directory is readable by group or others: receipts name every command an agent ran",
               dir.string() + ": mode " + octal(st->st_mode), "chmod 0700 " + dir.string());
  check_ancestors(dir, "fs.state_dir", "the state directory", host, report);
  if (std::string name; on_volatile_fs(dir, name))
    report.add("fs.state_dir.tmpfs", Severity::warn,
               "the state directory is on " + name + ": fdatasync promises nothing and receipts, the token ledger "
               "and revocations vanish at reboot",
               dir.string() + " is on " + name,
               "point \"state_dir\" at a directory on a disk-backed filesystem (the default /var/lib/clawjail)");
}

void check_socket(const Config& config, const HostPaths& host, Report& report) {
  const fs::path& sock = config.socket;
  int err = 0;
  auto st = stat_of(sock, false, err);
  if (!st) {
    report.add("socket.missing", Severity::info, "the supervisor's socket does not exist (not running?)",
               sock.string() + ": " + std::strerror(err), "systemctl enable --now clawjail.socket");
  } else if (!S_ISSOCK(st->st_mode)) {
    report.add("socket.not_socket", Severity::critical, "the socket path is not a socket",
               sock.string() + ": mode " + octal(st->st_mode) + ", not a socket",
               "remove " + sock.string() + " and restart clawjail.socket");
  } else {
    if (st->st_mode & S_IWOTH)
      report.add("socket.perms_world", Severity::warn,
                 "every local user can connect to the socket; only the supervisor's peer check stands in the way",
                 sock.string() + ": mode " + octal(st->st_mode),
                 "SocketMode=0660 and SocketGroup=clawjail in clawjail.socket");
    report.add("socket.access", Severity::info, "who can reach the socket",
               sock.string() + ": mode " + octal(st->st_mode) + ", owner uid " + std::to_string(st->st_uid) +
                   ", group " + group_text(st->st_gid),
               "add only the OpenClaw gateway's user to that group");
  }
  check_ancestors(sock, "socket", "the socket", host, report);
  if (config.client_uids.empty() && config.client_gids.empty())
    report.add("socket.clients", Severity::info, "only root may call the supervisor",
               "clients.uids and clients.gids are empty",
               "add the OpenClaw gateway's uid to \"clients\": {\"uids\": [...]} in " + config.path.string());
  else
    report.add("socket.clients", Severity::info, "peers the supervisor accepts",
               "clients.uids " + list_text(config.client_uids) + ", clients.gids " + list_text(config.client_gids),
               "keep this to the OpenClaw gateway's user");
}

}  // namespace clawjail::audit
