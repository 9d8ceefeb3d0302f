// File operations run inside a file-tool jail: once (FsCall) or one after another by a file
// worker that lives across the operations of one job (FsWorker).
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

// One operation as the jail's worker reads it: fixed-size, so that the worker (a copy of the
// supervisor's memory made after a clone in a multi-threaded process) never allocates (steps.h).
struct FsRequest {
  FsOpKind op = FsOpKind::stat;
  int32_t path_count = 0;
  char paths[2][4096] = {};
  bool create = true, truncate = true, exclusive = false, recursive = false;
  int64_t offset = 0, length = -1;  // FsOp's; -1: no length
};
// The checks every operation passes before a jail sees it; then its fixed-size form.
Status validate_fs_op(const FsOp& op, const JailSpec& spec);
void fs_request_of(const FsOp& validated, FsRequest& out);
// What the worker sent for a successful operation, and what a failed one means to the caller.
FsResult fs_result_of(const FsOp& op, const std::vector<Msg>& msgs);
Error fs_op_error(const FsOp& op, const Error& e);
// What a read may relay: never more than its length, whatever the worker sends.
int64_t read_cap(const FsOp& op, int64_t output_bytes);

// Runs `req` on /workspace, reading write's data from `data_fd` and streaming read's to it;
// entries and the end (fs_done, or `failed` with the errno) go to `report_fd`.
void serve_one(int ws, const FsRequest& req, int data_fd, int report_fd);
[[noreturn]] void run_fs_worker(const FsRequest& req, int report_fd);
// The file worker: operations arrive on `channel` (one FsRequest with its data descriptor per
// message), each answered there; it ends when the supervisor closes its end.
[[noreturn]] void serve_fs_requests(int channel);

}  // namespace clawjail::sandbox::detail
