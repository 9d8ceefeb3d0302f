// The one grammar of a job id, for requests, receipt logs and the OpenClaw plugin alike
// (packaging/openclaw-plugin/src/config.js matches it; tests/data/job_ids.json is the table
// both are tested against): 1-128 characters of [A-Za-z0-9._:@+-], not starting with "." or "-",
// never "..". Ids name files in the state directory and are passed as command-line arguments.
#pragma once
#include <string_view>

#include "base/reason.h"

namespace clawjail::policy {

Status check_job_id(std::string_view job_id);  // BAD_FIELD, saying what is wrong

}  // namespace clawjail::policy
