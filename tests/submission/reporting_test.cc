// Unit tests of reporting status (on time / late / missing / not due).
#include "services/submission/reporting.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/clock/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/submission/sqlite_store.h"
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

// Town-level figures (area codes below the district): a unit that reported
// an indicator's figure for every town, for the district itself, or for
// only some towns has reported it for the year. Reporting status answers
// "did the unit submit its figures, on time", not "is the district's figure
// whole": that is aggregation's coverage (a district figure combined from
// some towns is incomplete, 数据不完整, and is not assessed). So a unit that
// reported one town is not late (no late-data warning), and its partial
// figure is shown as partial, never as the district's. Through a real SQLite
// store: what it records per write is what counts.
TEST(ReportingTest, TownFiguresReportTheIndicatorEvenForSomeTownsOnly) {
  auto catalog = TestCatalog();
  const std::string dir =
      (std::filesystem::temp_directory_path() /
       absl::StrCat("reporting-towns-", getpid(), "-", absl::ToUnixNanos(absl::Now())))
          .string();
  std::filesystem::create_directories(dir);
  FakeClock clock(Local(2024, 12, 1));  // before the 31 December due date
  SqliteSubmissionStore::Options o;
  o.path = dir + "/submission.db";
  o.clock = &clock;
  auto store = SqliteSubmissionStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status();
  auto write = [&](const std::string& id, std::vector<v1::DataValue> values) {
    WriteRequest r;
    r.principal = "health";
    r.request_id = id;
    r.payload_hash = id;
    for (auto& v : values) {
      v.mutable_key()->set_sex(v1::SEX_TOTAL);
      v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
      r.values.push_back({v, "HEALTH_BUREAU"});
    }
    auto reply = (*store)->WriteAndWait(std::move(r));
    ASSERT_TRUE(reply.ok()) << reply.status();
  };
  using testing::Fraction;
  using testing::Number;
  // HEALTH-01: one of the district's two towns (陈仓镇) only.
  write("some-towns", {Fraction("HEALTH-01", 2024, 2, 20000, "610303100")});
  // HEALTH-02 (shared with EDU_BUREAU): every town, no district figure.
  write("every-town", {Fraction("HEALTH-02", 2024, 50, 100, "610303001"),
                       Fraction("HEALTH-02", 2024, 40, 100, "610303100")});
  // HEALTH-03: the district itself.
  write("district", {Number("HEALTH-03", 2024, 3)});
  // HEALTH-04: a town, but another year: 2024 stays unreported.
  write("other-year", {Number("HEALTH-04", 2023, 70, "610303100")});

  auto times = (*store)->ListReportingTimes(2024);
  ASSERT_TRUE(times.ok()) << times.status();
  auto status = ComputeReportingStatus(*catalog, 2024, {}, Local(2025, 3, 1), *times);
  ASSERT_TRUE(status.ok()) << status.status();
  std::map<std::pair<std::string, std::string>, v1::ReportingState> state;
  for (const auto& e : status->entries()) {
    state[{e.unit_code(), e.indicator_id()}] = e.state();
  }
  EXPECT_EQ(state[std::make_pair(std::string("HEALTH_BUREAU"), std::string("HEALTH-01"))],
            v1::REPORTING_STATE_ON_TIME);
  EXPECT_EQ(state[std::make_pair(std::string("HEALTH_BUREAU"), std::string("HEALTH-02"))],
            v1::REPORTING_STATE_ON_TIME);
  EXPECT_EQ(state[std::make_pair(std::string("EDU_BUREAU"), std::string("HEALTH-02"))],
            v1::REPORTING_STATE_ON_TIME);
  EXPECT_EQ(state[std::make_pair(std::string("HEALTH_BUREAU"), std::string("HEALTH-03"))],
            v1::REPORTING_STATE_ON_TIME);
  EXPECT_EQ(state[std::make_pair(std::string("HEALTH_BUREAU"), std::string("HEALTH-04"))],
            v1::REPORTING_STATE_MISSING);
  store->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(ReportingTest, UnknownUnitIsInvalidArgument) {
  auto catalog = TestCatalog();
  auto status = ComputeReportingStatus(*catalog, 2024, {"NOPE"}, Local(2025, 3, 1), {});
  EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace halfsky::submission
