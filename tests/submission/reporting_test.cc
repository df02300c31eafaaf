// Unit tests of reporting status (on time / late / missing / not due).
#include "services/submission/reporting.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/submission/test_util.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::TestCatalog;

absl::Time Local(int y, int m, int d) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, 12, 0, 0), absl::FixedTimeZone(8 * 3600));
}

TEST(ReportingTest, OnTimeLateMissingAndNotDue) {
  auto catalog = TestCatalog();
  std::vector<ReportingTimes> times = {
      {"HEALTH_BUREAU", "HEALTH-01", 2024, Local(2024, 12, 1), Local(2025, 2, 1)},   // on time
      {"HEALTH_BUREAU", "HEALTH-02", 2024, Local(2025, 1, 5), Local(2025, 1, 5)},    // late
      {"HEALTH_BUREAU", "HEALTH-05", 2024, Local(2024, 11, 1), Local(2024, 11, 1)},  // on time
  };
  auto status = ComputeReportingStatus(*catalog, 2024, {"HEALTH_BUREAU"}, Local(2025, 3, 1), times);
  ASSERT_TRUE(status.ok()) << status.status();
  std::map<std::string, v1::ReportingState> state;
  for (const auto& e : status->entries()) {
    state[e.indicator_id()] = e.state();
  }
  EXPECT_EQ(state["HEALTH-01"], v1::REPORTING_STATE_ON_TIME);
  EXPECT_EQ(state["HEALTH-02"], v1::REPORTING_STATE_LATE);
  EXPECT_EQ(state["HEALTH-03"], v1::REPORTING_STATE_MISSING);
  EXPECT_EQ(state["HEALTH-04"], v1::REPORTING_STATE_MISSING);
  EXPECT_EQ(state["HEALTH-05"], v1::REPORTING_STATE_ON_TIME);  // qualitative counts too
  EXPECT_EQ(state.count("HEALTH-06"), 0u);
  ASSERT_EQ(status->units_size(), 1);
  EXPECT_EQ(status->units(0).expected_count(), 5);
  EXPECT_EQ(status->units(0).reported_count(), 3);
  EXPECT_EQ(status->units(0).on_time_count(), 2);
  EXPECT_DOUBLE_EQ(status->units(0).completeness_percent(), 60.0);
  EXPECT_DOUBLE_EQ(status->units(0).timeliness_percent(), 40.0);
  EXPECT_EQ(status->overall().expected_count(), 5);
}

TEST(ReportingTest, NotDueBeforeTheDueDateAndNotExpected) {
  auto catalog = TestCatalog();
  auto status = ComputeReportingStatus(*catalog, 2025, {}, Local(2025, 6, 1), {});
  ASSERT_TRUE(status.ok());
  for (const auto& e : status->entries()) {
    EXPECT_EQ(e.state(), v1::REPORTING_STATE_NOT_DUE) << e.indicator_id();
  }
  EXPECT_EQ(status->units_size(), 2);  // every member unit
  EXPECT_EQ(status->overall().expected_count(), 0);
  EXPECT_DOUBLE_EQ(status->overall().completeness_percent(), 0.0);
}

TEST(ReportingTest, SubmissionsAfterAsOfDoNotCount) {
  auto catalog = TestCatalog();
  std::vector<ReportingTimes> times = {
      {"EDU_BUREAU", "HEALTH-06", 2024, Local(2025, 5, 1), Local(2025, 5, 1)}};
  auto status = ComputeReportingStatus(*catalog, 2024, {"EDU_BUREAU"}, Local(2025, 3, 1), times);
  ASSERT_TRUE(status.ok());
  for (const auto& e : status->entries()) {
    EXPECT_EQ(e.state(), v1::REPORTING_STATE_MISSING);
  }
}

// Issue #12 item 3: one figure from any responsible unit reports the
// indicator for all of them; narratives stay each unit's own.
TEST(ReportingTest, AFigureFromAnyResponsibleUnitReportsItForAll) {
  auto catalog = TestCatalog();
  std::vector<ReportingTimes> times = {
      // HEALTH-02 (HEALTH_BUREAU + EDU_BUREAU), a figure, by EDU_BUREAU.
      {"EDU_BUREAU", "HEALTH-02", 2024, Local(2025, 1, 10), Local(2025, 2, 1)},
      // HEALTH-05 (the same two), a narrative, by EDU_BUREAU only.
      {"EDU_BUREAU", "HEALTH-05", 2024, Local(2024, 12, 1), Local(2024, 12, 1)},
  };
  auto status = ComputeReportingStatus(*catalog, 2024, {}, Local(2025, 3, 1), times);
  ASSERT_TRUE(status.ok()) << status.status();
  std::map<std::pair<std::string, std::string>, const v1::ReportingStatusEntry*> entry;
  for (const auto& e : status->entries()) {
    entry[{e.unit_code(), e.indicator_id()}] = &e;
  }
  const auto* health = entry.at({"HEALTH_BUREAU", "HEALTH-02"});
  EXPECT_EQ(health->state(), v1::REPORTING_STATE_LATE);  // 10 January, after 31 December
  EXPECT_EQ(health->first_submitted_at().seconds(), absl::ToUnixSeconds(Local(2025, 1, 10)));
  EXPECT_EQ(health->last_submitted_at().seconds(), absl::ToUnixSeconds(Local(2025, 2, 1)));
  EXPECT_EQ(entry.at({"EDU_BUREAU", "HEALTH-02"})->state(), v1::REPORTING_STATE_LATE);
  EXPECT_EQ(entry.at({"HEALTH_BUREAU", "HEALTH-05"})->state(), v1::REPORTING_STATE_MISSING);
  EXPECT_EQ(entry.at({"EDU_BUREAU", "HEALTH-05"})->state(), v1::REPORTING_STATE_ON_TIME);
}

TEST(ReportingTest, UnknownUnitIsInvalidArgument) {
  auto catalog = TestCatalog();
  auto status = ComputeReportingStatus(*catalog, 2024, {"NOPE"}, Local(2025, 3, 1), {});
  EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace halfsky::submission
