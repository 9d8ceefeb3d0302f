// clawjail keygen --out DIR [--name NAME]: an Ed25519 pair DIR/NAME.key (0600) and DIR/NAME.pub.
#include <sys/stat.h>

#include <iostream>
#include <regex>

#include "policy/json.h"
#include "policy/keys.h"
#include "supervisor/common/commands.h"

namespace clawjail::cli {
namespace {

struct KeygenFlags {
  std::string out, name = "clawjail";
  bool json = false;
};

// A key written into a directory others can write to can be swapped for theirs behind our back.
void check_out_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) die("keygen", dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) die("keygen", dir.string() + ": not a directory");
  if ((st.st_mode & S_IWOTH) || (st.st_mode & S_IWGRP))
    die("keygen", dir.string() + ": writable by group or others; use a private directory");
}

void keygen(const KeygenFlags& f) {
  if (!std::regex_match(f.name, std::regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")))
    die("keygen", "--name must be letters, digits, '.', '_' or '-': " + f.name, 2);
  std::filesystem::path dir(f.out);
  check_out_dir(dir);
  auto key_path = dir / (f.name + ".key");
  auto pub_path = dir / (f.name + ".pub");
  for (const auto& p : {key_path, pub_path})
    if (std::error_code ec; std::filesystem::exists(std::filesystem::symlink_status(p, ec)))
      die("keygen", p.string() + ": already exists; refusing to overwrite a key");
  auto key = policy::SecretKey::generate();
  if (auto s = key.save(key_path); !s) die("keygen", s.error().detail);
  if (auto s = policy::save_public_key(pub_path, key.public_key()); !s) die("keygen", s.error().detail);
  if (f.json)
    std::cout << policy::Json{{"did", key.did()}, {"key", key_path.string()}, {"pub", pub_path.string()}}.dump() << "\n";
  else
    std::cout << key.did() << "\n";
  exit_with(0);
}

const CommandRegistrar kKeygen("keygen", [](CLI::App& app) {
  auto f = std::make_shared<KeygenFlags>();
  auto* cmd = app.add_subcommand("keygen", "Create an Ed25519 key pair DIR/NAME.key (mode 0600) and DIR/NAME.pub "
                                           "(its did:key); prints the did:key. Never overwrites.");
  cmd->add_option("--out", f->out, "directory for the key pair (created 0700 if missing)")->required();
  cmd->add_option("--name", f->name, "file name stem (default: clawjail)");
  cmd->add_flag("--json", f->json, "print {did, key, pub} as JSON");
  cmd->callback([f] { keygen(*f); });
});

}  // namespace
}  // namespace clawjail::cli
