// File tools without descriptors (docs/protocol.md, "Inline file tools"): a client that cannot
// pass descriptors (the OpenClaw plugin, from Node) sends a write's data in the request and gets a
// read's bytes in the answer. The supervisor makes the three descriptors itself, so the file tool
// runs exactly as with a client's: the same worker, relay, hashes and receipts.
#pragma once
#include <string>
#include <vector>

#include "base/reason.h"
#include "base/unique_fd.h"
#include "supervisor/proto/protocol.h"

namespace clawjail {

// Whether a call's descriptors fit its request: 3 for every call (stdin, stdout, stderr), or none
// for a file tool, whose write then carries fs.data_b64; data_b64 never comes with descriptors.
// An inline read asks for at most kMaxInlineBytes (without a length it gets that many).
Status check_call_descriptors(const proto::Request& request, size_t fds);

// stdin: a memfd holding a write's data (else /dev/null); stdout: a memfd for a read's bytes
// (else /dev/null); stderr: /dev/null.
Result<std::vector<UniqueFd>> inline_descriptors(const proto::FsArgs& fs);

// The bytes a read relayed into its stdout memfd: at most kMaxInlineBytes (its length capped it).
Result<std::string> inline_output(int stdout_memfd);

}  // namespace clawjail
