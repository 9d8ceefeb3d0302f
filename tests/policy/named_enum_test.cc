// Typed words and their stable strings (base/named_enum.h): every name reads back as its value,
// and nothing else reads as any value.
#include "base/named_enum.h"

#include <gtest/gtest.h>

#include <sstream>

#include "base/run_status.h"
#include "base/verdict.h"

namespace clawjail {
namespace {

template <NamedEnum E>
void expect_round_trip() {
  for (size_t i = 0; i < EnumNames<E>::names.size(); ++i) {
    const auto value = static_cast<E>(i);
    EXPECT_EQ(from_name<E>(name_of(value)), value) << name_of(value);
    std::ostringstream out;
    out << value;
    EXPECT_EQ(out.str(), name_of(value));
  }
}

TEST(NamedEnum, EveryNameReadsBackAsItsValue) {
  expect_round_trip<Verdict>();
  expect_round_trip<RunStatus>();
}

TEST(NamedEnum, ReadingIsStrict) {
  EXPECT_EQ(from_name<Verdict>("allowed"), Verdict::allowed);
  EXPECT_EQ(from_name<Verdict>("Allowed"), std::nullopt);
  EXPECT_EQ(from_name<Verdict>("allowed "), std::nullopt);
  EXPECT_EQ(from_name<Verdict>(""), std::nullopt);
  EXPECT_EQ(from_name<Verdict>(std::string_view("allowed\0x", 9)), std::nullopt);
  EXPECT_EQ(from_name<RunStatus>("blocked"), std::nullopt) << "a verdict is not a run status";
}

}  // namespace
}  // namespace clawjail
