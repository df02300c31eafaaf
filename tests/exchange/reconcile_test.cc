// The pure half of reporting upward (services/exchange/reconcile.h).

#include "services/exchange/reconcile.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/exchange/exchanger.h"

namespace halfsky::exchange {
namespace {

namespace v1 = ::halfsky::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

v1::Indicator Ind(const std::string& id, v1::IndicatorKind kind, const std::string& code) {
  v1::Indicator ind;
  ind.set_id(id);
  ind.set_kind(kind);
  ind.set_statistic_code(code);
  return ind;
}

// Options that would make the loop spin (a zero interval) or never retry
// are refused, naming the flag; the defaults pass.
TEST(ExchangerOptionsTest, RefusesSettingsThatWouldSpinOrNeverRetry) {
  EXPECT_TRUE(ValidateExchangerOptions({}).ok());
  auto refused = [](auto change) {
    ExchangerOptions o;
    change(o);
    return ValidateExchangerOptions(o);
  };
  const absl::Status zero = refused([](ExchangerOptions& o) { o.interval = absl::ZeroDuration(); });
  EXPECT_EQ(zero.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(zero.message(), ::testing::HasSubstr("--interval"));
  EXPECT_THAT(refused([](ExchangerOptions& o) { o.retry_min = -absl::Seconds(1); }).message(),
              ::testing::HasSubstr("--retry_min"));
  EXPECT_THAT(refused([](ExchangerOptions& o) { o.call_timeout = absl::ZeroDuration(); }).message(),
              ::testing::HasSubstr("--call_timeout"));
  EXPECT_THAT(refused([](ExchangerOptions& o) { o.retry_max = absl::Seconds(1); }).message(),
              ::testing::HasSubstr("--retry_max"));
  EXPECT_THAT(refused([](ExchangerOptions& o) {
                o.from_year = 2025;
                o.to_year = 2024;
              }).message(),
              ::testing::HasSubstr("--from_year"));
  EXPECT_FALSE(refused([](ExchangerOptions& o) { o.to_year = -1; }).ok());
  EXPECT_TRUE(refused([](ExchangerOptions& o) {
                o.from_year = 2024;
                o.to_year = 2024;
              }).ok());
}

TEST(MapIndicatorsTest, MapsByStatisticCodeAndKind) {
  v1::Catalog lower, upper;
  *lower.add_indicators() = Ind("WB-MMR", v1::INDICATOR_KIND_RATE, "MMR");
  *lower.add_indicators() = Ind("WB-X", v1::INDICATOR_KIND_COUNT, "SCREEN");
  *lower.add_indicators() = Ind("WB-NONE", v1::INDICATOR_KIND_RATE, "");
  *lower.add_indicators() = Ind("WB-NARR", v1::INDICATOR_KIND_QUALITATIVE, "NARR");
  *lower.add_indicators() = Ind("WB-LOST", v1::INDICATOR_KIND_RATE, "NOWHERE");
  *upper.add_indicators() = Ind("HEALTH-01", v1::INDICATOR_KIND_RATE, "MMR");
  upper.mutable_indicators(0)->add_required_disaggregations(v1::DISAGGREGATION_RESIDENCE);
  *upper.add_indicators() = Ind("HEALTH-02", v1::INDICATOR_KIND_PROPORTION, "SCREEN");
  *upper.add_indicators() = Ind("HEALTH-N", v1::INDICATOR_KIND_QUALITATIVE, "NARR");
  const Mappings m = MapIndicators(lower, upper);
  ASSERT_THAT(m.indicators, SizeIs(1));
  EXPECT_EQ(m.indicators[0].lower_id, "WB-MMR");
  EXPECT_EQ(m.indicators[0].upper_id, "HEALTH-01");
  EXPECT_TRUE(m.indicators[0].by_residence);
  EXPECT_FALSE(m.indicators[0].by_sex);
  ASSERT_THAT(m.skipped, SizeIs(2));
  EXPECT_THAT(m.skipped[0], HasSubstr("kinds differ"));
  EXPECT_THAT(m.skipped[1], HasSubstr("no such statistic_code"));
}

v1::SeriesPoint Point(int year, double num, double den) {
  v1::SeriesPoint p;
  p.set_year(year);
  p.set_numerator(num);
  p.set_denominator(den);
  p.set_value(num / den * 100000);
  return p;
}

const IndicatorMapping kMmr{"WB-MMR", "HEALTH-01", v1::INDICATOR_KIND_RATE, /*by_sex=*/false,
                            /*by_residence=*/true};

v1::GetSeriesResponse Series(v1::Sex sex, v1::Residence residence,
                             std::vector<v1::SeriesPoint> points) {
  v1::GetSeriesResponse s;
  s.set_indicator_id("WB-MMR");
  s.set_sex(sex);
  s.set_residence(residence);
  for (auto& p : points) {
    *s.add_points() = p;
  }
  return s;
}

TEST(AddSeriesTest, EveryCellOnItsOwnKeyIncompleteLeftOutUnapprovedHeld) {
  LowerFigures lower;
  v1::SeriesPoint incomplete = Point(2021, 1, 100);
  incomplete.set_incomplete(true);
  v1::SeriesPoint unapproved = Point(2022, 1, 100);
  unapproved.set_contains_unapproved_data(true);
  AddSeries(
      kMmr, "610302",
      Series(v1::SEX_TOTAL, v1::RESIDENCE_ALL, {Point(2020, 2, 20000), incomplete, unapproved}),
      ApprovalRule::kApproved, "src", "note", &lower);
  AddSeries(kMmr, "610302", Series(v1::SEX_TOTAL, v1::RESIDENCE_RURAL, {Point(2020, 1, 5000)}),
            ApprovalRule::kApproved, "src", "note", &lower);
  ASSERT_THAT(lower.eligible, SizeIs(2));
  const Figure& all = lower.eligible.at({"HEALTH-01", 2020, v1::SEX_TOTAL, v1::RESIDENCE_ALL});
  EXPECT_EQ(all.value.key().area_code(), "610302");
  EXPECT_EQ(all.value.fraction().numerator(), 2);
  EXPECT_EQ(all.value.fraction().denominator(), 20000);
  EXPECT_EQ(all.value.source(), "src");
  EXPECT_EQ(all.source_indicator_id, "WB-MMR");
  EXPECT_EQ(lower.eligible.at({"HEALTH-01", 2020, v1::SEX_TOTAL, v1::RESIDENCE_RURAL})
                .value.fraction()
                .denominator(),
            5000);
  EXPECT_THAT(lower.held, SizeIs(1));

  // A breakdown the upper indicator does not take stays below.
  IndicatorMapping total_only = kMmr;
  total_only.by_residence = false;
  LowerFigures totals;
  AddSeries(total_only, "610302", Series(v1::SEX_TOTAL, v1::RESIDENCE_RURAL, {Point(2020, 1, 50)}),
            ApprovalRule::kApproved, "src", "note", &totals);
  AddSeries(total_only, "610302", Series(v1::SEX_FEMALE, v1::RESIDENCE_ALL, {Point(2020, 1, 50)}),
            ApprovalRule::kApproved, "src", "note", &totals);
  EXPECT_THAT(totals.eligible, IsEmpty());
  EXPECT_FALSE(Takes(total_only, v1::SEX_TOTAL, v1::RESIDENCE_URBAN));
  EXPECT_TRUE(Takes(total_only, v1::SEX_UNSPECIFIED, v1::RESIDENCE_UNSPECIFIED));
  EXPECT_EQ(lower.held.count({"HEALTH-01", 2022, v1::SEX_TOTAL, v1::RESIDENCE_ALL}), 1u);

  LowerFigures complete;
  AddSeries(kMmr, "610302", Series(v1::SEX_TOTAL, v1::RESIDENCE_ALL, {unapproved}),
            ApprovalRule::kComplete, "src", "note", &complete);
  EXPECT_THAT(complete.eligible, SizeIs(1));
  EXPECT_THAT(complete.held, IsEmpty());
}

v1::Revision Upper(const Figure& f, int64_t revision) {
  v1::Revision r;
  *r.mutable_data_value() = f.value;
  r.set_revision(revision);
  return r;
}

TEST(PlanBatchesTest, SendsOnlyTheDifferenceWithdrawsWhatIsGoneKeepsWhatIsHeld) {
  LowerFigures lower;
  v1::SeriesPoint unapproved = Point(2023, 1, 100);
  unapproved.set_contains_unapproved_data(true);
  AddSeries(kMmr, "610302",
            Series(v1::SEX_TOTAL, v1::RESIDENCE_ALL,
                   {Point(2020, 2, 20000), Point(2021, 3, 20000), unapproved}),
            ApprovalRule::kApproved, "src", "note", &lower);
  const Figure same = lower.eligible.at({"HEALTH-01", 2020, v1::SEX_TOTAL, v1::RESIDENCE_ALL});
  Figure old = lower.eligible.at({"HEALTH-01", 2021, v1::SEX_TOTAL, v1::RESIDENCE_ALL});
  old.value.mutable_fraction()->set_numerator(9);
  Figure gone = same;
  gone.value.mutable_key()->set_year(2024);
  Figure held = same;
  held.value.mutable_key()->set_year(2023);
  Figure other_area = same;
  other_area.value.mutable_key()->set_area_code("610303");
  const std::vector<v1::Revision> upper = {Upper(same, 1), Upper(old, 1), Upper(gone, 2),
                                           Upper(held, 1), Upper(other_area, 1)};
  const Plan plan = PlanBatches("610302", lower, upper, {kMmr});
  EXPECT_EQ(plan.in_sync_count, 1);
  ASSERT_THAT(plan.batches, SizeIs(2));
  EXPECT_EQ(plan.batches[0].year, 2021);
  EXPECT_FALSE(plan.batches[0].withdraw);
  ASSERT_THAT(plan.batches[0].figures, SizeIs(1));
  EXPECT_EQ(plan.batches[0].figures[0].value.fraction().numerator(), 3);
  EXPECT_EQ(plan.batches[1].year, 2024);
  EXPECT_TRUE(plan.batches[1].withdraw);
  EXPECT_THAT(plan.batches[1].request_id, HasSubstr("exchange-610302-2024-w-"));

  // Deterministic: the same difference gives the same ids (a resend
  // replays); another upper revision (A→B→A) gives another id.
  const Plan again = PlanBatches("610302", lower, upper, {kMmr});
  EXPECT_EQ(again.batches[0].request_id, plan.batches[0].request_id);
  std::vector<v1::Revision> moved = upper;
  moved[1].set_revision(2);
  const Plan after = PlanBatches("610302", lower, moved, {kMmr});
  EXPECT_NE(after.batches[0].request_id, plan.batches[0].request_id);
}

TEST(PlanBatchesTest, SplitsLargeDifferences) {
  LowerFigures lower;
  std::vector<v1::SeriesPoint> points;
  for (int year = 2020; year <= 2020; ++year) {
    points.push_back(Point(year, 1, 100));
  }
  for (v1::Residence r : {v1::RESIDENCE_ALL, v1::RESIDENCE_URBAN, v1::RESIDENCE_RURAL}) {
    AddSeries(kMmr, "610302", Series(v1::SEX_TOTAL, r, points), ApprovalRule::kApproved, "s", "n",
              &lower);
  }
  const Plan plan = PlanBatches("610302", lower, {}, {kMmr}, /*max_batch=*/2);
  ASSERT_THAT(plan.batches, SizeIs(2));
  EXPECT_THAT(plan.batches[0].figures, SizeIs(2));
  EXPECT_THAT(plan.batches[1].figures, SizeIs(1));
  EXPECT_NE(plan.batches[0].request_id, plan.batches[1].request_id);
}

TEST(ApprovalRuleTest, Parses) {
  EXPECT_EQ(*ParseApprovalRule("approved"), ApprovalRule::kApproved);
  EXPECT_EQ(*ParseApprovalRule("complete"), ApprovalRule::kComplete);
  EXPECT_FALSE(ParseApprovalRule("all").ok());
}

}  // namespace
}  // namespace halfsky::exchange
