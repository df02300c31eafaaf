// Hand-computed cases for the evaluation method (DESIGN §5).

#include "services/evaluation/method/method.h"

#include <cmath>
#include <string>

#include "common/labels/labels.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/evaluation/method/explain.h"
#include "services/evaluation/method/poisson.h"

namespace halfsky::evaluation {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::Indicator MakeIndicator(v1::IndicatorKind kind, const std::string& name_zh,
                            const std::string& unit) {
  v1::Indicator ind;
  ind.set_id("TEST-01");
  ind.set_name_zh(name_zh);
  ind.set_name_en("Test indicator");
  ind.set_kind(kind);
  ind.set_unit(unit);
  if (kind == v1::INDICATOR_KIND_RATE) {
    ind.set_multiplier(100000);
  }
  return ind;
}

v1::Indicator Value(const std::string& unit = "") {
  return MakeIndicator(v1::INDICATOR_KIND_VALUE, "指标", unit);
}

v1::Indicator Proportion() { return MakeIndicator(v1::INDICATOR_KIND_PROPORTION, "女性比例", "%"); }

v1::Target MakeTarget(v1::Comparator cmp, int year, std::optional<double> value = std::nullopt) {
  v1::Target t;
  t.set_comparator(cmp);
  t.set_year(year);
  if (year == 0) {
    t.set_every_year(true);
  }
  if (value.has_value()) {
    t.set_value(*value);
  }
  return t;
}

Series Values(std::initializer_list<std::pair<int, double>> points) {
  Series s;
  for (const auto& [year, value] : points) {
    YearPoint p;
    p.year = year;
    p.value = value;
    s.push_back(p);
  }
  return s;
}

Assessment Assess(const v1::Indicator& ind, const v1::Target& target, const Series& series,
                  const MethodOptions& options = MethodOptions(), const Series* other = nullptr) {
  absl::StatusOr<Assessment> a = AssessTarget(ind, target, series, options, other);
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? *a : Assessment();
}

// --- The example sentence of the issue, reproduced from its inputs. ---

TEST(ExampleSentenceTest, MaternalMortalityReproducesTheIssueSentence) {
  v1::Indicator ind = MakeIndicator(v1::INDICATOR_KIND_RATE, "孕产妇死亡率", "/10万");
  ind.set_name_en("Maternal mortality ratio");
  v1::Target target = MakeTarget(v1::COMPARATOR_AT_MOST, 2030, 10.15);
  // Values only (no parts), so no rare-event pooling: CAGR 2020→2024 =
  // (14.3/16.9)^(1/4) − 1 = −4.09 %; projected 14.3·0.95910^6 = 11.13;
  // still needed (10.15/14.3)^(1/6) − 1 = −5.55 %;
  // P = 0.0409 / |(10.15/16.9)^(1/10) − 1| = 0.0409 / 0.0497 = 0.82.
  Assessment a = Assess(ind, target, Values({{2020, 16.9}, {2022, 15.8}, {2024, 14.3}}));
  EXPECT_EQ(a.explanation_zh,
            "孕产妇死亡率2024年为14.3/10万，按2020—2024年年均下降4.1%的速度，2030年预计为11.1/"
            "10万，达不到≤10.15/10万的目标，今后每年需下降5.6%。");
  EXPECT_EQ(a.explanation_en,
            "Maternal mortality ratio was 14.3 per 100,000 in 2024; at the 2020–2024 average "
            "annual decline of 4.1%, it is projected at 11.1 per 100,000 in 2030, short of the "
            "target ≤10.15 per 100,000; it must fall 5.6% a year from now on.");
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_NEEDS_ACCELERATION);
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_PROGRESS);
  EXPECT_EQ(a.severity, v1::SEVERITY_YELLOW);
  const double cagr = std::pow(14.3 / 16.9, 0.25) - 1;
  EXPECT_NEAR(a.figures.actual_annual_rate(), cagr, 1e-12);
  EXPECT_NEAR(a.figures.projected_value(), 14.3 * std::pow(1 + cagr, 6), 1e-9);
  EXPECT_NEAR(a.figures.required_annual_rate(), std::pow(10.15 / 14.3, 1.0 / 6) - 1, 1e-12);
  EXPECT_NEAR(a.figures.progress(), -cagr / std::fabs(std::pow(10.15 / 16.9, 0.1) - 1), 1e-12);
  EXPECT_NEAR(a.figures.progress(), 0.823, 5e-4);
  EXPECT_EQ(a.figures.base_year(), 2020);
  EXPECT_EQ(a.figures.current_year(), 2024);
  EXPECT_EQ(a.figures.target_year(), 2030);
  EXPECT_FALSE(a.base_year_substituted);
  EXPECT_FALSE(a.figures.few_events());
}

// --- Band edges. T − t0 = 2 and t − t0 = 1 make both CAGRs exact: with
// y0 = 100 and yT = 400, CAGR_needed = √4 − 1 = 1 and P = yt/100 − 1. ---

struct EdgeCase {
  double current;
  v1::ProgressStatus status;
  v1::Severity severity;
};

class HigherIsBetterEdgeTest : public ::testing::TestWithParam<EdgeCase> {};

TEST_P(HigherIsBetterEdgeTest, BandOfP) {
  const EdgeCase& c = GetParam();
  Assessment a = Assess(Value(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2022, 400),
                        Values({{2020, 100}, {2021, c.current}}));
  EXPECT_EQ(a.status, c.status) << "P=" << a.figures.progress();
  EXPECT_EQ(a.severity, c.severity);
  EXPECT_NEAR(a.figures.progress(), c.current / 100 - 1, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(
    Edges, HigherIsBetterEdgeTest,
    ::testing::Values(
        EdgeCase{195, v1::PROGRESS_STATUS_ON_TRACK, v1::SEVERITY_UNSPECIFIED},         // P = 0.95
        EdgeCase{194.9, v1::PROGRESS_STATUS_NEEDS_ACCELERATION, v1::SEVERITY_YELLOW},  // P = 0.949
        EdgeCase{160, v1::PROGRESS_STATUS_NEEDS_ACCELERATION, v1::SEVERITY_YELLOW},    // P = 0.6
        EdgeCase{159.9, v1::PROGRESS_STATUS_AT_RISK, v1::SEVERITY_ORANGE},             // 0.599
        EdgeCase{100, v1::PROGRESS_STATUS_AT_RISK, v1::SEVERITY_ORANGE},               // P = 0
        EdgeCase{99.9, v1::PROGRESS_STATUS_MOVING_AWAY, v1::SEVERITY_RED}));           // −0.001

TEST(LowerIsBetterEdgeTest, PExactlyAtBounds) {
  // y0 = 400, yT = 100: CAGR_needed = √0.25 − 1 = −0.5, P = −(yt/400 − 1)/0.5.
  const v1::Target target = MakeTarget(v1::COMPARATOR_AT_MOST, 2022, 100);
  EXPECT_EQ(Assess(Value(), target, Values({{2020, 400}, {2021, 210}})).status,
            v1::PROGRESS_STATUS_ON_TRACK);  // P = 0.95
  EXPECT_EQ(Assess(Value(), target, Values({{2020, 400}, {2021, 211}})).status,
            v1::PROGRESS_STATUS_NEEDS_ACCELERATION);  // P = 0.945
  EXPECT_EQ(Assess(Value(), target, Values({{2020, 400}, {2021, 280}})).status,
            v1::PROGRESS_STATUS_NEEDS_ACCELERATION);  // P = 0.6
  EXPECT_EQ(Assess(Value(), target, Values({{2020, 400}, {2021, 281}})).status,
            v1::PROGRESS_STATUS_AT_RISK);  // P = 0.595
  EXPECT_EQ(Assess(Value(), target, Values({{2020, 400}, {2021, 400}})).status,
            v1::PROGRESS_STATUS_AT_RISK);  // P = 0
  EXPECT_EQ(Assess(Value(), target, Values({{2020, 400}, {2021, 401}})).status,
            v1::PROGRESS_STATUS_MOVING_AWAY);
}

// The bands are the deployment's (Catalog.progress_bands): the same P
// lands in another band when the bounds move.
TEST(ConfiguredBandsTest, ChangedBoundsChangeTheBand) {
  const v1::Target target = MakeTarget(v1::COMPARATOR_AT_LEAST, 2022, 400);
  const Series series = Values({{2020, 100}, {2021, 170}});  // P = 0.7
  EXPECT_EQ(Assess(Value(), target, series).status, v1::PROGRESS_STATUS_NEEDS_ACCELERATION);
  MethodOptions lenient;
  lenient.bands.set_on_track(0.7);
  Assessment on_track = Assess(Value(), target, series, lenient);
  EXPECT_EQ(on_track.status, v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_FALSE(on_track.warns());
  MethodOptions strict;
  strict.bands.set_needs_acceleration(0.8);
  Assessment at_risk = Assess(Value(), target, series, strict);
  EXPECT_EQ(at_risk.status, v1::PROGRESS_STATUS_AT_RISK);
  EXPECT_EQ(at_risk.warning_kind, v1::WARNING_KIND_PROGRESS);
  EXPECT_EQ(at_risk.severity, v1::SEVERITY_ORANGE);
  strict.bands.set_at_risk(0.75);
  EXPECT_EQ(Assess(Value(), target, series, strict).status, v1::PROGRESS_STATUS_MOVING_AWAY);
}

TEST(ConfiguredBandsTest, ChangedNoTargetBoundsChangeTheBand) {
  const v1::Target target = MakeTarget(v1::COMPARATOR_INCREASE, 2030);
  const Series series = Values({{2020, 100}, {2021, 101}});  // +1 % a year
  EXPECT_EQ(Assess(Proportion(), target, series).status, v1::PROGRESS_STATUS_NEEDS_ACCELERATION);
  MethodOptions options;
  options.bands.set_no_target_on_track(0.01);
  EXPECT_EQ(Assess(Proportion(), target, series, options).status, v1::PROGRESS_STATUS_ON_TRACK);
  options.bands.set_no_target_on_track(0.05);
  options.bands.set_no_target_needs_acceleration(0.02);
  EXPECT_EQ(Assess(Proportion(), target, series, options).status, v1::PROGRESS_STATUS_AT_RISK);
}

TEST(ConfiguredBandsTest, IncreasingOrIncompleteBandsAreInvalid) {
  const v1::Target target = MakeTarget(v1::COMPARATOR_AT_LEAST, 2022, 400);
  const Series series = Values({{2020, 100}, {2021, 170}});
  MethodOptions options;
  options.bands.set_needs_acceleration(0.99);  // above on_track 0.95
  EXPECT_EQ(AssessTarget(Value(), target, series, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.bands = v1::ProgressBands();  // no bound set
  EXPECT_EQ(AssessTarget(Value(), target, series, options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.bands = ResolveProgressBands(v1::ProgressBands());
  EXPECT_TRUE(AssessTarget(Value(), target, series, options).ok());
}

TEST(ProgressFiguresTest, ProjectedAndRequiredRates) {
  Assessment a = Assess(Value(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2022, 400),
                        Values({{2020, 100}, {2021, 195}}));
  EXPECT_NEAR(a.figures.actual_annual_rate(), 0.95, 1e-12);
  EXPECT_NEAR(a.figures.projected_value(), 195 * 1.95, 1e-9);
  EXPECT_NEAR(a.figures.required_annual_rate(), 400.0 / 195 - 1, 1e-12);
  EXPECT_DOUBLE_EQ(a.figures.target_value(), 400);
}

// --- Zero base / target, sign change, one point, base substitution. ---

TEST(ZeroTest, ZeroBaseIsReplacedByOneThousandth) {
  Assessment a = Assess(Value(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 10),
                        Values({{2020, 0}, {2022, 2}}));
  const double cagr = std::sqrt(2 / 0.001) - 1;
  EXPECT_NEAR(a.figures.actual_annual_rate(), cagr, 1e-9);
  EXPECT_NEAR(a.figures.progress(), cagr / (std::pow(10 / 0.001, 0.1) - 1), 1e-9);
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_DOUBLE_EQ(a.figures.base_value(), 0);  // the figure shown is the real one
}

TEST(ZeroTest, ZeroTargetIsReplacedByOneThousandth) {
  // CAGR_act = 0.5^(1/4) − 1 = −0.1591; CAGR_needed = (0.001/10)^(1/10) − 1
  // = −0.6019; P = 0.2643.
  Assessment a =
      Assess(Value(), MakeTarget(v1::COMPARATOR_AT_MOST, 2030, 0), Values({{2020, 10}, {2024, 5}}));
  EXPECT_NEAR(a.figures.progress(), (1 - std::pow(0.5, 0.25)) / (1 - std::pow(1e-4, 0.1)), 1e-12);
  EXPECT_NEAR(a.figures.progress(), 0.2643, 1e-4);
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_AT_RISK);
  EXPECT_EQ(a.severity, v1::SEVERITY_ORANGE);
  EXPECT_NEAR(a.figures.required_annual_rate(), std::pow(0.001 / 5, 1.0 / 6) - 1, 1e-12);
}

TEST(SignChangeTest, NotAssessable) {
  Assessment a = Assess(Value(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 10),
                        Values({{2020, -2}, {2024, 3}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_NOT_ASSESSABLE);
  EXPECT_EQ(a.reason, NotAssessableReason::kSignChange);
  EXPECT_FALSE(a.warns());
  EXPECT_FALSE(a.figures.has_progress());
  EXPECT_THAT(a.explanation_zh, HasSubstr("符号不同"));
}

TEST(OnePointTest, NotAssessableUnlessAlreadyMet) {
  Assessment a =
      Assess(Value(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 10), Values({{2022, 5}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_NOT_ASSESSABLE);
  EXPECT_EQ(a.reason, NotAssessableReason::kTooFewYears);
  EXPECT_EQ(a.explanation_zh, "指标仅有2022年一年数据（5.0），不足两年，暂无法评估进展。");
  Assessment met =
      Assess(Value(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 10), Values({{2022, 12}}));
  EXPECT_EQ(met.status, v1::PROGRESS_STATUS_ACHIEVED);
}

TEST(NoDataTest, NotAssessable) {
  Assessment a = Assess(Value(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 10), Series());
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_NOT_ASSESSABLE);
  EXPECT_EQ(a.reason, NotAssessableReason::kNoData);
  EXPECT_EQ(a.explanation_zh, "指标自2020年以来尚无数据，无法评估。");
}

TEST(BaseYearTest, EarliestLaterYearWhenBaseYearHasNoData) {
  // 2019 is before the base year and ignored; 2020 is missing, so 2021 is
  // the base: CAGR = (12/10)^(1/2) − 1.
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 20),
                        Values({{2019, 1}, {2021, 10}, {2023, 12}}));
  EXPECT_EQ(a.figures.base_year(), 2021);
  EXPECT_TRUE(a.base_year_substituted);
  EXPECT_NEAR(a.figures.actual_annual_rate(), std::sqrt(1.2) - 1, 1e-12);
  EXPECT_THAT(a.explanation_zh, HasSubstr("按2021—2023年年均上升9.5%的速度"));
}

TEST(AsOfYearTest, LaterPointsAreIgnored) {
  MethodOptions options;
  options.as_of_year = 2022;
  Assessment a = Assess(Value(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2022, 400),
                        Values({{2020, 100}, {2021, 195}, {2022, 500}}), options);
  EXPECT_EQ(a.figures.current_year(), 2022);
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ACHIEVED);
  options.as_of_year = 2021;
  a = Assess(Value(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2022, 400),
             Values({{2020, 100}, {2021, 195}, {2022, 500}}), options);
  EXPECT_EQ(a.figures.current_year(), 2021);
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ON_TRACK);
}

// --- ACHIEVED override, SLIPPED, MISSED. ---

TEST(AchievedTest, CurrentMeetingTargetOverridesP) {
  // Moving down (P < 0) but already above the target: achieved.
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 50),
                        Values({{2020, 60}, {2024, 55}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_FALSE(a.warns());
  EXPECT_FALSE(a.figures.has_progress());
  EXPECT_EQ(a.explanation_zh, "女性比例2024年为55.0%，已提前实现2030年≥50%的目标。");
}

TEST(SlippedTest, MetEarlierThenSlippedBack) {
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 50),
                        Values({{2020, 45}, {2022, 52}, {2024, 48}}));
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_SLIPPED);
  EXPECT_EQ(a.slipped_from_year, 2022);
  // P = ((48/45)^(1/4) − 1) / ((50/45)^(1/10) − 1) = 0.0163 / 0.0106 = 1.54:
  // on track again, but having slipped back it still warns orange.
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_EQ(a.severity, v1::SEVERITY_ORANGE);
  EXPECT_THAT(a.explanation_zh, HasSubstr("女性比例2022年曾达到≥50%的目标，2024年回落为48.0%"));
}

TEST(MissedTest, AfterTargetYearNotMet) {
  const v1::Target target = MakeTarget(v1::COMPARATOR_AT_MOST, 2025, 10.15);
  Assessment a =
      Assess(Value("/10万"), target, Values({{2020, 16.9}, {2023, 13}, {2025, 12}, {2026, 9}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_MISSED);
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_MISSED);
  EXPECT_EQ(a.severity, v1::SEVERITY_RED);
  EXPECT_EQ(a.figures.current_year(), 2025);  // judged on the target year
  EXPECT_EQ(a.explanation_zh, "指标2025年为12.0/10万，未达到2025年≤10.15/10万的目标。");
}

TEST(MissedTest, JudgedOnFirstYearAfterTargetWhenTargetYearMissing) {
  const v1::Target target = MakeTarget(v1::COMPARATOR_AT_MOST, 2025, 10.15);
  Assessment a = Assess(Value(), target, Values({{2020, 16.9}, {2024, 13}, {2026, 10}}));
  EXPECT_EQ(a.figures.current_year(), 2026);
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_EQ(a.explanation_zh, "指标2026年为10.0，实现了2025年≤10.15的目标。");
}

TEST(MissedTest, BeforeTargetYearIsProgress) {
  const v1::Target target = MakeTarget(v1::COMPARATOR_AT_MOST, 2025, 10.15);
  Assessment a = Assess(Value(), target, Values({{2020, 16.9}, {2024, 12}}));
  EXPECT_NE(a.status, v1::PROGRESS_STATUS_MISSED);
  EXPECT_TRUE(a.figures.has_progress());
}

// --- Comparators. ---

TEST(ComparatorTest, AtMostIncludesEquality) {
  Assessment a = Assess(Value(), MakeTarget(v1::COMPARATOR_AT_MOST, 2030, 10),
                        Values({{2020, 12}, {2024, 10}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ACHIEVED);
}

TEST(ComparatorTest, AtLeastIncludesEquality) {
  Assessment a = Assess(Value(), MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 10),
                        Values({{2020, 8}, {2024, 10}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ACHIEVED);
}

TEST(ComparatorTest, BelowIsStrict) {
  const v1::Target target = MakeTarget(v1::COMPARATOR_BELOW, 2030, 5);
  Assessment equal = Assess(Value(), target, Values({{2020, 8}, {2024, 5}}));
  EXPECT_NE(equal.status, v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_TRUE(equal.figures.has_progress());
  Assessment below = Assess(Value(), target, Values({{2020, 8}, {2024, 4.9}}));
  EXPECT_EQ(below.status, v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_EQ(TargetTextZh(Value(), target), "<5");
}

TEST(ComparatorTest, EveryYearAtLeastIsARule) {
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_AT_LEAST, 0, 95),
                        Values({{2020, 96}, {2021, 94}, {2022, 97}}));
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_RULE_BROKEN);
  ASSERT_EQ(a.broken_years.size(), 1u);
  EXPECT_EQ(a.broken_years[0].year, 2021);
}

TEST(AboutTest, InsideBandIsAchievedBoundsIncluded) {
  const v1::Target target = MakeTarget(v1::COMPARATOR_ABOUT, 0, 45);  // default ±2
  EXPECT_EQ(Assess(Proportion(), target, Values({{2020, 44}, {2024, 46.5}})).status,
            v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_EQ(Assess(Proportion(), target, Values({{2020, 44}, {2024, 47}})).status,
            v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_EQ(Assess(Proportion(), target, Values({{2020, 44}, {2024, 43}})).status,
            v1::PROGRESS_STATUS_ACHIEVED);
}

TEST(AboutTest, OutsideBandEveryYearWarnsOrange) {
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_ABOUT, 0, 45),
                        Values({{2020, 44}, {2024, 47.5}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_MISSED);
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_OUT_OF_BAND);
  EXPECT_EQ(a.severity, v1::SEVERITY_ORANGE);
  EXPECT_EQ(a.explanation_zh, "女性比例2024年为47.5%，不在45%左右（43.0%—47.0%）的目标范围内。");
}

TEST(AboutTest, ExplicitTolerance) {
  v1::Target target = MakeTarget(v1::COMPARATOR_ABOUT, 0, 45);
  target.set_tolerance(1);
  EXPECT_EQ(Assess(Proportion(), target, Values({{2020, 44}, {2024, 46.5}})).warning_kind,
            v1::WARNING_KIND_OUT_OF_BAND);
}

TEST(AboutTest, OutsideBandBeforeTargetYearHasProgressAndWarns) {
  // Below the band, moving toward 40: d = +1, CAGR = (36/30)^(1/4) − 1 =
  // 4.66 %, needed (40/30)^(1/10) − 1 = 2.92 %: P = 1.60, on track but
  // outside the band → yellow OUT_OF_BAND.
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_ABOUT, 2030, 40),
                        Values({{2020, 30}, {2024, 36}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_OUT_OF_BAND);
  EXPECT_EQ(a.severity, v1::SEVERITY_YELLOW);
  EXPECT_NEAR(a.figures.progress(), (std::pow(1.2, 0.25) - 1) / (std::pow(40.0 / 30, 0.1) - 1),
              1e-12);
  // Above the band and rising: moving away, red.
  Assessment away = Assess(Proportion(), MakeTarget(v1::COMPARATOR_ABOUT, 2030, 40),
                           Values({{2020, 43}, {2024, 45}}));
  EXPECT_EQ(away.status, v1::PROGRESS_STATUS_MOVING_AWAY);
  EXPECT_EQ(away.severity, v1::SEVERITY_RED);
  EXPECT_EQ(away.warning_kind, v1::WARNING_KIND_OUT_OF_BAND);
}

TEST(AboutTest, AfterTargetYearOutsideIsMissed) {
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_ABOUT, 2025, 40),
                        Values({{2020, 30}, {2025, 37}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_MISSED);
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_MISSED);
}

TEST(MaintainTest, EveryYearBreaksNameTheYears) {
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_MAINTAIN_AT_LEAST, 0, 95),
                        Values({{2020, 96}, {2021, 94}, {2022, 97}, {2023, 93.1}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_MISSED);
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_RULE_BROKEN);
  EXPECT_EQ(a.severity, v1::SEVERITY_RED);
  ASSERT_EQ(a.broken_years.size(), 2u);
  EXPECT_EQ(a.broken_years[0].year, 2021);
  EXPECT_EQ(a.broken_years[1].year, 2023);
  EXPECT_EQ(a.explanation_zh, "女性比例应每年保持≥95%，但2021年（94.0%）、2023年（93.1%）未达到。");
  EXPECT_EQ(a.explanation_en,
            "Test indicator must stay ≥95% every year but did not in 2021 (94.0%), 2023 "
            "(93.1%).");
}

TEST(MaintainTest, EveryYearKeptIsAchieved) {
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_MAINTAIN_AT_LEAST, 0, 95),
                        Values({{2020, 96}, {2021, 95}, {2022, 97}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_FALSE(a.warns());
  EXPECT_EQ(a.explanation_zh, "女性比例2022年为97.0%，2020年以来各年均符合≥95%的要求。");
}

TEST(MaintainTest, AtMostEveryYear) {
  Assessment a = Assess(Value(), MakeTarget(v1::COMPARATOR_MAINTAIN_AT_MOST, 0, 10),
                        Values({{2020, 9}, {2021, 10}, {2022, 11}}));
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_RULE_BROKEN);
  ASSERT_EQ(a.broken_years.size(), 1u);
  EXPECT_EQ(a.broken_years[0].year, 2022);
}

TEST(MaintainTest, ReachAndKeepCountsFromFirstYearMet) {
  const v1::Target target = MakeTarget(v1::COMPARATOR_MAINTAIN_AT_LEAST, 2030, 30);
  // Not reached yet: progress toward 30.
  Assessment progress = Assess(Proportion(), target, Values({{2020, 28}, {2021, 29}}));
  EXPECT_TRUE(progress.figures.has_progress());
  EXPECT_TRUE(progress.broken_years.empty());
  // 2020 below is no break (not reached yet); 2022 after reaching is.
  Assessment broken =
      Assess(Proportion(), target, Values({{2020, 28}, {2021, 31}, {2022, 29}, {2023, 32}}));
  EXPECT_EQ(broken.warning_kind, v1::WARNING_KIND_RULE_BROKEN);
  ASSERT_EQ(broken.broken_years.size(), 1u);
  EXPECT_EQ(broken.broken_years[0].year, 2022);
  Assessment kept = Assess(Proportion(), target, Values({{2020, 28}, {2021, 31}, {2022, 32}}));
  EXPECT_EQ(kept.status, v1::PROGRESS_STATUS_ACHIEVED);
}

struct NoTargetCase {
  double current;
  v1::ProgressStatus status;
};

class IncreaseBandsTest : public ::testing::TestWithParam<NoTargetCase> {};

TEST_P(IncreaseBandsTest, OpenSdgNoTargetBands) {
  // t − t0 = 1: CAGR = current/100 − 1.
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_INCREASE, 2030),
                        Values({{2020, 100}, {2021, GetParam().current}}));
  EXPECT_EQ(a.status, GetParam().status) << a.figures.progress();
  EXPECT_NEAR(a.figures.progress(), GetParam().current / 100 - 1, 1e-12);
  EXPECT_FALSE(a.figures.has_target_value());
}

INSTANTIATE_TEST_SUITE_P(
    Bands, IncreaseBandsTest,
    ::testing::Values(NoTargetCase{101.5, v1::PROGRESS_STATUS_ON_TRACK},             // 0.015
                      NoTargetCase{101.49, v1::PROGRESS_STATUS_NEEDS_ACCELERATION},  // 0.0149
                      NoTargetCase{100.5, v1::PROGRESS_STATUS_NEEDS_ACCELERATION},   // 0.005
                      NoTargetCase{100.49, v1::PROGRESS_STATUS_AT_RISK},             // 0.0049
                      NoTargetCase{100, v1::PROGRESS_STATUS_AT_RISK},                // 0
                      NoTargetCase{99.99, v1::PROGRESS_STATUS_MOVING_AWAY}));

TEST(IncreaseTest, SentenceAndProjection) {
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_INCREASE, 2030),
                        Values({{2020, 100}, {2021, 100.3}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_AT_RISK);
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_PROGRESS);
  EXPECT_NEAR(a.figures.projected_value(), 100.3 * std::pow(1.003, 9), 1e-9);
  EXPECT_EQ(a.explanation_zh,
            "女性比例2021年为100.3%，2020—2021年年均上升0.3%，进展缓慢，预计难以实现逐步提高的"
            "目标。");
}

TEST(IncreaseTest, AfterTargetYear) {
  const v1::Target target = MakeTarget(v1::COMPARATOR_INCREASE, 2025);
  EXPECT_EQ(Assess(Value(), target, Values({{2020, 10}, {2025, 12}})).status,
            v1::PROGRESS_STATUS_ACHIEVED);
  Assessment missed = Assess(Value(), target, Values({{2020, 10}, {2025, 9}}));
  EXPECT_EQ(missed.status, v1::PROGRESS_STATUS_MISSED);
  EXPECT_EQ(missed.severity, v1::SEVERITY_RED);
  EXPECT_EQ(missed.explanation_zh,
            "指标2025年为9.0，较2020年的10.0未能提高，未实现逐步提高的目标。");
}

TEST(IncreaseTest, WithValueActsAsAtLeast) {
  Assessment a = Assess(Value("年"), MakeTarget(v1::COMPARATOR_INCREASE, 2030, 80),
                        Values({{2020, 78}, {2024, 80.5}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ACHIEVED);
}

TEST(DecreaseTest, NoTargetDirectionIsDown) {
  Assessment a = Assess(Value(), MakeTarget(v1::COMPARATOR_DECREASE, 2030),
                        Values({{2020, 100}, {2021, 98.5}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_NEAR(a.figures.progress(), 0.015, 1e-12);
  Assessment up = Assess(Value(), MakeTarget(v1::COMPARATOR_DECREASE, 2030),
                         Values({{2020, 100}, {2021, 101}}));
  EXPECT_EQ(up.status, v1::PROGRESS_STATUS_MOVING_AWAY);
  EXPECT_EQ(up.severity, v1::SEVERITY_RED);
}

TEST(DecreaseEachYearTest, AnyRiseBreaksIt) {
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_DECREASE_EACH_YEAR, 2030),
                        Values({{2020, 12}, {2021, 11}, {2022, 11.5}, {2023, 10}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_MISSED);
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_RULE_BROKEN);
  EXPECT_EQ(a.severity, v1::SEVERITY_RED);
  ASSERT_EQ(a.broken_years.size(), 1u);
  EXPECT_EQ(a.broken_years[0].year, 2022);
  EXPECT_DOUBLE_EQ(*a.broken_years[0].previous_value, 11);
  EXPECT_EQ(a.explanation_zh, "女性比例应逐年降低，但2022年（11.0%→11.5%）比上年上升。");
}

TEST(DecreaseEachYearTest, FlatYearIsNoBreak) {
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_DECREASE_EACH_YEAR, 2030),
                        Values({{2020, 12}, {2021, 12}, {2022, 11}}));
  EXPECT_TRUE(a.broken_years.empty());
  EXPECT_NE(a.warning_kind, v1::WARNING_KIND_RULE_BROKEN);
  // CAGR = (11/12)^(1/2) − 1 = −4.26 %: on track against the no-target bands.
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ON_TRACK);
}

TEST(NarrowGapTest, GapIsAbsoluteDifference) {
  // Gap 10 (2020) → 8 (2024): CAGR = 0.8^(1/4) − 1 = −5.43 %, d = −1.
  const Series female = Values({{2020, 10}, {2024, 14}});
  const Series male = Values({{2020, 20}, {2024, 22}});
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_NARROW_GAP, 2030), female,
                        MethodOptions(), &male);
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_DOUBLE_EQ(a.figures.current_value(), 8);
  EXPECT_NEAR(a.figures.progress(), 1 - std::pow(0.8, 0.25), 1e-12);
  EXPECT_EQ(a.explanation_zh,
            "女性比例的男女差距2024年为8.0个百分点，2020—2024年年均缩小5.4%，进展良好。");
  // Swapping the groups changes nothing.
  Assessment swapped = Assess(Proportion(), MakeTarget(v1::COMPARATOR_NARROW_GAP, 2030), male,
                              MethodOptions(), &female);
  EXPECT_DOUBLE_EQ(swapped.figures.progress(), a.figures.progress());
}

TEST(NarrowGapTest, WideningAndClosedAndMissingGroup) {
  const Series female = Values({{2020, 10}, {2024, 10}});
  const Series male = Values({{2020, 20}, {2024, 25}});
  Assessment wider = Assess(Proportion(), MakeTarget(v1::COMPARATOR_NARROW_GAP, 2030), female,
                            MethodOptions(), &male);
  EXPECT_EQ(wider.status, v1::PROGRESS_STATUS_MOVING_AWAY);
  const Series same = Values({{2020, 20}, {2024, 10}});
  Assessment closed = Assess(Proportion(), MakeTarget(v1::COMPARATOR_NARROW_GAP, 2030), female,
                             MethodOptions(), &same);
  EXPECT_EQ(closed.status, v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_EQ(closed.explanation_zh, "女性比例的男女差距2024年为0，差距已消除。");
  const Series empty;
  Assessment missing = Assess(Proportion(), MakeTarget(v1::COMPARATOR_NARROW_GAP, 2030), female,
                              MethodOptions(), &empty);
  EXPECT_EQ(missing.reason, NotAssessableReason::kNoComparisonSeries);
}

TEST(EvaluateIndicatorTest, PicksSeriesPerTarget) {
  v1::Indicator ind = Proportion();
  *ind.add_targets() = MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 50);
  v1::Target gap = MakeTarget(v1::COMPARATOR_NARROW_GAP, 2030);
  gap.set_gap_dimension(v1::GAP_DIMENSION_RESIDENCE);
  *ind.add_targets() = gap;
  SeriesSet set;
  set.Put(v1::SEX_UNSPECIFIED, v1::RESIDENCE_UNSPECIFIED, Values({{2020, 40}, {2024, 55}}));
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_URBAN, Values({{2020, 50}, {2024, 58}}));
  set.Put(v1::SEX_TOTAL, v1::RESIDENCE_RURAL, Values({{2020, 30}, {2024, 50}}));
  absl::StatusOr<IndicatorEvaluation> e = EvaluateIndicator(ind, set, MethodOptions());
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->assessments.size(), 2u);
  EXPECT_EQ(e->assessments[0].status, v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_DOUBLE_EQ(e->assessments[1].figures.current_value(), 8);
  EXPECT_EQ(e->assessments[1].status, v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_THAT(e->assessments[1].explanation_zh, HasSubstr("城乡差距"));
  // Fluctuation on the total: 40 (2020) → 55 (2024) is +37.5 % over four
  // years, (55/40)^(1/4) − 1 = 8.3 % a year: not 波动较大 (this test used
  // to expect a warning from the raw four-year change, issue #12 item 4).
  EXPECT_NEAR(*e->fluctuation.relative_change, std::pow(55.0 / 40, 0.25) - 1, 1e-12);
  EXPECT_FALSE(e->fluctuation.warns);
}

TEST(EvaluateIndicatorTest, MissingSeriesIsNoData) {
  v1::Indicator ind = Proportion();
  *ind.add_targets() = MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 50);
  absl::StatusOr<IndicatorEvaluation> e = EvaluateIndicator(ind, SeriesSet(), MethodOptions());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->assessments[0].reason, NotAssessableReason::kNoData);
  EXPECT_EQ(e->fluctuation.method, FluctuationMethod::kNone);
}

TEST(QualitativeTest, NotAssessable) {
  v1::Indicator ind = MakeIndicator(v1::INDICATOR_KIND_QUALITATIVE, "定性目标", "");
  Assessment a = Assess(ind, MakeTarget(v1::COMPARATOR_INCREASE, 2030), Values({{2020, 1}}));
  EXPECT_EQ(a.reason, NotAssessableReason::kQualitative);
  EXPECT_THAT(a.explanation_zh, HasSubstr("定性指标"));
}

TEST(ErrorsTest, BadInputs) {
  const v1::Indicator ind = Value();
  EXPECT_EQ(AssessTarget(ind, MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 1),
                         Values({{2021, 1}, {2021, 2}}), MethodOptions())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AssessTarget(ind, MakeTarget(v1::COMPARATOR_AT_LEAST, 2030), Values({{2021, 1}}),
                         MethodOptions())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AssessTarget(ind, MakeTarget(v1::COMPARATOR_UNSPECIFIED, 2030, 1), Values({{2021, 1}}),
                         MethodOptions())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AssessTarget(ind, MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 1), Values({{2021, NAN}}),
                         MethodOptions())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  MethodOptions bad;
  bad.confidence_level = 1.5;
  EXPECT_EQ(AssessFluctuation(ind, Values({{2021, 1}}), bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Fluctuation. ---

TEST(FluctuationTest, FewerThanFourChangesUsesRelativeChange) {
  // 110 → 140: +27.3 % > 20 %.
  absl::StatusOr<FluctuationResult> r =
      AssessFluctuation(Value(), Values({{2020, 100}, {2021, 110}, {2022, 140}}), MethodOptions());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, FluctuationMethod::kRelativeChange);
  EXPECT_TRUE(r->warns);
  EXPECT_EQ(r->severity(), v1::SEVERITY_YELLOW);
  EXPECT_NEAR(*r->relative_change, 30.0 / 110, 1e-12);
  EXPECT_DOUBLE_EQ(r->figures.latest_change(), 30);
  EXPECT_FALSE(r->figures.has_modified_z_score());
  EXPECT_EQ(r->explanation_zh,
            "指标2022年为140.0，比上年上升30.0，变化幅度27.3%，超过20%的波动阈值，波动较大。");
  // 110 → 120: +9.1 %.
  r = AssessFluctuation(Value(), Values({{2020, 100}, {2021, 110}, {2022, 120}}), MethodOptions());
  EXPECT_FALSE(r->warns);
  EXPECT_THAT(r->explanation_zh, HasSubstr("属正常波动"));
}

TEST(FluctuationTest, IndicatorThresholdOverridesDefault) {
  v1::Indicator ind = Value();
  ind.set_fluctuation_threshold(0.3);
  absl::StatusOr<FluctuationResult> r =
      AssessFluctuation(ind, Values({{2020, 100}, {2021, 110}, {2022, 140}}), MethodOptions());
  EXPECT_FALSE(r->warns);
  EXPECT_DOUBLE_EQ(r->threshold, 0.3);
}

TEST(FluctuationTest, MadZeroFallsBackToRelativeChange) {
  // Changes 1, 1, 1, 1, x: median 1, MAD 0.
  absl::StatusOr<FluctuationResult> small = AssessFluctuation(
      Value(),
      Values({{2020, 100}, {2021, 101}, {2022, 102}, {2023, 103}, {2024, 104}, {2025, 110}}),
      MethodOptions());
  EXPECT_EQ(small->method, FluctuationMethod::kRelativeChange);
  EXPECT_FALSE(small->warns);  // 6/104 = 5.8 %
  absl::StatusOr<FluctuationResult> big = AssessFluctuation(
      Value(),
      Values({{2020, 100}, {2021, 101}, {2022, 102}, {2023, 103}, {2024, 104}, {2025, 130}}),
      MethodOptions());
  EXPECT_EQ(big->method, FluctuationMethod::kRelativeChange);
  EXPECT_TRUE(big->warns);  // 26/104 = 25 %
}

TEST(FluctuationTest, MadOfRoundingNoiseIsZero) {
  // Changes of 0.3 each in decimal figures: as doubles they differ by about
  // 1e-14, which must not become a MAD (z would be ~1e12).
  absl::StatusOr<FluctuationResult> r = AssessFluctuation(
      Value(), Values({{2020, 75.0}, {2021, 75.3}, {2022, 75.6}, {2023, 75.9}, {2024, 76.2}}),
      MethodOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, FluctuationMethod::kRelativeChange);
  EXPECT_FALSE(r->figures.has_modified_z_score());
  EXPECT_FALSE(r->warns);  // 0.3/75.9 = 0.4 %
}

TEST(FluctuationTest, ModifiedZScore) {
  // Changes 2, 3, 1, 3, x: for x = 8 and 9, sorted median 3, deviations
  // 1, 0, 2, 0, x−3 → MAD 1; z = 0.6745·(x − 3).
  absl::StatusOr<FluctuationResult> below = AssessFluctuation(
      Value(),
      Values({{2020, 100}, {2021, 102}, {2022, 105}, {2023, 106}, {2024, 109}, {2025, 117}}),
      MethodOptions());
  EXPECT_EQ(below->method, FluctuationMethod::kModifiedZScore);
  EXPECT_NEAR(below->figures.modified_z_score(), 0.6745 * 5, 1e-12);
  EXPECT_FALSE(below->warns);
  absl::StatusOr<FluctuationResult> above = AssessFluctuation(
      Value(),
      Values({{2020, 100}, {2021, 102}, {2022, 105}, {2023, 106}, {2024, 109}, {2025, 118}}),
      MethodOptions());
  EXPECT_NEAR(above->figures.modified_z_score(), 0.6745 * 6, 1e-12);
  EXPECT_TRUE(above->warns);
  EXPECT_EQ(above->explanation_zh,
            "指标2025年为118.0，比上年上升9.0，修正z分数为4.0，超过3.5，波动较大。");
  // A +24 % change that the indicator's own history makes ordinary:
  // changes 20, −15, 25, −20, 22 → median 20, deviations 0, 35, 5, 40, 2 →
  // MAD 5, z = 0.6745·2/5 = 0.27, although the relative test would fire.
  absl::StatusOr<FluctuationResult> calm = AssessFluctuation(
      Value(), Values({{2020, 80}, {2021, 100}, {2022, 85}, {2023, 110}, {2024, 90}, {2025, 112}}),
      MethodOptions());
  EXPECT_EQ(calm->method, FluctuationMethod::kModifiedZScore);
  EXPECT_FALSE(calm->warns);
  EXPECT_GT(std::fabs(*calm->relative_change), 0.2);
}

TEST(FluctuationTest, PreviousZeroGivesNoRelativeChange) {
  absl::StatusOr<FluctuationResult> r =
      AssessFluctuation(Value(), Values({{2020, 0}, {2021, 5}}), MethodOptions());
  EXPECT_FALSE(r->relative_change.has_value());
  EXPECT_FALSE(r->warns);
}

TEST(FluctuationTest, OnePointIsNone) {
  absl::StatusOr<FluctuationResult> r =
      AssessFluctuation(Value(), Values({{2020, 5}}), MethodOptions());
  EXPECT_EQ(r->method, FluctuationMethod::kNone);
  EXPECT_EQ(r->explanation_zh, "指标仅有2020年一年数据，无法判断波动。");
}

// --- Rare events. ---

v1::Indicator MaternalMortality() {
  v1::Indicator ind = MakeIndicator(v1::INDICATOR_KIND_RATE, "孕产妇死亡率", "/10万");
  ind.set_name_en("Maternal mortality ratio");
  return ind;
}

Series Deaths(std::initializer_list<std::pair<int, std::pair<double, double>>> points) {
  Series s;
  for (const auto& [year, parts] : points) {
    YearPoint p;
    p.year = year;
    p.numerator = parts.first;
    p.denominator = parts.second;
    s.push_back(p);
  }
  return s;
}

TEST(RareEventsTest, PooledRollingRatesWithExactInterval) {
  const Series series = Deaths({{2020, {1, 3500}},
                                {2021, {0, 3400}},
                                {2022, {2, 3600}},
                                {2023, {1, 3300}},
                                {2024, {1, 3200}}});
  Assessment a =
      Assess(MaternalMortality(), MakeTarget(v1::COMPARATOR_AT_MOST, 2030, 10.15), series);
  EXPECT_TRUE(a.pooled);
  EXPECT_TRUE(a.figures.few_events());
  // Base window 2020–2022: 3 / 10 500; current 2022–2024: 4 / 10 100.
  EXPECT_EQ(a.figures.base_year(), 2022);
  EXPECT_FALSE(a.base_year_substituted);
  EXPECT_NEAR(a.figures.base_value(), 3.0 / 10500 * 1e5, 1e-9);
  EXPECT_NEAR(a.figures.current_value(), 4.0 / 10100 * 1e5, 1e-9);
  EXPECT_DOUBLE_EQ(a.figures.event_count(), 4);
  // Garwood 95 % for 4 events: 1.0899–10.2416.
  EXPECT_NEAR(a.figures.interval().lower(), 1.0899 / 10100 * 1e5, 1e-3);
  EXPECT_NEAR(a.figures.interval().upper(), 10.2416 / 10100 * 1e5, 1e-3);
  EXPECT_DOUBLE_EQ(a.figures.interval().level(), 0.95);
  // 28.6 → 39.6 per 100 000: moving away from ≤ 10.15.
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_MOVING_AWAY);
  EXPECT_NEAR(a.figures.actual_annual_rate(), std::sqrt((4.0 / 10100) / (3.0 / 10500)) - 1, 1e-12);
  EXPECT_THAT(a.explanation_zh, HasSubstr("孕产妇死亡率2022—2024年为39.6/10万"));
  EXPECT_THAT(a.explanation_zh, HasSubstr("按2020—2022年至2022—2024年年均上升"));
  EXPECT_THAT(a.explanation_zh,
              HasSubstr("（事件数少：按3年合并计算，2022—2024年共4例，95%置信区间为10.8—101.4/"
                        "10万，结论仅供参考）。"));
  EXPECT_THAT(a.explanation_en, HasSubstr("few events"));
}

TEST(RareEventsTest, ThresholdIsConfigurable) {
  const Series series =
      Deaths({{2020, {30, 3500}}, {2021, {25, 3400}}, {2022, {28, 3600}}, {2023, {26, 3300}}});
  v1::Indicator ind = MaternalMortality();
  EXPECT_FALSE(Assess(ind, MakeTarget(v1::COMPARATOR_AT_MOST, 2030, 10.15), series).pooled);
  ind.set_rare_event_threshold(50);
  EXPECT_TRUE(Assess(ind, MakeTarget(v1::COMPARATOR_AT_MOST, 2030, 10.15), series).pooled);
}

TEST(RareEventsTest, FewerThanTwoFullWindowsIsNotAssessable) {
  const Series series = Deaths({{2020, {1, 3500}}, {2021, {2, 3400}}, {2022, {2, 3600}}});
  Assessment a =
      Assess(MaternalMortality(), MakeTarget(v1::COMPARATOR_AT_MOST, 2030, 10.15), series);
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_NOT_ASSESSABLE);
  EXPECT_EQ(a.reason, NotAssessableReason::kTooFewPooledYears);
  // A missing year breaks the window: 2020, 2022, 2023, 2024 → windows
  // 2022 (no: 2021 missing), 2023 (no), 2024 (2022–2024 only).
  const Series gappy =
      Deaths({{2020, {1, 3500}}, {2022, {2, 3600}}, {2023, {1, 3300}}, {2024, {1, 3200}}});
  EXPECT_EQ(
      Assess(MaternalMortality(), MakeTarget(v1::COMPARATOR_AT_MOST, 2030, 10.15), gappy).reason,
      NotAssessableReason::kTooFewPooledYears);
}

TEST(RareEventsTest, IntervalExplainsTheJump) {
  // One death a year in ~3 500 births, then three: +200 % (relative test
  // fires), but the 95 % interval of 3 events, 0.6187–8.7673 / 3 500 =
  // 17.7–250.5 per 100 000, holds the previous pooled 28.6: no warning.
  const Series series = Deaths({{2020, {1, 3500}},
                                {2021, {1, 3500}},
                                {2022, {1, 3500}},
                                {2023, {1, 3500}},
                                {2024, {3, 3500}}});
  absl::StatusOr<FluctuationResult> r =
      AssessFluctuation(MaternalMortality(), series, MethodOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->exceeds_threshold);
  EXPECT_TRUE(r->explained_by_interval);
  EXPECT_FALSE(r->warns);
  EXPECT_TRUE(r->figures.few_events());
  EXPECT_DOUBLE_EQ(r->figures.event_count(), 3);
  EXPECT_NEAR(r->figures.interval().lower(), 0.6187 / 3500 * 1e5, 2e-3);
  EXPECT_NEAR(r->figures.interval().upper(), 8.7673 / 3500 * 1e5, 2e-3);
  EXPECT_NEAR(*r->previous_pooled_value, 3.0 / 10500 * 1e5, 1e-9);
  EXPECT_THAT(r->explanation_zh, HasSubstr("包含此前3年合并率28.6/10万"));
  EXPECT_THAT(r->explanation_zh, HasSubstr("不视为波动较大"));
}

TEST(RareEventsTest, IntervalThatDoesNotExplainWarns) {
  // 15 deaths a year (mean 12 < 20), then none: the interval of 0 events,
  // 0–3.689 / 3 500 = 0–105.4, excludes the previous pooled 428.6.
  const Series series = Deaths({{2020, {15, 3500}},
                                {2021, {15, 3500}},
                                {2022, {15, 3500}},
                                {2023, {15, 3500}},
                                {2024, {0, 3500}}});
  absl::StatusOr<FluctuationResult> r =
      AssessFluctuation(MaternalMortality(), series, MethodOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->explained_by_interval);
  EXPECT_TRUE(r->warns);
  EXPECT_DOUBLE_EQ(r->figures.interval().lower(), 0);
  EXPECT_THAT(r->explanation_zh, HasSubstr("不包含"));
  EXPECT_THAT(r->explanation_zh, HasSubstr("波动较大（结论基于少量事件）"));
}

// --- Severity, labels, protos, formatting. ---

TEST(SeverityTest, Mapping) {
  EXPECT_EQ(SeverityFor(v1::WARNING_KIND_PROGRESS, v1::PROGRESS_STATUS_MOVING_AWAY),
            v1::SEVERITY_RED);
  EXPECT_EQ(SeverityFor(v1::WARNING_KIND_PROGRESS, v1::PROGRESS_STATUS_AT_RISK),
            v1::SEVERITY_ORANGE);
  EXPECT_EQ(SeverityFor(v1::WARNING_KIND_PROGRESS, v1::PROGRESS_STATUS_NEEDS_ACCELERATION),
            v1::SEVERITY_YELLOW);
  EXPECT_EQ(SeverityFor(v1::WARNING_KIND_PROGRESS, v1::PROGRESS_STATUS_ON_TRACK),
            v1::SEVERITY_UNSPECIFIED);
  EXPECT_EQ(SeverityFor(v1::WARNING_KIND_MISSED, v1::PROGRESS_STATUS_MISSED), v1::SEVERITY_RED);
  EXPECT_EQ(SeverityFor(v1::WARNING_KIND_RULE_BROKEN, v1::PROGRESS_STATUS_MISSED),
            v1::SEVERITY_RED);
  EXPECT_EQ(SeverityFor(v1::WARNING_KIND_SLIPPED, v1::PROGRESS_STATUS_ON_TRACK),
            v1::SEVERITY_ORANGE);
  EXPECT_EQ(SeverityFor(v1::WARNING_KIND_SLIPPED, v1::PROGRESS_STATUS_MOVING_AWAY),
            v1::SEVERITY_RED);
  EXPECT_EQ(SeverityFor(v1::WARNING_KIND_FLUCTUATION, v1::PROGRESS_STATUS_UNSPECIFIED),
            v1::SEVERITY_YELLOW);
  EXPECT_EQ(labels::LabelZh(v1::PROGRESS_STATUS_AT_RISK), "预计达标困难");
  EXPECT_EQ(labels::LabelZh(v1::PROGRESS_STATUS_NOT_ASSESSABLE), "数据不足");
  EXPECT_EQ(labels::LabelZh(v1::SEVERITY_ORANGE), "橙色预警");
}

TEST(ProtoTest, SeriesFromProtoAndToProto) {
  google::protobuf::RepeatedPtrField<v1::SeriesPoint> points;
  v1::SeriesPoint* p = points.Add();
  p->set_year(2021);
  p->set_numerator(2);
  p->set_denominator(4000);
  v1::SeriesPoint* q = points.Add();
  q->set_year(2020);
  q->set_value(12.5);
  Series s = SeriesFromProto(points);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_FALSE(s[0].value.has_value());
  EXPECT_DOUBLE_EQ(*s[0].numerator, 2);
  EXPECT_FALSE(s[1].numerator.has_value());
  // The value of 2021 is computed: 2 / 4000 × 100 000 = 50.
  v1::Indicator ind = MakeIndicator(v1::INDICATOR_KIND_RATE, "率", "/10万");
  ind.set_rare_event_threshold(1);  // not rare
  Assessment a = Assess(ind, MakeTarget(v1::COMPARATOR_AT_LEAST, 2030, 100), s);
  EXPECT_DOUBLE_EQ(a.figures.current_value(), 50);
  v1::TargetAssessment proto = a.ToProto();
  EXPECT_EQ(proto.status(), a.status);
  EXPECT_EQ(proto.explanation_zh(), a.explanation_zh);
  EXPECT_DOUBLE_EQ(proto.target().value(), 100);
  EXPECT_DOUBLE_EQ(proto.figures().current_value(), 50);
}

TEST(FormatTest, Numbers) {
  v1::Indicator count = MakeIndicator(v1::INDICATOR_KIND_COUNT, "人数", "人");
  EXPECT_EQ(FormatFigureZh(count, 120), "120人");
  EXPECT_EQ(FormatFigureZh(count, 120.46), "120.5人");
  EXPECT_EQ(FormatFigureEn(count, 120), "120 persons");
  EXPECT_EQ(FormatFigureZh(Proportion(), -0.04), "0.0%");
  EXPECT_EQ(FormatPercent(-0.0553), "5.5");
  EXPECT_EQ(FormatTargetValue(10.15), "10.15");
  EXPECT_EQ(FormatTargetValue(95), "95");
  v1::Target about = MakeTarget(v1::COMPARATOR_ABOUT, 2030, 45);
  EXPECT_EQ(TargetTextZh(Proportion(), about), "45%左右");
  EXPECT_EQ(TargetTextEn(Proportion(), about), "about 45%");
}

}  // namespace
}  // namespace halfsky::evaluation

namespace halfsky::evaluation {
namespace {

TEST(EveryYearNumberTest, IncreaseWithValueEveryYearIsARule) {
  const v1::Indicator ind = MakeIndicator(v1::INDICATOR_KIND_VALUE, "指标", "");
  Assessment a = Assess(ind, MakeTarget(v1::COMPARATOR_INCREASE, 0, 10),
                        Values({{2020, 11}, {2021, 9}, {2022, 12}}));
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_RULE_BROKEN);
  ASSERT_EQ(a.broken_years.size(), 1u);
  EXPECT_EQ(a.broken_years[0].year, 2021);
  EXPECT_FALSE(a.figures.has_progress());
}

}  // namespace
}  // namespace halfsky::evaluation

// --- Issue #12: target wording, annualised fluctuation, filled protos,
// late-data severity. ---

namespace halfsky::evaluation {
namespace {

TEST(AboutEveryYearTest, EveryYearIsCheckedNotOnlyTheLatest) {
  // DECISION-23 「保持在60％左右」: 2020 = 50, 2022 = 45, 2024 = 60. The
  // latest year is inside 58–62, the two earlier ones are not.
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_ABOUT, 0, 60),
                        Values({{2020, 50}, {2022, 45}, {2024, 60}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_MISSED);
  EXPECT_EQ(a.warning_kind, v1::WARNING_KIND_OUT_OF_BAND);
  EXPECT_EQ(a.severity, v1::SEVERITY_ORANGE);
  ASSERT_EQ(a.broken_years.size(), 2u);
  EXPECT_EQ(a.broken_years[0].year, 2020);
  EXPECT_DOUBLE_EQ(a.broken_years[0].value, 50);
  EXPECT_EQ(a.broken_years[1].year, 2022);
  EXPECT_DOUBLE_EQ(a.broken_years[1].value, 45);
  EXPECT_EQ(a.explanation_zh,
            "女性比例应各年保持在60%左右（58.0%—62.0%），2024年为60.0%，但2020年（50.0%）、"
            "2022年（45.0%）不在该范围内。");
  EXPECT_EQ(a.explanation_en,
            "Test indicator must stay about 60% (58.0%–62.0%) every year; it was 60.0% in 2024, "
            "but outside the band in 2020 (50.0%), 2022 (45.0%).");
  EXPECT_THAT(a.explanation_zh, ::testing::Not(HasSubstr("各年均符合")));
  // Every year inside: achieved, and the sentence may say so.
  Assessment kept = Assess(Proportion(), MakeTarget(v1::COMPARATOR_ABOUT, 0, 60),
                           Values({{2020, 59}, {2022, 61.5}, {2024, 60}}));
  EXPECT_EQ(kept.status, v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_TRUE(kept.broken_years.empty());
  EXPECT_THAT(kept.explanation_zh, HasSubstr("2020年以来各年均符合60%左右的要求"));
}

TEST(ReachAndKeepTest, NotYetReachedIsMeasuredOnProgress) {
  // 「达到并保持在30％以上」 is MAINTAIN_AT_LEAST with the plan's end year:
  // never reached yet → progress toward 30 % by 2030, not RULE_BROKEN.
  // CAGR 2020→2024 = (26.5/24)^(1/4) − 1 = 2.51 %; needed from the base
  // (30/24)^(1/10) − 1 = 2.26 %: P = 1.11, on track.
  v1::Target target = MakeTarget(v1::COMPARATOR_MAINTAIN_AT_LEAST, 2030, 30);
  Assessment a = Assess(Proportion(), target, Values({{2020, 24}, {2022, 25}, {2024, 26.5}}));
  EXPECT_EQ(a.status, v1::PROGRESS_STATUS_ON_TRACK);
  EXPECT_FALSE(a.warns());
  EXPECT_TRUE(a.broken_years.empty());
  EXPECT_NEAR(a.figures.progress(),
              (std::pow(26.5 / 24, 0.25) - 1) / (std::pow(30.0 / 24, 0.1) - 1), 1e-12);
  EXPECT_THAT(a.explanation_zh, HasSubstr("可以达到≥30%的目标"));
  // Slower: 26 → 26.5 is P = 0.22 → at risk (orange PROGRESS), not red.
  Assessment slow = Assess(Proportion(), target, Values({{2020, 26}, {2024, 26.5}}));
  EXPECT_EQ(slow.status, v1::PROGRESS_STATUS_AT_RISK);
  EXPECT_EQ(slow.warning_kind, v1::WARNING_KIND_PROGRESS);
  EXPECT_EQ(slow.severity, v1::SEVERITY_ORANGE);
  // Reached in 2022 and then lost: kept from the year it was reached.
  Assessment lost = Assess(Proportion(), target, Values({{2020, 28}, {2022, 31}, {2024, 29}}));
  EXPECT_EQ(lost.warning_kind, v1::WARNING_KIND_RULE_BROKEN);
  ASSERT_EQ(lost.broken_years.size(), 1u);
  EXPECT_EQ(lost.broken_years[0].year, 2024);
}

TEST(FluctuationTest, PointsYearsApartAreAnnualised) {
  // A survey indicator measured in 2020 and 2024: 10 → 15 is +50 % over
  // four years, (1.5)^(1/4) − 1 = 10.7 % a year: below 20 %, no warning.
  absl::StatusOr<FluctuationResult> r =
      AssessFluctuation(Proportion(), Values({{2020, 10}, {2024, 15}}), MethodOptions());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, FluctuationMethod::kRelativeChange);
  EXPECT_EQ(r->gap_years, 4);
  EXPECT_NEAR(*r->relative_change, std::pow(1.5, 0.25) - 1, 1e-12);
  EXPECT_FALSE(r->warns);
  EXPECT_EQ(r->explanation_zh,
            "女性比例2024年为15.0%，比2020年上升5.0个百分点，间隔4年，年均变化幅度10.7%，"
            "未超过20%的波动阈值，属正常波动。");
  // The same +50 % in one year is 波动较大.
  absl::StatusOr<FluctuationResult> one =
      AssessFluctuation(Proportion(), Values({{2023, 10}, {2024, 15}}), MethodOptions());
  ASSERT_TRUE(one.ok());
  EXPECT_NEAR(*one->relative_change, 0.5, 1e-12);
  EXPECT_TRUE(one->warns);
  // Four years apart but +150 %: 25.7 % a year still warns.
  absl::StatusOr<FluctuationResult> big =
      AssessFluctuation(Proportion(), Values({{2020, 10}, {2024, 25}}), MethodOptions());
  ASSERT_TRUE(big.ok());
  EXPECT_TRUE(big->warns);
}

TEST(ToProtoTest, EveryFieldIsFilled) {
  Assessment a = Assess(Proportion(), MakeTarget(v1::COMPARATOR_ABOUT, 0, 45),
                        Values({{2020, 44}, {2024, 47.5}}));
  const v1::TargetAssessment p = a.ToProto();
  EXPECT_EQ(p.status(), v1::PROGRESS_STATUS_MISSED);
  EXPECT_EQ(p.severity(), v1::SEVERITY_ORANGE);
  EXPECT_EQ(p.warning_kind(), v1::WARNING_KIND_OUT_OF_BAND);
  EXPECT_EQ(p.explanation_zh(), a.explanation_zh);
  EXPECT_FALSE(p.explanation_en().empty());
  EXPECT_EQ(p.explanation_en(), a.explanation_en);
}

TEST(LateDataSeverityTest, EscalatesWithLateness) {
  const MethodOptions o;  // orange from 90 days, red from 180
  EXPECT_EQ(LateDataSeverity(-1, o), v1::SEVERITY_UNSPECIFIED);
  EXPECT_EQ(LateDataSeverity(0, o), v1::SEVERITY_YELLOW);
  EXPECT_EQ(LateDataSeverity(89, o), v1::SEVERITY_YELLOW);
  EXPECT_EQ(LateDataSeverity(90, o), v1::SEVERITY_ORANGE);
  EXPECT_EQ(LateDataSeverity(179, o), v1::SEVERITY_ORANGE);
  EXPECT_EQ(LateDataSeverity(180, o), v1::SEVERITY_RED);
  // SeverityFor agrees: the due date's severity.
  EXPECT_EQ(SeverityFor(v1::WARNING_KIND_LATE_DATA, v1::PROGRESS_STATUS_UNSPECIFIED),
            LateDataSeverity(0, o));
  MethodOptions custom;
  custom.late_orange_after_days = 30;
  custom.late_red_after_days = 60;
  EXPECT_EQ(LateDataSeverity(45, custom), v1::SEVERITY_ORANGE);
  EXPECT_EQ(LateDataSeverity(60, custom), v1::SEVERITY_RED);
  // Thresholds out of order are refused by the method's validation.
  MethodOptions bad;
  bad.late_orange_after_days = 60;
  bad.late_red_after_days = 60;
  EXPECT_EQ(AssessFluctuation(Proportion(), Values({{2020, 1}}), bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace halfsky::evaluation
