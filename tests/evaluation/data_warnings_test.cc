// The method's data-quality and late-data warnings (method/data_warnings.h):
// when they warn, their severity and their sentences, from plain inputs.

#include "services/evaluation/method/data_warnings.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace halfsky::evaluation {
namespace {

v1::Indicator Rate() {
  v1::Indicator ind;
  ind.set_id("HEALTH-04");
  ind.set_name_zh("孕产妇死亡率");
  ind.set_name_en("Maternal mortality ratio");
  ind.set_kind(v1::INDICATOR_KIND_RATE);
  ind.set_unit("/10万");
  ind.set_multiplier(100000);
  return ind;
}

v1::SeriesPoint Point(int year, double value, bool mismatch, double children) {
  v1::SeriesPoint p;
  p.set_year(year);
  p.set_value(value);
  p.set_children_mismatch(mismatch);
  p.set_children_value(children);
  return p;
}

TEST(DataQualityTest, LatestMismatchWarnsYellowWithBothFigures) {
  const std::vector<v1::SeriesPoint> total = {Point(2023, 12.0, false, 12.0),
                                              Point(2024, 14.3, true, 11.2)};
  DataQualityResult r = AssessDataQuality(Rate(), "金台区", total, MethodOptions());
  ASSERT_TRUE(r.warns);
  EXPECT_EQ(r.severity(), v1::SEVERITY_YELLOW);
  EXPECT_EQ(r.data_year, 2024);
  EXPECT_EQ(r.figures.current_year(), 2024);
  EXPECT_DOUBLE_EQ(r.figures.current_value(), 14.3);
  EXPECT_DOUBLE_EQ(r.figures.base_value(), 11.2);
  EXPECT_EQ(r.explanation_zh,
            "金台区孕产妇死亡率2024年直接报送值14.3/10万与下级区域汇总值11.2/10万不一致，"
            "请核实数据。");
  EXPECT_EQ(r.explanation_en,
            "Maternal mortality ratio 2024: the figure reported for the area (14.3 per 100,000) "
            "disagrees with the sum of its child areas (11.2 per 100,000); please check the "
            "data.");
}

TEST(DataQualityTest, OnlyTheLatestPointCounts) {
  const std::vector<v1::SeriesPoint> total = {Point(2023, 14.3, true, 11.2),
                                              Point(2024, 12.0, false, 12.0)};
  DataQualityResult r = AssessDataQuality(Rate(), "金台区", total, MethodOptions());
  EXPECT_FALSE(r.warns);
  EXPECT_EQ(r.severity(), v1::SEVERITY_UNSPECIFIED);
  EXPECT_TRUE(r.explanation_zh.empty());
  EXPECT_FALSE(AssessDataQuality(Rate(), "金台区", {}, MethodOptions()).warns);
}

TEST(DataQualityTest, PointAfterAsOfYearIsNotJudged) {
  const std::vector<v1::SeriesPoint> total = {Point(2024, 14.3, true, 11.2)};
  MethodOptions options;
  options.as_of_year = 2023;
  EXPECT_FALSE(AssessDataQuality(Rate(), "金台区", total, options).warns);
  options.as_of_year = 2024;
  EXPECT_TRUE(AssessDataQuality(Rate(), "金台区", total, options).warns);
}

TEST(DataQualityTest, AbsentFiguresPrintAsDash) {
  v1::SeriesPoint p;
  p.set_year(2024);
  p.set_children_mismatch(true);
  DataQualityResult r = AssessDataQuality(Rate(), "金台区", {p}, MethodOptions());
  ASSERT_TRUE(r.warns);
  EXPECT_FALSE(r.figures.has_current_value());
  EXPECT_FALSE(r.figures.has_base_value());
  EXPECT_EQ(r.explanation_zh,
            "金台区孕产妇死亡率2024年直接报送值-与下级区域汇总值-不一致，请核实数据。");
}

LateDataInput OneItem(int days) {
  static const v1::Indicator* const kRate = new v1::Indicator(Rate());
  LateDataInput in;
  in.unit_name_zh = "区卫生健康局";
  in.unit_name_en = "District Health Commission";
  in.data_year = 2023;
  OverdueItem item;
  item.indicator = kRate;
  in.items.push_back(item);
  in.earliest_due = absl::CivilDay(2023, 12, 31);
  in.days_overdue = days;
  return in;
}

TEST(LateDataTest, OneItemSentenceAndSeverity) {
  LateDataResult r = AssessLateData(OneItem(425), MethodOptions());
  EXPECT_EQ(r.severity, v1::SEVERITY_RED);
  EXPECT_EQ(r.subject_zh, "孕产妇死亡率");
  EXPECT_EQ(r.explanation_zh,
            "区卫生健康局逾期未报送2023年数据1项：孕产妇死亡率（HEALTH-04）；应于2023年12月31日前"
            "报送，已逾期425天。");
  EXPECT_EQ(r.explanation_en,
            "District Health Commission has not submitted 1 item of 2023 data: Maternal mortality "
            "ratio (HEALTH-04); due by 2023-12-31, 425 days overdue.");
}

TEST(LateDataTest, SeverityFollowsTheOptions) {
  MethodOptions options;
  EXPECT_EQ(AssessLateData(OneItem(0), options).severity, v1::SEVERITY_YELLOW);
  EXPECT_EQ(AssessLateData(OneItem(89), options).severity, v1::SEVERITY_YELLOW);
  EXPECT_EQ(AssessLateData(OneItem(90), options).severity, v1::SEVERITY_ORANGE);
  EXPECT_EQ(AssessLateData(OneItem(180), options).severity, v1::SEVERITY_RED);
  options.late_orange_after_days = 10;
  options.late_red_after_days = 20;
  EXPECT_EQ(AssessLateData(OneItem(10), options).severity, v1::SEVERITY_ORANGE);
  EXPECT_EQ(AssessLateData(OneItem(20), options).severity, v1::SEVERITY_RED);
  LateDataResult one_day = AssessLateData(OneItem(1), options);
  EXPECT_NE(one_day.explanation_en.find(", 1 day overdue."), std::string::npos)
      << one_day.explanation_en;
}

TEST(LateDataTest, PartnersNarrativesDifferentDueDatesAndManyItems) {
  std::vector<v1::Indicator> indicators(4);
  for (int i = 0; i < 4; ++i) {
    indicators[i].set_id("DECISION-0" + std::to_string(i + 1));
    indicators[i].set_name_zh("指标" + std::to_string(i + 1));
    indicators[i].set_name_en("Indicator " + std::to_string(i + 1));
    indicators[i].set_kind(v1::INDICATOR_KIND_PROPORTION);
  }
  indicators[1].set_kind(v1::INDICATOR_KIND_QUALITATIVE);
  LateDataInput in;
  in.unit_name_zh = "区妇联";
  in.unit_name_en = "Women's Federation";
  in.data_year = 2024;
  for (const v1::Indicator& ind : indicators) {
    OverdueItem item;
    item.indicator = &ind;
    in.items.push_back(item);
  }
  in.items[0].partner_names_zh = {"区民政局", "区统计局"};
  in.items[0].partner_names_en = {"Civil Affairs", "Statistics"};
  in.earliest_due = absl::CivilDay(2025, 1, 31);
  in.same_due = false;
  in.days_overdue = 59;
  LateDataResult r = AssessLateData(in, MethodOptions());
  EXPECT_EQ(r.subject_zh, "指标1、指标2、指标3等4项");
  EXPECT_EQ(
      r.explanation_zh,
      "区妇联逾期未报送2024年数据4项：指标1（DECISION-01，牵头单位；配合单位：区民政局、"
      "区统计局）、指标2（DECISION-02，本单位工作进展）、指标3（DECISION-03）、指标4（DECISION-"
      "04）；最早应于2025年1月31日前报送，已逾期59天。");
  EXPECT_EQ(r.explanation_en,
            "Women's Federation has not submitted 4 items of 2024 data: Indicator 1 (DECISION-01, "
            "lead unit; with Civil Affairs, Statistics), Indicator 2 (DECISION-02, the unit's own "
            "narrative), Indicator 3 (DECISION-03), Indicator 4 (DECISION-04); the first was due "
            "by 2025-01-31, 59 days overdue.");
  in.items.pop_back();
  EXPECT_EQ(AssessLateData(in, MethodOptions()).subject_zh, "指标1、指标2、指标3");
}

}  // namespace
}  // namespace halfsky::evaluation
