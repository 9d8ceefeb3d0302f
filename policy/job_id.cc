#include "policy/job_id.h"

#include <algorithm>
#include <string>

namespace clawjail::policy {
namespace {

constexpr size_t kMaxJobIdLength = 128;

bool job_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '@' || c == '+' || c == '-';
}

}  // namespace

Status check_job_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxJobIdLength)
    return fail(Reason::BAD_FIELD, "job id must be 1-" + std::to_string(kMaxJobIdLength) + " characters");
  if (!std::all_of(id.begin(), id.end(), job_id_char))
    return fail(Reason::BAD_FIELD, "job id may hold only letters, digits and . _ : @ + -");
  if (id.front() == '.' || id.front() == '-' || id.find("..") != std::string_view::npos)
    return fail(Reason::BAD_FIELD, "job id must not start with '.' or '-' or contain '..'");
  return ok_status();
}

}  // namespace clawjail::policy
