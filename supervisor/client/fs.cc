// clawjail fs --job J --cst-file F [--wpc HASH] [--workspace DIR] [--json] [--offset N] [--length N] OP PATH…
#include <unistd.h>

#include <iostream>
#include <optional>

#include "policy/json.h"
#include "policy/text.h"
#include "sandbox/jail.h"
#include "supervisor/client/client.h"
#include "supervisor/common/commands.h"

namespace clawjail::cli {
namespace {

struct FsFlags {
  client::CallFlags call;
  std::string op;
  std::vector<std::string> paths;
  bool json = false, exclusive = false, no_truncate = false, recursive = false;
  int64_t offset = 0;
  std::optional<int64_t> length;
};

// Names are the jail's bytes: the terminal gets them escaped (policy::printable), --json exact.
void print_human(const std::string& op, const policy::Json& value) {
  if (op == "ls" && value.is_array()) {
    for (const auto& e : value)
      std::cout << policy::printable(policy::name_bytes(e).value_or("?")) << (e.value("type", "") == "dir" ? "/" : "")
                << "\n";
  } else if (op == "stat") {
    if (value.is_null()) std::cout << "absent\n";
    else std::cout << value.value("type", "") << " " << value.value("size", int64_t{0}) << " bytes\n";
  }
}

void run(const FsFlags& f) {
  auto r = client::call_request("fs", f.call, f.op);
  r.fs = proto::FsArgs{from_name<FsOpKind>(f.op).value(), f.paths, f.exclusive, !f.no_truncate, f.recursive};
  r.fs->offset = f.offset;
  r.fs->length = f.length;
  auto response = client::send_call("fs", f.call, r);
  int code = client::report("fs", response);
  if (code == 0 && response.value && f.op != "read" && f.op != "write") {
    if (f.json) std::cout << response.value->dump(-1, ' ', false, policy::Json::error_handler_t::replace) << "\n";
    else print_human(f.op, *response.value);
  }
  if (code == 0 && response.truncated)
    std::cerr << "clawjail: fs ls: listing truncated: the directory has more entries than one answer carries ("
              << sandbox::kMaxListEntries << " entries or " << sandbox::kMaxListBytes / 1024 << " KiB)\n";
  exit_with(code);
}

const CommandRegistrar kFs("fs", [](CLI::App& app) {
  auto f = std::make_shared<FsFlags>();
  auto* sub = app.add_subcommand("fs", "A file tool call through the supervisor: read (bytes on stdout), write "
                                       "(data on stdin), ls, stat, mkdir, remove, rename. Paths are relative to "
                                       "the workspace. Exit: 0 done, 1 the operation failed, 126 blocked, 125 "
                                       "supervisor unreachable or failed");
  client::add_call_flags(*sub, f->call, true);
  sub->add_flag("--json", f->json, "print the result of ls/stat/mkdir/remove/rename as JSON");
  sub->add_flag("--exclusive", f->exclusive, "write: fail if the file exists");
  sub->add_flag("--no-truncate", f->no_truncate, "write: overwrite in place instead of truncating");
  sub->add_flag("-p,--recursive", f->recursive, "mkdir: create parents; remove: a whole tree");
  sub->add_option("--offset", f->offset, "read: start at this byte; write: put the data here (a file larger "
                                         "than one call carries goes in ranges)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option_function<int64_t>(
         "--length", [f](const int64_t& n) { f->length = n; }, "read: at most this many bytes")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("op", f->op, "read|write|ls|stat|mkdir|remove|rename")
      ->required()
      ->check(CLI::IsMember(std::vector<std::string>(EnumNames<FsOpKind>::names.begin(), EnumNames<FsOpKind>::names.end())));
  sub->add_option("paths", f->paths, "PATH (rename: FROM TO)")->required();
  sub->callback([f] { run(*f); });
});

}  // namespace
}  // namespace clawjail::cli
