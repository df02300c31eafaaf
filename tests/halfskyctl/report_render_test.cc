#include "common/views/report_render.h"

#include <regex>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/views/labels.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/halfskyctl/golden.h"
#include "tests/halfskyctl/sample_report.h"

namespace halfsky {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

views::ReportContext Context(const v1::AnnualReport* annual) {
  views::ReportContext ctx;
  ctx.plan_title_zh = "金台区妇女发展规划（2021—2030年）";
  ctx.area_name_zh = "金台区";
  ctx.banner_zh = "示例数据（合成）/ synthetic sample";
  ctx.unit_names_zh = {{"PEOPLES_CONGRESS", "区人大常委会办公室"}, {"HEALTH", "区卫生健康局"}};
  ctx.annual = annual;
  return ctx;
}

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST(ReportHtmlTest, IsSelfContainedAndForbidsFetching) {
  const std::string html = views::RenderReportHtml(testing::SampleReport(), Context(nullptr));
  EXPECT_THAT(
      html,
      HasSubstr("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"));
  EXPECT_THAT(html, HasSubstr("<html lang=\"zh-CN\">"));
  EXPECT_THAT(html, HasSubstr("@page { size: A4;"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  // The only URL is the SVG namespace.
  std::string without_ns = html;
  for (size_t at; (at = without_ns.find("http://www.w3.org/2000/svg")) != std::string::npos;) {
    without_ns.erase(at, 26);
  }
  EXPECT_THAT(without_ns, Not(HasSubstr("http://")));
  EXPECT_THAT(without_ns, Not(HasSubstr("https://")));
  EXPECT_THAT(without_ns, Not(HasSubstr("url(")));
}

TEST(ReportHtmlTest, SummaryWarningsAndSentences) {
  const v1::AnnualReport annual = testing::SampleAnnualReport();
  const std::string html = views::RenderReportHtml(testing::SampleReport(), Context(&annual));
  EXPECT_THAT(html, HasSubstr("金台区妇女发展规划（2021—2030年） 2024年度监测评估报告"));
  EXPECT_THAT(html, HasSubstr("示例数据（合成）"));
  EXPECT_THAT(html, HasSubstr("<td>妇女与健康</td><td class=\"n\">2</td><td class=\"n\">1</td><td "
                              "class=\"n\">50%</td>"));
  EXPECT_THAT(html, HasSubstr("共 5 条预警"));
  EXPECT_THAT(html, HasSubstr("难以达到≤10.15/10万的目标"));
  // The fluctuation warning is not an assessment sentence: shown beside the chart too.
  EXPECT_EQ(Count(html, "近年波动较大"), 2);
  EXPECT_EQ(Count(html, "<section class=\"domain\""), 3);
  EXPECT_THAT(html, HasSubstr("2024年监测数据"));
  EXPECT_THAT(html, HasSubstr("95%置信区间"));
}

// A per-unit late-data warning (no indicator_id) is printed as the unit with
// its missing indicators (bounded, 等N项) and the days overdue, in every
// format; under an indicator it lists, it is shown beside that indicator.
TEST(ReportRenderTest, UnitLateDataWarningShowsUnitMissingIndicatorsAndDays) {
  const v1::AnnualReport annual = testing::SampleAnnualReport();
  views::ReportContext ctx = Context(&annual);
  ctx.indicator_names_zh = {{"DECISION-03", "区人大代表中女性比例"},
                            {"DECISION-06", "区政协委员中女性比例"},
                            {"DECISION-07", "区人大常委会组成人员中女性比例"}};
  const v1::EvaluationReport report = testing::SampleReport();
  const std::string subject =
      "区人大常委会办公室 未报4项：DECISION-03 区人大代表中女性比例、DECISION-06 "
      "区政协委员中女性比例、DECISION-07 区人大常委会组成人员中女性比例等4项";
  const std::string html = views::RenderReportHtml(report, ctx);
  EXPECT_THAT(html, HasSubstr(absl::StrCat(
                        "<tr data-warning=\"unit.PEOPLES_CONGRESS:610303:late_data:2024\">"
                        "<td class=\"sev\" style=\"color:#d4a72c\">黄色预警</td><td>",
                        subject, "</td><td>数据迟报（逾期59天）</td>")));
  EXPECT_THAT(html, Not(HasSubstr("<td> </td>")));
  const std::string md = views::RenderReportMarkdown(report, ctx);
  EXPECT_THAT(md, HasSubstr(absl::StrCat("| 黄色预警 | ", subject, " | 数据迟报（逾期59天） |")));
  EXPECT_THAT(md, HasSubstr("| 红色预警 | 区卫生健康局 未报1项：HEALTH-04 孕产妇死亡率 | "
                            "数据迟报（逾期425天） |"));
  // Red first: the unit's red warning comes before every orange one.
  EXPECT_LT(md.find("区卫生健康局 未报1项"), md.find("| 橙色预警 |"));
  // Beside HEALTH-04, the indicator it lists.
  EXPECT_THAT(md, HasSubstr("- **红色预警·数据迟报** 区卫生健康局逾期未报送2023年数据1项"));
  const std::string csv = views::RenderReportCsv(report, ctx);
  EXPECT_THAT(csv, HasSubstr(",PEOPLES_CONGRESS,区人大常委会办公室,"
                             "DECISION-03;DECISION-06;DECISION-07;DECISION-08,59,,,,,,\n"));
}

TEST(ReportHtmlTest, OneChartPerIndicatorWithData) {
  const v1::EvaluationReport report = testing::SampleReport();
  const std::string html = views::RenderReportHtml(report, Context(nullptr));
  EXPECT_EQ(Count(html, "<svg class=\"chart\""), 4);
  EXPECT_EQ(Count(html, "<article class=\"indicator"), 5);
  EXPECT_EQ(Count(html, "<article class=\"indicator nochart\" data-indicator=\"HEALTH-10\""), 1);
  EXPECT_TRUE(views::HasChart(report.indicators(0)));
  EXPECT_FALSE(views::HasChart(report.indicators(2)));
}

TEST(ReportChartTest, PointsSitOnTheScale) {
  const v1::EvaluationReport report = testing::SampleReport();
  for (const auto& ia : report.indicators()) {
    if (!views::HasChart(ia)) {
      continue;
    }
    const views::ChartScale s = views::ChartScaleFor(ia);
    const std::string svg = views::RenderChartSvg(ia);
    int seen = 0;
    for (const auto& p : ia.series()) {
      if (!p.has_value()) {
        EXPECT_THAT(svg,
                    Not(HasSubstr("data-year=\"" + std::to_string(p.year()) + "\" data-value")));
        continue;
      }
      const std::regex re("<circle class=\"pt\" data-year=\"" + std::to_string(p.year()) +
                          "\" data-value=\"([^\"]+)\" cx=\"([^\"]+)\" cy=\"([^\"]+)\"");
      std::smatch m;
      ASSERT_TRUE(std::regex_search(svg, m, re)) << ia.indicator_id() << " " << p.year();
      EXPECT_DOUBLE_EQ(std::stod(m[1]), p.value());
      EXPECT_NEAR(std::stod(m[2]), s.X(p.year()), 0.01);
      EXPECT_NEAR(std::stod(m[3]), s.Y(p.value()), 0.01);
      EXPECT_GE(std::stod(m[2]), views::ChartScale::kLeft);
      EXPECT_LE(std::stod(m[2]), views::ChartScale::kRight);
      EXPECT_GE(std::stod(m[3]), views::ChartScale::kTop - 0.01);
      EXPECT_LE(std::stod(m[3]), views::ChartScale::kBottom + 0.01);
      ++seen;
    }
    EXPECT_GT(seen, 0);
  }
}

TEST(ReportChartTest, AxesCoverTargetsProjectionsAndBands) {
  const v1::EvaluationReport report = testing::SampleReport();
  const views::ChartScale mmr = views::ChartScaleFor(report.indicators(0));
  EXPECT_EQ(mmr.year_min, 2020);
  EXPECT_EQ(mmr.year_max, 2030);
  EXPECT_LE(mmr.value_min, 10.15);
  EXPECT_GE(mmr.value_max, 18.6);
  const views::ChartScale about = views::ChartScaleFor(report.indicators(4));
  EXPECT_LE(about.value_min, 42.8);
  EXPECT_GE(about.value_max, 47.0);  // 45 + 2 tolerance
  const std::string svg = views::RenderChartSvg(report.indicators(4));
  EXPECT_THAT(svg, HasSubstr("<rect class=\"band\""));
  EXPECT_THAT(svg, HasSubstr("目标 45%±2 每年"));
  const std::string mmr_svg = views::RenderChartSvg(report.indicators(0));
  EXPECT_THAT(mmr_svg, HasSubstr("<line class=\"projection\" data-target-year=\"2030\""));
  EXPECT_THAT(mmr_svg, HasSubstr("stroke-dasharray"));
  EXPECT_THAT(mmr_svg, HasSubstr("目标 ≤10.15/10万 (2030)"));
  EXPECT_THAT(mmr_svg, HasSubstr("fill=\"#e16f24\""));  // at risk: orange points
}

TEST(ReportGoldenTest, Markdown) {
  const v1::AnnualReport annual = testing::SampleAnnualReport();
  testing::ExpectGolden("report_annual.md",
                        views::RenderReportMarkdown(testing::SampleReport(), Context(&annual)));
}

TEST(ReportGoldenTest, Csv) {
  const v1::AnnualReport annual = testing::SampleAnnualReport();
  const std::string csv = views::RenderReportCsv(testing::SampleReport(), Context(&annual));
  testing::ExpectGolden("report_annual.csv", csv);
  // Every line has the header's number of fields (no field holds a comma here
  // unquoted).
  EXPECT_THAT(csv, HasSubstr("assessment,HEALTH,妇女与健康,HEALTH-04,孕产妇死亡率,/10万,≤10.15/"
                             "10万 (2030),2030,at_risk,orange,progress"));
}

TEST(ReportGoldenTest, Html) {
  const v1::AnnualReport annual = testing::SampleAnnualReport();
  testing::ExpectGolden("report_annual.html",
                        views::RenderReportHtml(testing::SampleReport(), Context(&annual)));
}

}  // namespace
}  // namespace halfsky

namespace halfsky {
namespace {

// Issue #12: a partial figure is printed with its coverage, never as the
// whole, and is not drawn in the chart.
TEST(ReportCoverageTest, PartialAndPublishedFiguresCarryWhatTheyCover) {
  v1::EvaluationReport report;
  report.set_type(v1::REPORT_TYPE_ANNUAL);
  report.set_year(2024);
  report.set_area_code("610303");
  v1::IndicatorAssessment* ia = report.add_indicators();
  ia->set_indicator_id("HEALTH-02");
  ia->set_name_zh("孕产妇死亡率");
  ia->set_domain_id("HEALTH");
  ia->set_unit("/10万");
  v1::TargetAssessment* ta = ia->add_assessments();
  ta->set_status(v1::PROGRESS_STATUS_DATA_INCOMPLETE);
  ta->mutable_target()->set_comparator(v1::COMPARATOR_AT_MOST);
  ta->mutable_target()->set_year(2030);
  ta->mutable_target()->set_value(10.15);
  v1::SeriesPoint* part = ia->add_series();
  part->set_year(2023);
  part->set_value(136.8);
  part->set_incomplete(true);
  part->set_contributing_area_count(1);
  part->set_expected_area_count(11);
  v1::SeriesPoint* published = ia->add_series();
  published->set_year(2024);
  published->set_value(13.2);
  published->set_published(true);

  v1::AnnualReport annual;
  annual.set_year(2024);
  v1::AnnualReportDomain* d = annual.add_domains();
  d->set_domain_id("HEALTH");
  d->set_name_zh("妇女与健康");
  v1::AnnualReportRow* row = d->add_rows();
  row->set_indicator_id("HEALTH-02");
  row->set_name_zh("孕产妇死亡率");
  row->set_unit("/10万");
  row->set_value(13.2);
  *row->mutable_value_point() = *published;
  row->set_previous_value(136.8);
  *row->mutable_previous_point() = *part;

  views::ReportContext ctx = Context(&annual);
  ctx.child_areas_zh = "镇街";
  const std::string md = views::RenderReportMarkdown(report, ctx);
  EXPECT_THAT(md, HasSubstr("| 13.2（公布数） | 136.8（仅1/11个镇街） |"));
  EXPECT_THAT(md, HasSubstr("| 136.8（仅1/11个镇街） | 13.2（公布数） |"));  // the series row
  EXPECT_THAT(md, HasSubstr("数据不完整"));
  const std::string html = views::RenderReportHtml(report, ctx);
  EXPECT_THAT(html, HasSubstr("136.8（仅1/11个镇街）"));
  // The chart draws the published figure, not the part.
  const std::string svg = views::RenderChartSvg(*ia);
  EXPECT_THAT(svg, HasSubstr("data-year=\"2024\""));
  EXPECT_THAT(svg, Not(HasSubstr("data-value=\"136.8\"")));
  const std::string csv = views::RenderReportCsv(report, ctx);
  EXPECT_THAT(csv, HasSubstr("136.8（仅1/11个镇街）"));
  // Without a coverage the bare number would be printed: the test sees it.
  EXPECT_THAT(md, Not(HasSubstr("| 136.8 |")));
}

// The compendium (report --format xlsx) carries the same figures and
// coverage wording as the HTML report: the number typed, what it covers
// beside it, and the two together are the HTML's 「136.8（仅1/11个镇街）」.
TEST(ReportCoverageTest, CompendiumCarriesTheReportsFiguresAndCoverage) {
  v1::EvaluationReport report;
  report.set_type(v1::REPORT_TYPE_ANNUAL);
  report.set_year(2024);
  report.set_area_code("610303");
  v1::IndicatorAssessment* ia = report.add_indicators();
  ia->set_indicator_id("HEALTH-02");
  ia->set_name_zh("孕产妇死亡率");
  ia->set_domain_id("HEALTH");
  ia->set_unit("/10万");
  v1::TargetAssessment* ta = ia->add_assessments();
  ta->set_status(v1::PROGRESS_STATUS_DATA_INCOMPLETE);
  ta->mutable_target()->set_comparator(v1::COMPARATOR_AT_MOST);
  ta->mutable_target()->set_year(2030);
  ta->mutable_target()->set_value(10.15);
  ta->mutable_figures()->set_base_year(2020);
  ta->mutable_figures()->set_base_value(14.234);
  v1::SeriesPoint* part = ia->add_series();
  part->set_year(2023);
  part->set_value(136.8);
  part->set_incomplete(true);
  part->set_contributing_area_count(1);
  part->set_expected_area_count(11);
  v1::SeriesPoint* published = ia->add_series();
  published->set_year(2024);
  published->set_value(13.2);
  published->set_published(true);
  v1::AnnualReport annual;
  annual.set_year(2024);
  v1::AnnualReportDomain* d = annual.add_domains();
  d->set_domain_id("HEALTH");
  d->set_name_zh("妇女与健康");
  v1::AnnualReportRow* row = d->add_rows();
  row->set_indicator_id("HEALTH-02");
  row->set_name_zh("孕产妇死亡率");
  row->set_unit("/10万");
  row->set_value(13.2);
  *row->mutable_value_point() = *published;
  row->set_previous_value(136.8);
  *row->mutable_previous_point() = *part;
  row->set_completeness_percent(9.0909);
  views::ReportContext ctx = Context(&annual);
  ctx.child_areas_zh = "镇街";
  ctx.domain_names_zh = {{"HEALTH", "妇女与健康"}, {"LAW", "妇女与法律"}};

  const std::vector<views::CompendiumSheet> sheets = views::ReportCompendium(report, ctx);
  ASSERT_EQ(sheets.size(), 3u);  // 总体情况 + every domain the context names
  EXPECT_EQ(sheets[0].name, "总体情况");
  EXPECT_EQ(sheets[1].name, "妇女与健康");
  EXPECT_EQ(sheets[2].name, "妇女与法律");
  const std::string html = views::RenderReportHtml(report, ctx);
  auto cell = [](const views::CompendiumCell& c) {
    return c.kind == views::CompendiumCell::kNumber ? views::FormatValue(c.number) : c.text;
  };
  const views::CompendiumSheet& health = sheets[1];
  ASSERT_GE(health.tables.size(), 3u);
  const views::CompendiumTable& series = health.tables[1];
  ASSERT_EQ(series.caption, "逐年数值");
  ASSERT_EQ(series.rows.size(), 2u);
  for (const auto& r : series.rows) {
    ASSERT_EQ(r.size(), series.header.size());
    EXPECT_EQ(r[4].kind, views::CompendiumCell::kNumber);
    const std::string printed = absl::StrCat(cell(r[4]), "（", cell(r[5]), "）");
    EXPECT_THAT(html, HasSubstr(printed)) << printed;
  }
  EXPECT_EQ(cell(series.rows[0][5]), "仅1/11个镇街");
  EXPECT_EQ(cell(series.rows[1][5]), "公布数");
  const views::CompendiumTable& targets = health.tables[0];
  ASSERT_EQ(targets.rows.size(), 1u);
  EXPECT_EQ(targets.rows[0][8].kind, views::CompendiumCell::kNumber);
  EXPECT_EQ(targets.rows[0][8].number, 14.23);  // as the report prints it
  const views::CompendiumTable& monitoring = health.tables[2];
  ASSERT_EQ(monitoring.rows.size(), 1u);
  const auto& m = monitoring.rows[0];
  EXPECT_EQ(absl::StrCat(cell(m[3]), "（", cell(m[4]), "）"), "13.2（公布数）");
  EXPECT_EQ(absl::StrCat(cell(m[5]), "（", cell(m[6]), "）"), "136.8（仅1/11个镇街）");
  EXPECT_EQ(m[10].number, 9.1);
  EXPECT_THAT(html, HasSubstr("9.1%"));
}

// Several plans: EvaluationReport.child_areas in every format, the same
// two tables; a part printed as such, never with a gap or rank.
TEST(ReportChildAreasTest, EveryFormatPrintsTheComparisonAndAPartIsNotRanked) {
  v1::EvaluationReport report = testing::SampleReport();
  report.set_plan_code("BAOJI");
  report.set_plan_title_zh("宝鸡市妇女发展规划（2021—2030年）");
  report.set_child_areas_covers_zh("各下级区域按本级规划和宝鸡市规划评估");
  v1::ChildAreaComparison* c = report.add_child_areas();
  c->set_area_code("610303");
  c->set_name_zh("金台区");
  c->set_plan_code("JINTAI");
  c->set_plan_title_zh("金台区妇女发展规划（2021—2030年）");
  c->mutable_own_plan()->set_assessed_count(2);
  c->mutable_own_plan()->set_achieved_count(1);
  c->mutable_own_plan()->set_achievement_rate_percent(50);
  c->mutable_report_plan()->set_assessed_count(2);
  c->mutable_report_plan()->set_achieved_count(2);
  c->mutable_report_plan()->set_achievement_rate_percent(100);
  c->set_rank(1);
  c->set_ranked_count(2);
  v1::ChildIndicatorComparison* whole = c->add_indicators();
  whole->set_indicator_id("HEALTH-01");
  whole->set_name_zh("孕产妇死亡率");
  whole->set_unit("/10万");
  whole->set_year(2024);
  whole->mutable_figure()->set_year(2024);
  whole->mutable_figure()->set_value(11.6);
  whole->mutable_report_area_figure()->set_year(2024);
  whole->mutable_report_area_figure()->set_value(13.8);
  whole->set_gap_to_report_area(-2.2);
  whole->set_rank(1);
  whole->set_ranked_count(2);
  whole->set_covers_zh("2024年；差距 = 金台区 − 宝鸡市");
  v1::TargetAssessment* a = whole->add_report_plan_assessments();
  a->set_status(v1::PROGRESS_STATUS_ACHIEVED);
  a->mutable_target()->set_comparator(v1::COMPARATOR_AT_MOST);
  a->mutable_target()->set_value(12);
  a->mutable_target()->set_year(2030);
  v1::ChildIndicatorComparison* part = c->add_indicators();
  part->set_indicator_id("HEALTH-02");
  part->set_name_zh("适龄妇女宫颈癌人群筛查率");
  part->set_unit("%");
  part->set_year(2024);
  part->mutable_figure()->set_year(2024);
  part->mutable_figure()->set_value(80);
  part->mutable_figure()->set_incomplete(true);
  part->set_covers_zh("2024年仅1/2个镇街报送，为部分数，不与宝鸡市比较、不排名");
  // A district with nothing assessable: unranked, no count either.
  v1::ChildAreaComparison* unranked = report.add_child_areas();
  unranked->set_area_code("610302");
  unranked->set_name_zh("渭滨区");
  unranked->set_plan_code("WEIBIN");
  unranked->mutable_report_plan()->set_name_zh("宝鸡市规划");
  const views::ReportContext ctx = Context(nullptr);

  const std::string html = views::RenderReportHtml(report, ctx);
  EXPECT_THAT(html, HasSubstr("<h2>下级区域比较</h2>"));
  EXPECT_THAT(html,
              HasSubstr("<td>金台区</td><td>金台区妇女发展规划（2021—2030年）</td>"
                        "<td class=\"n\">2</td><td class=\"n\">1</td><td class=\"n\">50</td>"));
  EXPECT_THAT(html, HasSubstr("<td>已达标（≤12/10万 (2030)）</td>"));
  EXPECT_THAT(html, HasSubstr("<td>80（部分数）</td><td></td><td></td><td>不排名</td>"));
  const std::string md = views::RenderReportMarkdown(report, ctx);
  EXPECT_THAT(md,
              HasSubstr("| 孕产妇死亡率（/10万） | 金台区 | 2024 | 11.6 | 13.8 | -2.2 | 1/2 |"));
  const std::string csv = views::RenderReportCsv(report, ctx);
  EXPECT_THAT(csv, HasSubstr(",610303,BAOJI,1,\n"));  // the report plan's rank
  EXPECT_THAT(csv, HasSubstr(",610303,JINTAI,1,-2.2\n"));
  // review-city finding 10: unranked prints neither rank nor count "0".
  EXPECT_THAT(csv, HasSubstr(",0,0,,,渭滨区：宝鸡市规划,"));

  // The compendium types the figures as numbers and a part as text.
  const std::vector<views::CompendiumSheet> sheets = views::ReportCompendium(report, ctx);
  ASSERT_FALSE(sheets.empty());
  const views::CompendiumTable* rows = nullptr;
  for (const views::CompendiumTable& t : sheets[0].tables) {
    if (absl::StartsWith(t.caption, "分指标比较")) {
      rows = &t;
    }
  }
  ASSERT_NE(rows, nullptr);
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->rows[0][3].kind, views::CompendiumCell::kNumber);
  EXPECT_DOUBLE_EQ(rows->rows[0][5].number, -2.2);
  EXPECT_EQ(rows->rows[1][3].text, "80（部分数）");
  EXPECT_EQ(rows->rows[1][5].kind, views::CompendiumCell::kEmpty);
}

}  // namespace
}  // namespace halfsky
