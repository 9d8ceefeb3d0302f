// The file tools (docs/protocol.md, "Request": the `fs` object). Typed inside clawjail; the names
// appear only at the edges: the protocol's JSON, the command line, receipts.
#pragma once
#include <cstddef>

#include "base/named_enum.h"

namespace clawjail {

enum class FsOpKind { read, write, ls, stat, mkdir, remove, rename };
template <>
struct EnumNames<FsOpKind> {
  static constexpr std::array<std::string_view, 7> names{"read", "write", "ls", "stat", "mkdir", "remove", "rename"};
};

// rename takes a source and a target; every other file tool one path.
constexpr size_t path_count(FsOpKind op) { return op == FsOpKind::rename ? 2 : 1; }

}  // namespace clawjail
