// Partial figures (below the coverage threshold) and published rates in the
// evaluation method (issue #12 items 1 and 2).

#include "services/evaluation/method/coverage.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/evaluation/method/method.h"

namespace halfsky::evaluation {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::Indicator MaternalMortality() {
  v1::Indicator ind;
  ind.set_id("HEALTH-02");
  ind.set_name_zh("孕产妇死亡率");
  ind.set_name_en("Maternal mortality ratio");
  ind.set_kind(v1::INDICATOR_KIND_RATE);
  ind.set_unit("/10万");
  ind.set_multiplier(100000);
  ind.set_rare_event_threshold(20);
  v1::Target* t = ind.add_targets();
  t->set_comparator(v1::COMPARATOR_AT_MOST);
  t->set_year(2030);
  t->set_value(10.15);
  v1::Target* gap = ind.add_targets();
  gap->set_comparator(v1::COMPARATOR_NARROW_GAP);
  gap->set_year(2030);
  gap->set_gap_dimension(v1::GAP_DIMENSION_RESIDENCE);
  return ind;
}

YearPoint Part(int year, double num, double den, int contributing, int expected) {
  YearPoint p;
  p.year = year;
  p.numerator = num;
  p.denominator = den;
  p.value = num / den * 100000;
  p.incomplete = true;
  p.contributing_areas = contributing;
  p.expected_areas = expected;
  return p;
}

YearPoint Whole(int year, double num, double den) {
  YearPoint p;
  p.year = year;
  p.numerator = num;
  p.denominator = den;
  p.value = num / den * 100000;
  p.expected_areas = 11;
  p.contributing_areas = 11;
  return p;
}

YearPoint PublishedPoint(int year, double value) {
  YearPoint p;
  p.year = year;
  p.value = value;
  p.published = true;
  return p;
}

MethodOptions DistrictWords() {
  MethodOptions o;
  o.child_areas_zh = "镇街";
  o.area_whole_zh = "全区";
  return o;
}

IndicatorEvaluation Evaluate(const v1::Indicator& ind, const SeriesSet& set,
                             const MethodOptions& options) {
  absl::StatusOr<IndicatorEvaluation> e = EvaluateIndicator(ind, set, options);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? *e : IndicatorEvaluation();
}

// The case: one town's deaths (1 in 731 births, 2 in 688) were the
// district's maternal mortality: 136.8 and 290.7 per 100 000, a red
// 逆向变化 "2030年预计为5000.3/10万". They are parts: 数据不完整, no warning.
TEST(CoverageTest, OnlyPartialPointsAreDataIncompleteWithoutWarning) {
  SeriesSet set;
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL, {Part(2023, 1, 731, 1, 11), Part(2025, 2, 688, 1, 11)});
  const IndicatorEvaluation e = Evaluate(MaternalMortality(), set, DistrictWords());
  ASSERT_EQ(e.assessments.size(), 2u);
  const Assessment& a = e.assessments[0];
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_DATA_INCOMPLETE);
  EXPECT_EQ(a.reason, NotAssessableReason::kDataIncomplete);
  EXPECT_FALSE(a.warns());
  EXPECT_EQ(a.severity, v1::SEVERITY_UNSPECIFIED);
  EXPECT_FALSE(a.figures.has_current_value());
  EXPECT_FALSE(a.figures.has_projected_value());
  EXPECT_DOUBLE_EQ(a.figures.target_value(), 10.15);
  EXPECT_EQ(a.explanation_zh,
            "孕产妇死亡率2023、2025年仅有部分镇街报送（2023年仅1/11个镇街报送，2025年仅1/11个"
            "镇街报送），不能作为全区数值：数据不完整，暂无法评估进展。");
  EXPECT_THAT(a.explanation_en, HasSubstr("only 1 of 11 child areas reported"));
  EXPECT_THAT(a.explanation_zh, Not(HasSubstr("5000")));
  EXPECT_THAT(a.explanation_zh, Not(HasSubstr("136.8")));
  // The gap target has no urban/rural series at all: not the coverage's
  // business, and not "缺少城镇或农村的数据" for one of two either.
  EXPECT_EQ(e.assessments[1].status, v1::PROGRESS_STATUS_NOT_ASSESSABLE);
  EXPECT_THAT(e.assessments[1].explanation_zh, Not(HasSubstr("缺少城镇或农村")));
  // No fluctuation from parts.
  EXPECT_FALSE(e.fluctuation.warns);
  EXPECT_THAT(e.fluctuation.explanation_zh, HasSubstr("未作波动检验"));
}

// Complete years carry the assessment; the partial years are left out and
// the sentence says so.
TEST(CoverageTest, CompletePointsAreAssessedAndPartialOnesNamed) {
  SeriesSet set;
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL,
          {Whole(2020, 100, 100000), Whole(2021, 90, 100000), Whole(2022, 80, 100000),
           Part(2023, 1, 731, 1, 11)});
  const IndicatorEvaluation e = Evaluate(MaternalMortality(), set, DistrictWords());
  const Assessment& a = e.assessments[0];
  EXPECT_NE(a.status, v1::PROGRESS_STATUS_DATA_INCOMPLETE);
  EXPECT_EQ(a.figures.current_year(), 2022);
  EXPECT_DOUBLE_EQ(a.figures.current_value(), 80);
  EXPECT_THAT(a.explanation_zh,
              HasSubstr("（2023年数据不完整（2023年仅1/11个镇街报送），未计入评估。）"));
  EXPECT_EQ(e.fluctuation.figures.current_year(), 2022);
}

// Without the coverage the same points would have been the district's: the
// test would fail if EvaluateIndicator stopped filtering.
TEST(CoverageTest, WithoutTheFlagTheSamePointsWouldWarn) {
  YearPoint a = Part(2023, 1, 731, 1, 11);
  YearPoint b = Part(2025, 2, 688, 1, 11);
  a.incomplete = b.incomplete = false;
  v1::Indicator ind = MaternalMortality();
  ind.set_rare_event_threshold(1);  // not rare: single-year values
  SeriesSet set;
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL, {a, b});
  const IndicatorEvaluation e = Evaluate(ind, set, DistrictWords());
  EXPECT_EQ(e.assessments[0].status, v1::PROGRESS_STATUS_MOVING_AWAY);
  SeriesSet flagged;
  flagged.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL,
              {Part(2023, 1, 731, 1, 11), Part(2025, 2, 688, 1, 11)});
  EXPECT_EQ(Evaluate(ind, flagged, DistrictWords()).assessments[0].status,
            v1::PROGRESS_STATUS_DATA_INCOMPLETE);
}

TEST(CoverageTest, PartialPointsAfterAsOfYearAreNotNamed) {
  SeriesSet set;
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL, {Part(2025, 2, 688, 1, 11)});
  MethodOptions o = DistrictWords();
  o.as_of_year = 2024;
  const Assessment a = Evaluate(MaternalMortality(), set, o).assessments[0];
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_NOT_ASSESSABLE);
  EXPECT_THAT(a.explanation_zh, Not(HasSubstr("2025")));
}

// Issue #12 item 2: a yearbook's 13.2/10万 without counts is evaluated as
// 13.2, never pooled as 13.2 rare events.
TEST(PublishedRateTest, EvaluatedAsPublishedNeverPooled) {
  SeriesSet set;
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL,
          {PublishedPoint(2020, 16.9), PublishedPoint(2024, 13.2)});
  const IndicatorEvaluation e = Evaluate(MaternalMortality(), set, DistrictWords());
  const Assessment& a = e.assessments[0];
  EXPECT_FALSE(a.pooled);
  EXPECT_FALSE(a.figures.few_events());
  EXPECT_FALSE(a.figures.has_interval());
  EXPECT_EQ(a.figures.current_year(), 2024);
  EXPECT_DOUBLE_EQ(a.figures.current_value(), 13.2);
  EXPECT_DOUBLE_EQ(a.figures.base_value(), 16.9);
  EXPECT_THAT(a.explanation_zh, HasSubstr("孕产妇死亡率2024年为13.2/10万"));
  EXPECT_THAT(a.explanation_zh,
              HasSubstr("（2020、2024年为公布数，按公布值评估，不按事件数合并。）"));
  EXPECT_THAT(a.explanation_zh, Not(HasSubstr("事件数少")));
}

// Counts for some years, published rates for others: the published years
// have no count, so nothing is pooled (pooling would silently drop them).
TEST(PublishedRateTest, MixedSeriesIsAssessedOnSingleYearValues) {
  SeriesSet set;
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL,
          {Whole(2020, 1, 3100), Whole(2021, 0, 3000), Whole(2022, 2, 2950),
           PublishedPoint(2023, 30.0), PublishedPoint(2024, 13.2)});
  const Assessment a = Evaluate(MaternalMortality(), set, DistrictWords()).assessments[0];
  EXPECT_FALSE(a.pooled);
  EXPECT_FALSE(a.figures.few_events());
  EXPECT_EQ(a.figures.current_year(), 2024);
  EXPECT_DOUBLE_EQ(a.figures.current_value(), 13.2);
  EXPECT_THAT(a.explanation_zh,
              HasSubstr("（2023、2024年为公布数，按公布值评估，不按事件数合并。）"));
}

TEST(PublishedRateTest, OnePublishedYearIsTooFewYearsWithTheRightReason) {
  SeriesSet set;
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL, {PublishedPoint(2024, 13.2)});
  const IndicatorEvaluation e = Evaluate(MaternalMortality(), set, DistrictWords());
  EXPECT_EQ(e.assessments[0].status, v1::PROGRESS_STATUS_NOT_ASSESSABLE);
  EXPECT_EQ(e.assessments[0].reason, NotAssessableReason::kTooFewYears);
  EXPECT_THAT(e.assessments[0].explanation_zh, HasSubstr("仅有2024年一年数据（13.2/10万）"));
  EXPECT_THAT(e.assessments[0].explanation_zh, Not(HasSubstr("缺少城镇或农村")));
  EXPECT_THAT(e.assessments[1].explanation_zh, Not(HasSubstr("缺少城镇或农村")));
}

// The wrong reason: with urban and rural data both present but too few
// pooled windows, the gap target said "缺少城镇或农村的数据".
TEST(NarrowGapReasonTest, BothGroupsWithDataButTooFewPooledYears) {
  const v1::Indicator ind = MaternalMortality();
  Series urban = {Whole(2023, 1, 1500)};
  Series rural = {Whole(2023, 0, 1600)};
  absl::StatusOr<Assessment> a = AssessTarget(ind, ind.targets(1), urban, DistrictWords(), &rural);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->reason, NotAssessableReason::kTooFewPooledYears);
  EXPECT_THAT(a->explanation_zh, Not(HasSubstr("缺少城镇或农村")));
  EXPECT_THAT(a->explanation_zh, HasSubstr("合并"));
  // One group really missing keeps the reason.
  Series none;
  a = AssessTarget(ind, ind.targets(1), urban, DistrictWords(), &none);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->reason, NotAssessableReason::kNoComparisonSeries);
  EXPECT_THAT(a->explanation_zh, HasSubstr("缺少城镇或农村的数据"));
}

// Real small counts (a district: ≈ 3 000 births, 0–2 deaths a year) are
// still pooled with the exact Poisson interval.
TEST(PublishedRateTest, RealSmallCountsArePooledAsBefore) {
  SeriesSet set;
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL,
          {Whole(2020, 1, 3100), Whole(2021, 0, 3000), Whole(2022, 2, 2950), Whole(2023, 1, 2900),
           Whole(2024, 0, 2800)});
  const Assessment a = Evaluate(MaternalMortality(), set, DistrictWords()).assessments[0];
  EXPECT_TRUE(a.pooled);
  EXPECT_TRUE(a.figures.few_events());
  ASSERT_TRUE(a.figures.has_interval());
  EXPECT_DOUBLE_EQ(a.figures.event_count(), 3);
  EXPECT_EQ(a.figures.current_year(), 2024);
  EXPECT_NEAR(a.figures.current_value(), 3.0 / 8650 * 1e5, 1e-9);
}

TEST(CoverageTextTest, Sentences) {
  EXPECT_EQ(CoverageTextZh(Part(2023, 1, 731, 1, 5), DistrictWords()), "2023年仅1/5个镇街报送");
  EXPECT_EQ(CoverageTextEn(Part(2023, 1, 731, 1, 5)), "2023: only 1 of 5 child areas reported");
}

// Approval (issue #15 item 4): a point containing unapproved data is used
// and named (含未审核数据), or, with approved_only, left out like a part.
YearPoint Unapproved(YearPoint p) {
  p.unapproved = true;
  p.parts = 11;
  p.approved_parts = 4;
  return p;
}

TEST(ApprovalTest, UnapprovedPointsAreNamedOrLeftOut) {
  const v1::Indicator ind = MaternalMortality();
  SeriesSet set;
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL,
          {Whole(2020, 60, 3000), Whole(2021, 60, 3000), Unapproved(Whole(2022, 60, 3000)),
           Whole(2023, 60, 3000), Unapproved(Whole(2024, 90, 3000))});

  // Default: assessed on every point, and it says which years are unapproved.
  IndicatorEvaluation e = Evaluate(ind, set, DistrictWords());
  ASSERT_FALSE(e.assessments.empty());
  const Assessment& a = e.assessments[0];
  EXPECT_NE(a.status, v1::PROGRESS_STATUS_DATA_INCOMPLETE);
  EXPECT_EQ(a.unapproved_years, (std::vector<int>{2022, 2024}));
  EXPECT_THAT(a.explanation_zh, HasSubstr("（含未审核数据：2022、2024年。）"));
  EXPECT_THAT(a.explanation_en, HasSubstr("(contains unapproved data: 2022, 2024.)"));
  const v1::TargetAssessment proto = a.ToProto();
  EXPECT_TRUE(proto.contains_unapproved_data());
  EXPECT_EQ(proto.unapproved_years_size(), 2);
  EXPECT_THAT(e.fluctuation.explanation_zh, HasSubstr("含未审核数据"));

  // approved_only: 2022 and 2024 are left out; 2023 is the current year.
  MethodOptions only = DistrictWords();
  only.approved_only = true;
  e = Evaluate(ind, set, only);
  const Assessment& b = e.assessments[0];
  EXPECT_TRUE(b.unapproved_years.empty());
  EXPECT_EQ(b.figures.current_year(), 2023) << b.figures.ShortDebugString();
  EXPECT_THAT(b.explanation_zh,
              HasSubstr("2022年含未审核数据（已审核4/11项），按设置只评估已审核数据"));
  EXPECT_THAT(b.explanation_zh, HasSubstr("未计入评估"));
  EXPECT_FALSE(b.ToProto().contains_unapproved_data());

  // Nothing approved: 数据不完整, never assessed on a part.
  SeriesSet none;
  none.Put(v1::SEX_TOTAL, v1::RESIDENCE_ALL,
           {Unapproved(Whole(2020, 60, 3000)), Unapproved(Whole(2024, 90, 3000))});
  e = Evaluate(ind, none, only);
  EXPECT_EQ(e.assessments[0].status, v1::PROGRESS_STATUS_DATA_INCOMPLETE);
  EXPECT_THAT(e.assessments[0].explanation_zh,
              HasSubstr("未审核数据不纳入评估：数据不完整，暂无法评估进展。"));
  EXPECT_FALSE(e.assessments[0].figures.has_current_value());
}

}  // namespace
}  // namespace halfsky::evaluation
