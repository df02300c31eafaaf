// Each area is evaluated against the targets of the plan that governs it
// (issue #17), on deploy/examples/city/catalog: 宝鸡市 against the city's
// plan (孕产妇死亡率 ≤ 12/10万), 金台区 against its own (≤ 10.15), 渭滨区
// against its own (≤ 11, invented for the demo); the report and the target
// warnings name the plan.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/catalog/catalog.h"
#include "common/clock/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/evaluation/service/evaluator.h"
#include "services/evaluation/service/series_source.h"
#include "services/evaluation/service/warning_engine.h"
#include "services/evaluation/service/warning_store.h"
#include "tests/support/process.h"

namespace halfsky::evaluation {
namespace {

using ::testing::HasSubstr;

constexpr char kCity[] = "610300";
constexpr char kWeibin[] = "610302";
constexpr char kJintai[] = "610303";

// The (total) series of each area, from a table. Counts its reads (the
// worker thread reads while a test waits): Read per indicator, and the size
// of each ReadMany batch; ReadMany fails with UNAVAILABLE while
// FailBatches(true).
class TableSeries final : public SeriesSource {
 public:
  void Put(const std::string& area, std::vector<halfsky::v1::SeriesPoint> points) {
    absl::MutexLock lock(&mu_);
    table_[area] = std::move(points);
  }
  void FailBatches(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_batches_ = fail;
  }
  void ResetCounts() {
    absl::MutexLock lock(&mu_);
    reads_.clear();
    batches_.clear();
  }
  std::map<std::string, int> reads() const {
    absl::MutexLock lock(&mu_);
    return reads_;
  }
  std::vector<size_t> batches() const {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  absl::StatusOr<IndicatorSnapshot> Read(const halfsky::v1::Indicator& indicator,
                                         const std::vector<std::string>& area_codes,
                                         const std::vector<SeriesSpec>& specs) override {
    absl::MutexLock lock(&mu_);
    ++reads_[indicator.id()];
    return Build(indicator, area_codes, specs);
  }
  absl::StatusOr<std::vector<IndicatorSnapshot>> ReadMany(
      const std::vector<SeriesRequest>& requests) override {
    absl::MutexLock lock(&mu_);
    batches_.push_back(requests.size());
    if (fail_batches_) {
      return absl::UnavailableError("batch refused by the test");
    }
    std::vector<IndicatorSnapshot> out;
    for (const SeriesRequest& r : requests) {
      out.push_back(Build(*r.indicator, r.area_codes, r.specs));
    }
    return out;
  }

 private:
  IndicatorSnapshot Build(const halfsky::v1::Indicator& indicator,
                          const std::vector<std::string>& area_codes,
                          const std::vector<SeriesSpec>& specs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    IndicatorSnapshot snapshot;
    snapshot.indicator_id = indicator.id();
    for (const std::string& code : area_codes) {
      AreaSeries area;
      area.area_code = code;
      for (const SeriesSpec& spec : specs) {
        area.series[spec];
      }
      if (indicator.id() == "HEALTH-01" && table_.count(code) > 0) {
        area.series[SeriesSpec{}] = table_[code];
      }
      snapshot.areas.push_back(std::move(area));
    }
    return snapshot;
  }

  mutable absl::Mutex mu_;
  std::map<std::string, std::vector<halfsky::v1::SeriesPoint>> table_ ABSL_GUARDED_BY(mu_);
  bool fail_batches_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, int> reads_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> batches_ ABSL_GUARDED_BY(mu_);
};

// A rate per 10万 from 10^6 live births (never a rare event).
std::vector<halfsky::v1::SeriesPoint> Rates(std::vector<double> values) {
  std::vector<halfsky::v1::SeriesPoint> out;
  int year = 2020;
  for (double v : values) {
    halfsky::v1::SeriesPoint p;
    p.set_year(year++);
    p.set_value(v);
    p.set_numerator(v * 10);
    p.set_denominator(1000000);
    p.set_direct(true);
    p.set_completeness_percent(100);
    out.push_back(p);
  }
  return out;
}

class MultiPlanEvaluationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog =
        CatalogIndex::Load({std::string(HALFSKY_SOURCE_DIR) + "/deploy/examples/city/catalog"});
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = *catalog;
    auto store =
        WarningStore::Open(halfsky::testing::MakeTempDir("evaluation-multiplan") + "/e.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto engine = WarningEngine::Create(store_.get(), &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    EvaluatorOptions options;
    options.area_depth = 1;  // the city and its districts
    evaluator_ =
        std::make_unique<Evaluator>(catalog_, &series_, nullptr, engine_.get(), &clock_, options);
  }

  // The 孕产妇死亡率 target values the report assesses for `area`.
  std::vector<double> ReportedTargets(const halfsky::v1::EvaluationReport& report) {
    std::vector<double> out;
    for (const auto& ia : report.indicators()) {
      if (ia.indicator_id() != "HEALTH-01") {
        continue;
      }
      for (const auto& ta : ia.assessments()) {
        out.push_back(ta.target().value());
      }
    }
    return out;
  }

  absl::StatusOr<halfsky::v1::EvaluationReport> Annual(const std::string& area) {
    halfsky::v1::GetEvaluationReportRequest request;
    request.set_type(halfsky::v1::REPORT_TYPE_ANNUAL);
    request.set_year(2023);
    request.set_area_code(area);
    return evaluator_->Report(request);
  }

  FakeClock clock_{absl::FromUnixSeconds(1767225600)};  // 2026-01-01 UTC
  std::shared_ptr<const CatalogIndex> catalog_;
  TableSeries series_;
  std::unique_ptr<WarningStore> store_;
  std::unique_ptr<WarningEngine> engine_;
  std::unique_ptr<Evaluator> evaluator_;
};

TEST_F(MultiPlanEvaluationTest, EachAreaIsEvaluatedAgainstItsOwnPlansTargets) {
  series_.Put(kCity, Rates({20, 18, 16, 14}));
  series_.Put(kJintai, Rates({20, 18, 16, 14}));
  series_.Put(kWeibin, Rates({20, 18, 16, 14}));

  auto city = Annual(kCity);
  ASSERT_TRUE(city.ok()) << city.status();
  EXPECT_EQ(city->plan_code(), "BAOJI");
  EXPECT_EQ(city->plan_title_zh(), "宝鸡市妇女发展规划（2021—2030年）（示例）");
  EXPECT_THAT(ReportedTargets(*city), ::testing::ElementsAre(12));

  auto jintai = Annual(kJintai);
  ASSERT_TRUE(jintai.ok()) << jintai.status();
  EXPECT_EQ(jintai->plan_code(), "JINTAI");
  EXPECT_EQ(jintai->plan_title_zh(), "金台区妇女发展规划（2021—2030年）");
  EXPECT_THAT(ReportedTargets(*jintai), ::testing::ElementsAre(10.15));

  auto weibin = Annual(kWeibin);
  ASSERT_TRUE(weibin.ok()) << weibin.status();
  EXPECT_EQ(weibin->plan_code(), "WEIBIN");
  EXPECT_THAT(ReportedTargets(*weibin), ::testing::ElementsAre(11));
}

TEST_F(MultiPlanEvaluationTest, TargetWarningsNameThePlanTheyEvaluate) {
  // Rising where lower is better: moving away from every plan's target.
  series_.Put(kJintai, Rates({10, 12, 14, 16}));
  const halfsky::v1::Indicator* mmr = catalog_->FindIndicator("HEALTH-01");
  ASSERT_NE(mmr, nullptr);
  auto snapshot = series_.Read(*mmr, {kJintai}, NeededSeries(*mmr));
  ASSERT_TRUE(snapshot.ok());
  auto warnings =
      evaluator_->CandidateWarnings(*mmr, kJintai, snapshot->areas.at(0), MethodOptions{});
  ASSERT_TRUE(warnings.ok()) << warnings.status();
  int target_warnings = 0;
  for (const auto& w : *warnings) {
    if (w.kind() == halfsky::v1::WARNING_KIND_FLUCTUATION ||
        w.kind() == halfsky::v1::WARNING_KIND_DATA_QUALITY) {
      continue;
    }
    ++target_warnings;
    EXPECT_EQ(w.plan_code(), "JINTAI") << w.ShortDebugString();
    EXPECT_EQ(w.target_year(), 2030);
    EXPECT_THAT(w.explanation_zh(), HasSubstr("评估依据：金台区妇女发展规划（2021—2030年）"));
  }
  EXPECT_EQ(target_warnings, 1) << "one target (金台区's 10.15), not the city's or 渭滨区's";
}

TEST_F(MultiPlanEvaluationTest, AReportTakesTheYearsOfTheAreasPlan) {
  // 渭滨区's plan with years of its own: mid-term 2024, base 2019.
  halfsky::v1::Catalog proto = catalog_->catalog();
  for (auto& plan : *proto.mutable_plans()) {
    if (plan.code() == "WEIBIN") {
      plan.set_base_year(2019);
      plan.set_midterm_year(2024);
    }
  }
  auto catalog = CatalogIndex::FromProto(proto);
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  Evaluator evaluator(*catalog, &series_, nullptr, engine_.get(), &clock_, EvaluatorOptions{});
  halfsky::v1::GetEvaluationReportRequest request;
  request.set_type(halfsky::v1::REPORT_TYPE_MIDTERM);
  request.set_area_code(kWeibin);
  auto weibin = evaluator.Report(request);
  ASSERT_TRUE(weibin.ok()) << weibin.status();
  EXPECT_EQ(weibin->year(), 2024);
  request.set_area_code(kJintai);
  auto jintai = evaluator.Report(request);
  ASSERT_TRUE(jintai.ok()) << jintai.status();
  EXPECT_EQ(jintai->year(), 2025);
  // 2019 is within 渭滨区's plan, not within the city's.
  request.set_type(halfsky::v1::REPORT_TYPE_ANNUAL);
  request.set_year(2019);
  request.set_area_code(kWeibin);
  EXPECT_TRUE(evaluator.Report(request).ok());
  request.set_area_code(kCity);
  EXPECT_EQ(evaluator.Report(request).status().code(), absl::StatusCode::kInvalidArgument);
}

// issue #17 item 4: the city's report reads its districts, each against its
// own plan and against the city's, ranked, with the gap to the city.
TEST_F(MultiPlanEvaluationTest, TheCityReportComparesItsDistricts) {
  series_.Put(kCity, Rates({20, 18, 16, 14}));
  series_.Put(kJintai, Rates({20, 17, 14, 11}));
  series_.Put(kWeibin, Rates({14, 15, 16, 17}));
  auto city = Annual(kCity);
  ASSERT_TRUE(city.ok()) << city.status();
  ASSERT_EQ(city->child_areas_size(), 2);
  EXPECT_THAT(city->child_areas_covers_zh(), HasSubstr("达标率 = 已达标或进展良好的指标数"));
  const auto& weibin = city->child_areas(0);  // catalog order
  const auto& jintai = city->child_areas(1);
  EXPECT_EQ(weibin.area_code(), kWeibin);
  EXPECT_EQ(weibin.plan_code(), "WEIBIN");
  EXPECT_EQ(jintai.plan_code(), "JINTAI");
  EXPECT_EQ(jintai.plan_title_zh(), "金台区妇女发展规划（2021—2030年）");

  // HEALTH-01 of 金台区: 11 in 2023, against its own ≤ 10.15 and the city's ≤ 12.
  ASSERT_GE(jintai.indicators_size(), 1);
  const auto& j = jintai.indicators(0);
  EXPECT_EQ(j.indicator_id(), "HEALTH-01");
  ASSERT_EQ(j.own_plan_assessments_size(), 1);
  EXPECT_DOUBLE_EQ(j.own_plan_assessments(0).target().value(), 10.15);
  ASSERT_EQ(j.report_plan_assessments_size(), 1);
  EXPECT_DOUBLE_EQ(j.report_plan_assessments(0).target().value(), 12);
  EXPECT_EQ(j.report_plan_status(), halfsky::v1::PROGRESS_STATUS_ACHIEVED);
  EXPECT_NE(j.own_plan_status(), halfsky::v1::PROGRESS_STATUS_ACHIEVED);  // 11 > 10.15
  EXPECT_EQ(j.year(), 2023);
  EXPECT_DOUBLE_EQ(j.figure().value(), 11);
  EXPECT_DOUBLE_EQ(j.report_area_figure().value(), 14);
  ASSERT_TRUE(j.has_gap_to_report_area());
  EXPECT_DOUBLE_EQ(j.gap_to_report_area(), -3);
  EXPECT_EQ(j.rank(), 1);  // lower is better
  EXPECT_EQ(j.ranked_count(), 2);
  EXPECT_THAT(j.covers_zh(), HasSubstr("2023年；差距 = 金台区 − 宝鸡市"));
  const auto& w = weibin.indicators(0);
  EXPECT_DOUBLE_EQ(w.gap_to_report_area(), 3);
  EXPECT_EQ(w.rank(), 2);
  EXPECT_EQ(w.report_plan_status(), halfsky::v1::PROGRESS_STATUS_MOVING_AWAY);
  EXPECT_DOUBLE_EQ(w.own_plan_assessments(0).target().value(), 11);

  // 达标率 against the city's plan ranks them (HEALTH-02 has no data: not
  // assessable, outside the denominator).
  EXPECT_EQ(jintai.report_plan().assessed_count(), 1);
  EXPECT_DOUBLE_EQ(jintai.report_plan().achievement_rate_percent(), 100);
  EXPECT_EQ(jintai.rank(), 1);
  EXPECT_EQ(weibin.report_plan().assessed_count(), 1);
  EXPECT_DOUBLE_EQ(weibin.report_plan().achievement_rate_percent(), 0);
  EXPECT_EQ(weibin.rank(), 2);
  EXPECT_EQ(weibin.ranked_count(), 2);

  // A district's report reads its towns under the same plan: no comparison.
  auto district = Annual(kJintai);
  ASSERT_TRUE(district.ok()) << district.status();
  EXPECT_EQ(district->child_areas_size(), 0);
}

TEST_F(MultiPlanEvaluationTest, APartialDistrictFigureIsNeitherComparedNorRanked) {
  series_.Put(kCity, Rates({20, 18, 16, 14}));
  series_.Put(kJintai, Rates({20, 17, 14, 11}));
  std::vector<halfsky::v1::SeriesPoint> weibin = Rates({14, 15, 16, 17});
  weibin.back().set_incomplete(true);  // 2023: one of its two towns
  weibin.back().set_direct(false);
  weibin.back().set_contributing_area_count(1);
  weibin.back().set_expected_area_count(2);
  series_.Put(kWeibin, weibin);
  auto city = Annual(kCity);
  ASSERT_TRUE(city.ok()) << city.status();
  ASSERT_EQ(city->child_areas_size(), 2);
  const auto& w = city->child_areas(0).indicators(0);
  EXPECT_EQ(w.year(), 2023);
  EXPECT_TRUE(w.figure().incomplete());
  EXPECT_FALSE(w.has_gap_to_report_area());
  EXPECT_EQ(w.rank(), 0);
  EXPECT_THAT(w.covers_zh(), HasSubstr("2023年仅1/2个镇街报送，为部分数，不与宝鸡市比较、不排名"));
  const auto& j = city->child_areas(1).indicators(0);
  EXPECT_EQ(j.rank(), 1);
  EXPECT_EQ(j.ranked_count(), 1);
}

// review-city finding 2: a part never picks the comparison year. 渭滨区's
// early partial 2023 figure (1/2 towns) must not move the comparison to
// 2023, where 金台区 has no figure yet: both are compared on 2022.
TEST_F(MultiPlanEvaluationTest, APartialFigureDoesNotPickTheComparisonYear) {
  series_.Put(kCity, Rates({20, 18, 16, 14}));
  series_.Put(kJintai, Rates({20, 17, 14}));  // up to 2022
  std::vector<halfsky::v1::SeriesPoint> weibin = Rates({14, 15, 16, 17});
  weibin.back().set_incomplete(true);  // 2023: one of its two towns
  weibin.back().set_direct(false);
  weibin.back().set_contributing_area_count(1);
  weibin.back().set_expected_area_count(2);
  series_.Put(kWeibin, weibin);
  auto city = Annual(kCity);
  ASSERT_TRUE(city.ok()) << city.status();
  ASSERT_EQ(city->child_areas_size(), 2);
  const auto& w = city->child_areas(0).indicators(0);
  const auto& j = city->child_areas(1).indicators(0);
  EXPECT_EQ(w.year(), 2022);
  EXPECT_EQ(j.year(), 2022);
  EXPECT_DOUBLE_EQ(w.figure().value(), 16);
  EXPECT_FALSE(w.figure().incomplete());
  EXPECT_DOUBLE_EQ(j.gap_to_report_area(), 14 - 16);
  EXPECT_DOUBLE_EQ(w.gap_to_report_area(), 0);
  EXPECT_EQ(j.rank(), 1);
  EXPECT_EQ(w.rank(), 2);
  EXPECT_EQ(j.ranked_count(), 2);
  EXPECT_THAT(j.covers_zh(), HasSubstr("2022年；差距 = 金台区 − 宝鸡市"));
}

// review-city finding 1: with approved_only a figure with unapproved data
// is left out like a part, on both sides: no gap, no rank.
TEST_F(MultiPlanEvaluationTest, WithApprovedOnlyAnUnapprovedFigureIsNeitherComparedNorRanked) {
  std::vector<halfsky::v1::SeriesPoint> city = Rates({20, 18, 16, 14});
  city.back().set_contains_unapproved_data(true);  // 2023
  series_.Put(kCity, city);
  series_.Put(kJintai, Rates({20, 17, 14, 11}));
  std::vector<halfsky::v1::SeriesPoint> weibin = Rates({14, 15, 16, 17});
  weibin.back().set_contains_unapproved_data(true);  // 2023
  series_.Put(kWeibin, weibin);
  EvaluatorOptions options;
  options.area_depth = 1;
  options.method.approved_only = true;
  Evaluator evaluator(catalog_, &series_, nullptr, engine_.get(), &clock_, options);
  halfsky::v1::GetEvaluationReportRequest request;
  request.set_type(halfsky::v1::REPORT_TYPE_ANNUAL);
  request.set_year(2023);
  request.set_area_code(kCity);
  auto report = evaluator.Report(request);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->child_areas_size(), 2);
  const auto& w = report->child_areas(0).indicators(0);
  const auto& j = report->child_areas(1).indicators(0);
  EXPECT_EQ(w.year(), 2023);  // 金台区's approved 2023 figure picks the year
  EXPECT_FALSE(w.has_gap_to_report_area());
  EXPECT_EQ(w.rank(), 0);
  EXPECT_THAT(w.covers_zh(),
              HasSubstr("2023年渭滨区含未审核数据（仅评估已审核数据），不与宝鸡市比较、不排名"));
  EXPECT_FALSE(j.has_gap_to_report_area()) << "the city's 2023 figure is unapproved";
  EXPECT_THAT(j.covers_zh(), HasSubstr("宝鸡市同年含未审核数据（仅评估已审核数据），不计差距"));
  EXPECT_EQ(j.rank(), 1);
  EXPECT_EQ(j.ranked_count(), 1);
}

// review-city finding 3: each area is judged against its parent, not the
// root. At depth 2 金台区's towns (under 金台区's plan) moving away from its
// target just as the district does are the district's warning, not one per
// town (judged against the city, under another plan, each town warned).
TEST_F(MultiPlanEvaluationTest, AtDepthTwoATownIsJudgedAgainstItsDistrict) {
  series_.Put(kJintai, Rates({10, 12, 14, 16}));  // the city: no data
  series_.Put("610303001", Rates({10, 12, 14, 16}));
  series_.Put("610303100", Rates({10, 12, 14, 16}));
  EvaluatorOptions options;
  options.area_depth = 2;
  Evaluator evaluator(catalog_, &series_, nullptr, engine_.get(), &clock_, options);
  ASSERT_TRUE(evaluator.EvaluateIndicator("HEALTH-01").ok());
  auto target_warnings = [&](const std::string& area) {
    halfsky::v1::ListWarningsRequest filter;
    filter.set_area_code(area);
    int n = 0;
    for (const auto& w : engine_->Snapshot(filter)) {
      n += w.target_year() != 0 && w.kind() != halfsky::v1::WARNING_KIND_FLUCTUATION &&
           w.kind() != halfsky::v1::WARNING_KIND_DATA_QUALITY;
    }
    return n;
  };
  EXPECT_EQ(target_warnings(kJintai), 1);
  EXPECT_EQ(target_warnings("610303001"), 0) << "the same as its district";
  EXPECT_EQ(target_warnings("610303100"), 0) << "the same as its district";
}

TEST_F(MultiPlanEvaluationTest, TheOnePlanCatalogNamesItsPlanAndNoCode) {
  auto catalog = CatalogIndex::Load({std::string(HALFSKY_SOURCE_DIR) + "/deploy/catalog"});
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  Evaluator evaluator(*catalog, &series_, nullptr, engine_.get(), &clock_, EvaluatorOptions{});
  halfsky::v1::GetEvaluationReportRequest request;
  request.set_type(halfsky::v1::REPORT_TYPE_ANNUAL);
  request.set_year(2023);
  auto report = evaluator.Report(request);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->plan_code(), "");
  EXPECT_EQ(report->plan_title_zh(), "金台区妇女发展规划（2021—2030年）");
  int targets = 0;
  for (const auto& ia : report->indicators()) {
    targets += ia.assessments_size();
  }
  EXPECT_EQ(targets, 65);                    // every target of the plan (docs/CATALOG.md)
  EXPECT_EQ(report->child_areas_size(), 0);  // one plan: nothing to compare
}

TEST_F(MultiPlanEvaluationTest, AreaDepthReachesEveryLevelBelowTheRoot) {
  // city → district → town/subdistrict: depth 2 reaches the towns (a
  // province's counties are at depth 2, their towns at 3).
  auto areas_at = [&](int depth) {
    EvaluatorOptions options;
    options.area_depth = depth;
    return Evaluator(catalog_, &series_, nullptr, engine_.get(), &clock_, options).EvaluatedAreas();
  };
  using ::testing::ElementsAre;
  EXPECT_THAT(areas_at(0), ElementsAre(kCity));
  EXPECT_THAT(areas_at(1), ElementsAre(kCity, kWeibin, kJintai));
  EXPECT_THAT(areas_at(2), ElementsAre(kCity, kWeibin, kJintai, "610302001", "610302100",
                                       "610303001", "610303100"));
  EXPECT_EQ(areas_at(9), areas_at(2)) << "no level below the towns";
}

// The worker's pass over the indicators that update messages named reads
// them in one batch (SeriesSource::ReadMany: one Redis transaction for
// all); when that batch fails, each indicator reads for itself and is
// still evaluated. The table is filled only after Start's full pass, so
// the HEALTH-01 target warning can only come from the pending pass.
class PendingPassTest : public MultiPlanEvaluationTest {
 protected:
  void StartAndEnqueueBoth() {
    ASSERT_TRUE(evaluator_->Start(nullptr).ok());
    WaitForPasses(1);                               // Start's full pass, on an empty table
    series_.Put(kJintai, Rates({10, 12, 14, 16}));  // moving away from 10.15
    series_.ResetCounts();
    evaluator_->Enqueue({"HEALTH-01", "HEALTH-02"});
    WaitForPasses(2);
  }
  void WaitForPasses(int64_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (evaluator_->completed_passes() < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_GE(evaluator_->completed_passes(), n);
  }
  int JintaiTargetWarnings() {
    int n = 0;
    for (const auto& w : engine_->Snapshot(halfsky::v1::ListWarningsRequest())) {
      if (w.indicator_id() == "HEALTH-01" && w.area_code() == kJintai &&
          w.kind() != halfsky::v1::WARNING_KIND_FLUCTUATION &&
          w.kind() != halfsky::v1::WARNING_KIND_DATA_QUALITY) {
        ++n;
      }
    }
    return n;
  }
};

TEST_F(PendingPassTest, PendingIndicatorsAreReadInOneBatch) {
  StartAndEnqueueBoth();
  evaluator_->Stop();
  EXPECT_THAT(series_.batches(), ::testing::ElementsAre(2u));
  EXPECT_THAT(series_.reads(), ::testing::IsEmpty());
  EXPECT_EQ(JintaiTargetWarnings(), 1);
}

TEST_F(PendingPassTest, AFailedBatchReadsEachIndicatorItself) {
  series_.FailBatches(true);
  StartAndEnqueueBoth();
  evaluator_->Stop();
  EXPECT_THAT(series_.batches(), ::testing::ElementsAre(2u));
  EXPECT_THAT(series_.reads(), ::testing::UnorderedElementsAre(::testing::Pair("HEALTH-01", 1),
                                                               ::testing::Pair("HEALTH-02", 1)));
  EXPECT_EQ(JintaiTargetWarnings(), 1) << "HEALTH-01 still evaluated from its own read";
}

}  // namespace
}  // namespace halfsky::evaluation
