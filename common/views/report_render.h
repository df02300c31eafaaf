#ifndef HALFSKY_COMMON_VIEWS_REPORT_RENDER_H_
#define HALFSKY_COMMON_VIEWS_REPORT_RENDER_H_

// The annual monitoring / mid-term / final evaluation report as people read
// it: one self-contained HTML file (inline CSS and SVG, a Content Security
// Policy that forbids fetching anything, printable on A4 with a page break
// per domain), and Markdown and CSV variants with the same content.
//
// Content, in order: title; summary (达标率 per domain and overall, counts
// by status); with several plans the comparison of the child areas
// (EvaluationReport.child_areas: 达标率 against each plan, ranks, figures
// beside the report area's, gaps); the warnings by severity; then per domain and indicator a
// chart — yearly values, the target line (or the ABOUT band) with its
// year, the dashed projection to the target year (Figures.projected_value),
// points coloured by the indicator's headline status — with the figures
// and the sentences beside it; optionally the year's monitoring figures
// (AnnualReport) per domain.
//
// Pure functions of their inputs (no clock, no I/O); thread-safe.

#include <map>
#include <string>
#include <vector>

#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/evaluation.pb.h"

namespace halfsky::views {

struct ReportContext {
  // Plan title, e.g. 金台区妇女发展规划（2021—2030年）; "" → generic.
  std::string plan_title_zh;
  // Name of report.area_code(), e.g. 金台区; "" → the code.
  std::string area_name_zh;
  // Domain id → name and plan order, for domains the report's summaries
  // do not name; optional.
  std::map<std::string, std::string> domain_names_zh;
  // Member unit code → name, for warnings; optional. A per-unit late-data
  // warning (LATE_DATA with unit_code) is printed as the unit's name with its
  // missing indicators (views::WarningSubjectZh, at most 3 listed) and the
  // days overdue.
  std::map<std::string, std::string> unit_names_zh;
  // Indicator id → name for those lists, besides the report's own
  // indicators; optional.
  std::map<std::string, std::string> indicator_names_zh;
  // A banner printed under the title, e.g. "示例数据（合成）"; "" = none.
  std::string banner_zh;
  // The year's monitoring figures (annual reports); nullptr = omitted.
  const halfsky::v1::AnnualReport* annual = nullptr;
  // What report.area_code()'s child areas are called in coverage notes,
  // e.g. 镇街; "" → 下级区域. A partial figure (SeriesPoint.incomplete) is
  // printed as 「136.8（仅1/11个镇街）」, a published one as 「13.2（公布数）」;
  // partial figures are not drawn in charts.
  std::string child_areas_zh;
};

// Fills the context's names from the catalog for `report` (the plan the
// report evaluates its area against: report.plan_title_zh, else the
// catalog's title from servers that do not name it; the name of its area,
// what its child areas are called — 各市, 各县区, 镇街, 村（社区）— domains,
// units, indicators): what `halfskyctl report` and halfsky-web's /report
// both do.
void FillReportContext(const halfsky::v1::Catalog& catalog,
                       const halfsky::v1::EvaluationReport& report, ReportContext* context);

std::string RenderReportHtml(const halfsky::v1::EvaluationReport& report,
                             const ReportContext& context);
std::string RenderReportMarkdown(const halfsky::v1::EvaluationReport& report,
                                 const ReportContext& context);
// One header line, then records: `summary` (per domain and overall),
// `status_count`, `warning`, `assessment` (one per target), `point` (one per
// yearly value), `monitoring` (AnnualReport rows). Columns are fixed; a
// record leaves the columns it does not use empty. With several plans also
// `child_area` and `child_indicator` (EvaluationReport.child_areas: one
// record per child area, plan and indicator; area_code, plan_code, rank,
// gap).
std::string RenderReportCsv(const halfsky::v1::EvaluationReport& report,
                            const ReportContext& context);

// The statistical compendium (统计资料) of a report: its figures as tables,
// what `halfskyctl report --format xlsx` writes (views/xlsx_tables.h), one
// sheet per domain. Built from the same report and context as the HTML
// report, with the same helpers, so its figures and wording are the HTML
// report's: every number is the figure as the report prints it (rounded as
// FormatValue rounds it there: values to 2 decimals, target values to 4,
// rates and 达标率 to 1) and typed as a number; what a figure covers (仅1/11个
// 镇街, 公布数, …) is a text column beside it, the same words as the
// report's 「136.8（仅1/11个镇街）」.
struct CompendiumCell {
  enum Kind { kEmpty, kText, kNumber };
  Kind kind = kEmpty;
  std::string text;
  double number = 0;
};
struct CompendiumTable {
  std::string caption;  // e.g. 目标评估
  std::vector<std::string> header;
  std::vector<std::vector<CompendiumCell>> rows;
};
struct CompendiumSheet {
  std::string name;                // sheet name (≤ 31 characters)
  std::string title;               // first row
  std::vector<std::string> notes;  // lines under the title
  std::vector<CompendiumTable> tables;
};
// Sheets: 总体情况 (达标情况 per domain and 合计, 预警情况), then one per
// domain of the report in plan order — every domain the report or context
// names, so the catalog's eight — with 目标评估 (one row per target),
// 逐年数值 (one row per yearly value) and, for annual reports with
// context.annual, 年度监测数据.
std::vector<CompendiumSheet> ReportCompendium(const halfsky::v1::EvaluationReport& report,
                                              const ReportContext& context);

// Whether the report shows a chart for the indicator: it has at least one
// yearly value. Qualitative objectives and indicators without data get
// their figures and sentences without a chart.
bool HasChart(const halfsky::v1::IndicatorAssessment& indicator);

// The status that colours an indicator: the worst of its assessments
// (未达标 > 逆向变化 > 预计达标困难 > 需加快进度 > 进展良好 > 已达标 >
// 数据不足).
halfsky::v1::ProgressStatus HeadlineStatus(const halfsky::v1::IndicatorAssessment& indicator);

// The chart's axes, exposed for tests: years map linearly onto
// [left, right] and values onto [bottom, top] in SVG user units (the SVG's
// viewBox is 0 0 kChartWidth kChartHeight).
struct ChartScale {
  int year_min = 0;
  int year_max = 0;
  double value_min = 0;
  double value_max = 1;
  std::vector<double> value_ticks;
  double X(double year) const;
  double Y(double value) const;
  static constexpr double kLeft = 52;
  static constexpr double kRight = 404;
  static constexpr double kTop = 14;
  static constexpr double kBottom = 206;
};
constexpr int kChartWidth = 420;
constexpr int kChartHeight = 236;

// The axes of an indicator's chart: years from the earliest of the first
// point and the base year to the latest of the last point and the target
// years; values spanning points, targets (with ABOUT bands) and
// projections, widened to round tick values.
ChartScale ChartScaleFor(const halfsky::v1::IndicatorAssessment& indicator);

// The <svg class="chart"> element alone. Every yearly value is a
// <circle class="pt" data-year=… data-value=…>; every projection end a
// <circle class="proj" …>; axis ticks are <line class="xtick"
// data-year=…> and <line class="ytick" data-value=…>.
std::string RenderChartSvg(const halfsky::v1::IndicatorAssessment& indicator);

}  // namespace halfsky::views

#endif  // HALFSKY_COMMON_VIEWS_REPORT_RENDER_H_
