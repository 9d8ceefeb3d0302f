// The job-id grammar, from the table the OpenClaw plugin's test reads too (tests/data/job_ids.json):
// the supervisor, the receipt store and the plugin accept exactly the same ids.
#include <gtest/gtest.h>

#include "policy/job_id.h"
#include "policy/json.h"
#include "policy/strict_json.h"

namespace clawjail::policy {
namespace {

Json job_id_table() {
  auto table = parse_strict_json_file(std::string(CLAWJAIL_SOURCE_DIR) + "/tests/data/job_ids.json");
  EXPECT_TRUE(table.ok()) << table.error().detail;
  return table.ok() ? *table : Json::object();
}

TEST(JobId, TheSharedTableIsAcceptedAndRefusedAsWritten) {
  auto table = job_id_table();
  ASSERT_GE(table["valid"].size(), 5u);
  ASSERT_GE(table["invalid"].size(), 5u);
  for (const auto& id : table["valid"]) EXPECT_TRUE(check_job_id(id.get<std::string>()).ok()) << id;
  for (const auto& id : table["invalid"]) {
    auto s = check_job_id(id.get<std::string>());
    EXPECT_FALSE(s.ok()) << id;
    if (!s.ok()) {
      EXPECT_EQ(s.reason(), Reason::BAD_FIELD) << id;
    }
  }
}

}  // namespace
}  // namespace clawjail::policy
