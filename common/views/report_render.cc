#include "common/views/report_render.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/views/followup_view.h"
#include "common/views/labels.h"
#include "common/views/series_view.h"
#include "common/views/table.h"

namespace halfsky::views {

namespace v1 = ::halfsky::v1;

namespace {

constexpr v1::ProgressStatus kStatusOrder[] = {
    v1::PROGRESS_STATUS_ACHIEVED,           v1::PROGRESS_STATUS_ON_TRACK,
    v1::PROGRESS_STATUS_NEEDS_ACCELERATION, v1::PROGRESS_STATUS_AT_RISK,
    v1::PROGRESS_STATUS_MOVING_AWAY,        v1::PROGRESS_STATUS_MISSED,
    v1::PROGRESS_STATUS_NOT_ASSESSABLE};

int StatusRank(v1::ProgressStatus s) {
  switch (s) {
    case v1::PROGRESS_STATUS_MISSED:
      return 7;
    case v1::PROGRESS_STATUS_MOVING_AWAY:
      return 6;
    case v1::PROGRESS_STATUS_AT_RISK:
      return 5;
    case v1::PROGRESS_STATUS_NEEDS_ACCELERATION:
      return 4;
    case v1::PROGRESS_STATUS_ON_TRACK:
      return 3;
    case v1::PROGRESS_STATUS_ACHIEVED:
      return 2;
    case v1::PROGRESS_STATUS_NOT_ASSESSABLE:
    case v1::PROGRESS_STATUS_DATA_INCOMPLETE:
      return 1;
    default:
      return 0;
  }
}

std::string Esc(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

// Markdown table cell: pipes and newlines would break the table.
std::string MdCell(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"|", "\\|"}, {"\n", " "}, {"\r", ""}});
}

std::string Num(double v) { return absl::StrFormat("%.10g", v); }

std::string ChildAreas(const ReportContext& ctx) {
  return ctx.child_areas_zh.empty() ? "下级区域" : ctx.child_areas_zh;
}

// What a printed figure covers, without the figure: 「仅1/11个镇街」 for a
// part (「，2个公布数未计入」 added when published figures were left out),
// 「公布数」 for a published figure, 「2个公布数未计入」, or "" for a whole
// figure.
std::string CoverageNote(const v1::SeriesPoint& point, const ReportContext& ctx) {
  std::string out;
  if (point.incomplete()) {
    absl::StrAppend(&out, "仅", point.contributing_area_count(), "/", point.expected_area_count(),
                    "个", ChildAreas(ctx));
    if (point.published_area_count() > 0) {
      absl::StrAppend(&out, "，", point.published_area_count(), "个公布数未计入");
    }
  } else if (point.published()) {
    out = "公布数";
  } else if (point.published_area_count() > 0) {
    absl::StrAppend(&out, point.published_area_count(), "个公布数未计入");
  }
  return out;
}

// CoverageNote plus 「含未审核数据」 when the point rests on unapproved
// values: the one note a figure's cell carries where the figure and its
// note stand in separate cells (the xlsx compendium's 数据说明).
std::string CoverageAndReviewNote(const v1::SeriesPoint& point, const ReportContext& ctx) {
  std::string out = CoverageNote(point, ctx);
  if (point.contains_unapproved_data()) {
    absl::StrAppend(&out, out.empty() ? "" : "，", "含未审核数据");
  }
  return out;
}

// A figure as printed, with what it covers: 「136.8（仅1/11个镇街）」 for a
// part, 「13.2（公布数）」 for a published figure, "-" without a value.
std::string CoveredFigure(bool has_value, double value, const v1::SeriesPoint* point,
                          const ReportContext& ctx) {
  if (!has_value) {
    return "-";
  }
  std::string out = FormatValue(value);
  const std::string note = point == nullptr ? "" : CoverageNote(*point, ctx);
  if (!note.empty()) {
    absl::StrAppend(&out, "（", note, "）");
  }
  if (point != nullptr && point->contains_unapproved_data()) {
    absl::StrAppend(&out, "（含未审核数据）");
  }
  return out;
}
std::string Px(double v) { return absl::StrFormat("%.2f", v); }

const char* ChineseOrdinal(int n) {
  static const char* const kNames[] = {"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"};
  return n >= 1 && n <= 10 ? kNames[n - 1] : "";
}

double NiceStep(double range, int target_ticks) {
  const double raw = range / target_ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return step * mag;
}

double AboutTolerance(const v1::Target& t) { return t.tolerance() > 0 ? t.tolerance() : 2.0; }

// The report's domains in order, with indicators grouped under them.
struct DomainGroup {
  std::string id;
  std::string name;
  const v1::DomainSummary* summary = nullptr;
  std::vector<const v1::IndicatorAssessment*> indicators;
};

std::vector<DomainGroup> GroupByDomain(const v1::EvaluationReport& report,
                                       const ReportContext& ctx) {
  std::vector<DomainGroup> groups;
  std::map<std::string, size_t> index;
  auto add = [&](const std::string& id) -> DomainGroup& {
    auto it = index.find(id);
    if (it != index.end()) {
      return groups[it->second];
    }
    index[id] = groups.size();
    DomainGroup g;
    g.id = id;
    auto n = ctx.domain_names_zh.find(id);
    g.name = n != ctx.domain_names_zh.end() ? n->second : id;
    groups.push_back(std::move(g));
    return groups.back();
  };
  for (const auto& d : report.domains()) {
    DomainGroup& g = add(d.domain_id());
    g.summary = &d;
    if (!d.name_zh().empty()) {
      g.name = d.name_zh();
    }
  }
  for (const auto& ia : report.indicators()) {
    add(ia.domain_id()).indicators.push_back(&ia);
  }
  return groups;
}

int CountOf(const v1::DomainSummary& s, v1::ProgressStatus status) {
  for (const auto& c : s.status_counts()) {
    if (c.status() == status) {
      return c.count();
    }
  }
  return 0;
}

// The statuses of the summary tables: kStatusOrder, plus 数据不完整 when
// the report counts any (so reports without partial data keep their
// columns).
std::vector<v1::ProgressStatus> SummaryStatuses(const v1::EvaluationReport& report) {
  std::vector<v1::ProgressStatus> out(std::begin(kStatusOrder), std::end(kStatusOrder));
  if (CountOf(report.overall(), v1::PROGRESS_STATUS_DATA_INCOMPLETE) > 0) {
    out.push_back(v1::PROGRESS_STATUS_DATA_INCOMPLETE);
  }
  return out;
}

std::vector<const v1::Warning*> SortedWarnings(const v1::EvaluationReport& report) {
  std::vector<const v1::Warning*> out;
  for (const auto& w : report.warnings()) {
    out.push_back(&w);
  }
  std::stable_sort(out.begin(), out.end(), [](const v1::Warning* a, const v1::Warning* b) {
    if (a->severity() != b->severity()) {
      return a->severity() > b->severity();
    }
    if (IsUnitWarning(*a) != IsUnitWarning(*b) || IsUnitWarning(*a)) {
      return WarningBefore(*a, *b);
    }
    if (a->indicator_id() != b->indicator_id()) {
      return a->indicator_id() < b->indicator_id();
    }
    return a->id() < b->id();
  });
  return out;
}

// Does `w` concern indicator `id`: its own warning, or a unit's late-data
// warning that lists it.
bool ConcernsIndicator(const v1::Warning& w, const std::string& id) {
  if (IsUnitWarning(w)) {
    return std::find(w.missing_indicator_ids().begin(), w.missing_indicator_ids().end(), id) !=
           w.missing_indicator_ids().end();
  }
  return w.indicator_id() == id;
}

// The 指标 cell of a warning: the indicator, or the member unit with its
// missing indicators (named from the context, else the report's own).
std::string Subject(const v1::Warning& w, const v1::EvaluationReport& report,
                    const ReportContext& ctx) {
  if (!IsUnitWarning(w)) {
    return WarningSubjectZh(w, {}, {});
  }
  std::map<std::string, std::string> names = ctx.indicator_names_zh;
  for (const auto& ia : report.indicators()) {
    names.emplace(ia.indicator_id(), ia.name_zh());
  }
  return WarningSubjectZh(w, ctx.unit_names_zh, names);
}

// The 类型 cell: 数据迟报（逾期200天） for a unit's late data.
// Names for the 督办 section: the context's units and indicators, and the
// report's own indicators.
Names FollowUpNames(const v1::EvaluationReport& report, const ReportContext& ctx) {
  Names names;
  names.units = ctx.unit_names_zh;
  names.indicators = ctx.indicator_names_zh;
  for (const auto& ia : report.indicators()) {
    names.indicators.emplace(ia.indicator_id(), ia.name_zh());
  }
  return names;
}

std::string KindCell(const v1::Warning& w) {
  return IsUnitWarning(w) ? absl::StrCat(KindLabelZh(w.kind()), "（", OverdueZh(w), "）")
                          : std::string(KindLabelZh(w.kind()));
}

// Warnings of the indicator whose sentence is not already one of its
// assessments' sentences (fluctuation, late data, data quality, …).
std::vector<const v1::Warning*> ExtraWarnings(const v1::EvaluationReport& report,
                                              const v1::IndicatorAssessment& ia) {
  std::set<std::string> said;
  for (const auto& a : ia.assessments()) {
    said.insert(a.explanation_zh());
  }
  std::vector<const v1::Warning*> out;
  for (const v1::Warning* w : SortedWarnings(report)) {
    if (ConcernsIndicator(*w, ia.indicator_id()) && said.count(w->explanation_zh()) == 0) {
      out.push_back(w);
    }
  }
  return out;
}

std::string ReportTitle(const v1::EvaluationReport& report, const ReportContext& ctx) {
  const std::string plan =
      ctx.plan_title_zh.empty() ? std::string("妇女发展规划") : ctx.plan_title_zh;
  if (report.type() == v1::REPORT_TYPE_ANNUAL) {
    return absl::StrCat(plan, " ", report.year(), "年度监测评估报告");
  }
  return absl::StrCat(plan, " ", ReportTitleZh(report.type()), "（", report.year(), "年）");
}

std::string AreaText(const v1::EvaluationReport& report, const ReportContext& ctx) {
  return ctx.area_name_zh.empty() ? report.area_code()
                                  : absl::StrCat(ctx.area_name_zh, "（", report.area_code(), "）");
}

std::string UnitNames(const v1::Warning& w, const ReportContext& ctx) {
  std::vector<std::string> names;
  for (const auto& code : w.responsible_unit_codes()) {
    auto it = ctx.unit_names_zh.find(code);
    names.push_back(it != ctx.unit_names_zh.end() ? it->second : code);
  }
  return absl::StrJoin(names, "、");
}

// "基期 2020：14.2 · 当前 2024：12.3 · …" pieces of one assessment.
struct FigureItem {
  std::string label;
  std::string value;
};

std::vector<FigureItem> FigureItems(const v1::Figures& f, absl::string_view unit) {
  std::vector<FigureItem> items;
  if (f.has_base_value()) {
    items.push_back(
        {absl::StrCat("基期 ", f.base_year()), FormatValue(f.base_value()) + std::string(unit)});
  }
  if (f.has_current_value()) {
    items.push_back({absl::StrCat("当前 ", f.current_year()),
                     FormatValue(f.current_value()) + std::string(unit)});
  }
  if (f.has_target_value()) {
    items.push_back({absl::StrCat("目标 ", f.target_year()),
                     FormatValue(f.target_value(), 4) + std::string(unit)});
  }
  if (f.has_projected_value()) {
    items.push_back({absl::StrCat("预计 ", f.target_year()),
                     FormatValue(f.projected_value()) + std::string(unit)});
  }
  if (f.has_actual_annual_rate()) {
    items.push_back({"实际年均变化", FormatRate(f.actual_annual_rate())});
  }
  if (f.has_required_annual_rate()) {
    items.push_back({"所需年均变化", FormatRate(f.required_annual_rate())});
  }
  if (f.has_progress()) {
    items.push_back({"进展指数 P", FormatValue(f.progress())});
  }
  if (f.has_event_count()) {
    items.push_back({"事件数", FormatValue(f.event_count())});
  }
  if (f.has_interval()) {
    items.push_back({absl::StrCat(FormatValue(f.interval().level() * 100, 0), "%置信区间"),
                     absl::StrCat(FormatValue(f.interval().lower()), "–",
                                  FormatValue(f.interval().upper()), std::string(unit))});
  }
  if (f.has_modified_z_score()) {
    items.push_back({"修正Z分数", FormatValue(f.modified_z_score())});
  }
  if (f.has_relative_change()) {
    items.push_back({"较上年相对变化", FormatRate(f.relative_change())});
  }
  return items;
}

// Several plans: EvaluationReport.child_areas as the tables every format
// prints (达标率 and ranking per child area, then per indicator and child
// area the statuses, figure, gap and rank); empty without child areas.
std::vector<CompendiumTable> ChildAreaTables(const v1::EvaluationReport& report,
                                             const ReportContext& ctx);

// A compendium cell as printed text: a number as the report prints it.
std::string CellText(const CompendiumCell& c);

const char kCss[] = R"css(
@page { size: A4; margin: 14mm 13mm 16mm 13mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       "WenQuanYi Zen Hei", sans-serif; color: #1f2328; font-size: 10.5pt; line-height: 1.5;
       max-width: 184mm; margin: 0 auto; padding: 8mm 0; background: #fff; }
h1 { font-size: 17pt; margin: 0 0 2mm; }
h2 { font-size: 14pt; border-bottom: 2px solid #9a3412; padding-bottom: 1mm; margin: 6mm 0 3mm; }
h3 { font-size: 11.5pt; margin: 0 0 1.5mm; }
.meta { color: #57606a; font-size: 9.5pt; margin-bottom: 3mm; }
.banner { display: inline-block; border: 1px solid #bf8700; background: #fff8c5; color: #7d4e00;
          padding: 0.5mm 3mm; border-radius: 2mm; font-size: 9.5pt; margin-bottom: 3mm; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; }
th, td { border: 1px solid #d0d7de; padding: 0.8mm 1.6mm; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.overall td { font-weight: 700; background: #fbefe6; }
section.summary table { font-size: 8.5pt; }
section.summary td:first-child { white-space: nowrap; }
table.warnings td:nth-child(3) { white-space: nowrap; }
.unapproved { color: #9a3412; font-size: .85em; border: 1px solid #9a3412; border-radius: 3px; padding: 0 .3em; }
.bar { display: flex; height: 3.2mm; width: 22mm; border-radius: 1mm; overflow: hidden; background: #eaeef2; }
.bar span { display: block; height: 100%; }
.legend { font-size: 8.5pt; color: #57606a; margin: 1.5mm 0; }
.legend i { display: inline-block; width: 2.6mm; height: 2.6mm; border-radius: 50%; margin: 0 1mm 0 2.5mm;
            vertical-align: -0.2mm; }
.chip { display: inline-block; color: #fff; border-radius: 1.2mm; padding: 0 1.5mm; font-size: 8.5pt;
        white-space: nowrap; }
.sev { font-weight: 700; white-space: nowrap; }
section.domain { break-before: page; page-break-before: always; }
article.indicator { display: grid; grid-template-columns: 96mm 1fr; gap: 4mm; padding: 3mm 0;
                    border-top: 1px solid #d0d7de; break-inside: avoid; page-break-inside: avoid; }
article.indicator.nochart { grid-template-columns: 1fr; }
article.indicator h3 { grid-column: 1 / -1; }
svg.chart { width: 96mm; height: auto; display: block; font-size: 10px; }
svg.chart .ylab, svg.chart .xlab { fill: #57606a; font-size: 9.5px; }
svg.chart .tlab { font-size: 9.5px; font-weight: 600; }
.ta { margin-bottom: 2mm; }
.ta .verb { color: #57606a; font-size: 8.5pt; }
dl.fig { display: grid; grid-template-columns: auto 1fr auto 1fr; gap: 0 2mm; margin: 1mm 0; font-size: 9pt; }
dl.fig dt { color: #57606a; white-space: nowrap; }
dl.fig dd { margin: 0; font-variant-numeric: tabular-nums; }
p.why { margin: 1mm 0 0; padding: 1mm 2mm; background: #f6f8fa; border-left: 3px solid #8c959f; font-size: 9.5pt; }
ul.extra { margin: 1mm 0 0; padding-left: 4mm; font-size: 9.5pt; }
.muted { color: #57606a; }
footer { margin-top: 6mm; color: #57606a; font-size: 8.5pt; }
@media print { body { max-width: none; padding: 0; } }
)css";

}  // namespace

bool HasChart(const v1::IndicatorAssessment& ia) {
  for (const auto& p : ia.series()) {
    if (p.has_value() && std::isfinite(p.value()) && !p.incomplete()) {
      return true;
    }
  }
  return false;
}

v1::ProgressStatus HeadlineStatus(const v1::IndicatorAssessment& ia) {
  v1::ProgressStatus worst = v1::PROGRESS_STATUS_UNSPECIFIED;
  for (const auto& a : ia.assessments()) {
    if (StatusRank(a.status()) > StatusRank(worst)) {
      worst = a.status();
    }
  }
  return worst == v1::PROGRESS_STATUS_UNSPECIFIED ? v1::PROGRESS_STATUS_NOT_ASSESSABLE : worst;
}

double ChartScale::X(double year) const {
  const double lo = year_min - 0.5;
  const double hi = year_max + 0.5;
  return kLeft + (year - lo) / (hi - lo) * (kRight - kLeft);
}

double ChartScale::Y(double value) const {
  return kBottom - (value - value_min) / (value_max - value_min) * (kBottom - kTop);
}

ChartScale ChartScaleFor(const v1::IndicatorAssessment& ia) {
  ChartScale s;
  bool have_year = false;
  auto year = [&](int y) {
    if (y <= 0) {
      return;
    }
    s.year_min = have_year ? std::min(s.year_min, y) : y;
    s.year_max = have_year ? std::max(s.year_max, y) : y;
    have_year = true;
  };
  bool have_value = false;
  double lo = 0;
  double hi = 0;
  auto value = [&](double v) {
    if (!std::isfinite(v)) {
      return;
    }
    lo = have_value ? std::min(lo, v) : v;
    hi = have_value ? std::max(hi, v) : v;
    have_value = true;
  };
  for (const auto& p : ia.series()) {
    if (p.has_value() && !p.incomplete()) {
      year(p.year());
      value(p.value());
    }
  }
  for (const auto& a : ia.assessments()) {
    const v1::Target& t = a.target();
    if (!t.every_year()) {
      year(t.year());
    }
    if (a.figures().base_year() > 0 && a.figures().has_base_value()) {
      year(a.figures().base_year());
    }
    if (t.has_value()) {
      if (t.comparator() == v1::COMPARATOR_ABOUT) {
        value(t.value() - AboutTolerance(t));
        value(t.value() + AboutTolerance(t));
      } else {
        value(t.value());
      }
    }
    if (a.figures().has_projected_value() && a.figures().target_year() > 0) {
      year(a.figures().target_year());
      value(a.figures().projected_value());
    }
  }
  if (!have_year) {
    s.year_min = 2020;
    s.year_max = 2030;
  }
  if (s.year_max == s.year_min) {
    s.year_max = s.year_min + 1;
  }
  if (!have_value) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo <= 0) {
    const double pad = std::max(1.0, std::fabs(lo) * 0.1);
    lo -= pad;
    hi += pad;
  }
  const double step = NiceStep(hi - lo, 5);
  s.value_min = std::floor(lo / step) * step;
  s.value_max = std::ceil(hi / step) * step;
  if (s.value_max - s.value_min < step) {
    s.value_max = s.value_min + step;
  }
  for (double v = s.value_min; v <= s.value_max + step * 1e-6; v += step) {
    s.value_ticks.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  }
  return s;
}

std::string RenderChartSvg(const v1::IndicatorAssessment& ia) {
  const ChartScale s = ChartScaleFor(ia);
  const v1::ProgressStatus headline = HeadlineStatus(ia);
  const std::string colour = StatusColour(headline);
  std::string o = absl::StrFormat(
      "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
      "role=\"img\" data-indicator=\"%s\" data-status=\"%s\" aria-label=\"%s\">\n",
      kChartWidth, kChartHeight, Esc(ia.indicator_id()), StatusToken(headline),
      Esc(absl::StrCat(ia.name_zh(), "：逐年数值、目标与预测")));
  // Grid and value axis.
  for (double v : s.value_ticks) {
    absl::StrAppend(&o, "<line class=\"ytick\" data-value=\"", Num(v), "\" x1=\"", Px(s.kLeft),
                    "\" x2=\"", Px(s.kRight), "\" y1=\"", Px(s.Y(v)), "\" y2=\"", Px(s.Y(v)),
                    "\" stroke=\"#eaeef2\" stroke-width=\"1\"/>\n");
    absl::StrAppend(&o, "<text class=\"ylab\" x=\"", Px(s.kLeft - 5), "\" y=\"", Px(s.Y(v) + 3.5),
                    "\" text-anchor=\"end\">", FormatValue(v, 4), "</text>\n");
  }
  absl::StrAppend(&o, "<line x1=\"", Px(s.kLeft), "\" x2=\"", Px(s.kRight), "\" y1=\"",
                  Px(s.kBottom), "\" y2=\"", Px(s.kBottom),
                  "\" stroke=\"#57606a\" stroke-width=\"1\"/>\n");
  const int span = s.year_max - s.year_min;
  const int label_every = span > 12 ? 2 : 1;
  for (int y = s.year_min; y <= s.year_max; ++y) {
    absl::StrAppend(&o, "<line class=\"xtick\" data-year=\"", y, "\" x1=\"", Px(s.X(y)), "\" x2=\"",
                    Px(s.X(y)), "\" y1=\"", Px(s.kBottom), "\" y2=\"", Px(s.kBottom + 4),
                    "\" stroke=\"#57606a\" stroke-width=\"1\"/>\n");
    if ((y - s.year_min) % label_every == 0) {
      absl::StrAppend(&o, "<text class=\"xlab\" x=\"", Px(s.X(y)), "\" y=\"", Px(s.kBottom + 16),
                      "\" text-anchor=\"middle\">", y, "</text>\n");
    }
  }
  // Targets: ABOUT bands, lines ending at their year with a diamond.
  std::set<std::string> drawn;
  int label_row = 0;
  for (const auto& a : ia.assessments()) {
    const v1::Target& t = a.target();
    if (!t.has_value()) {
      continue;
    }
    const std::string key = absl::StrCat(t.comparator(), ":", t.year(), ":", Num(t.value()), ":",
                                         t.sex(), ":", t.residence());
    if (!drawn.insert(key).second) {
      continue;
    }
    const double x0 = s.X(s.year_min - 0.5);
    const double x1 = t.every_year() || t.year() == 0 ? s.X(s.year_max + 0.5) : s.X(t.year());
    const std::string tcolour = "#9a3412";
    if (t.comparator() == v1::COMPARATOR_ABOUT) {
      const double top = s.Y(t.value() + AboutTolerance(t));
      const double bottom = s.Y(t.value() - AboutTolerance(t));
      absl::StrAppend(&o, "<rect class=\"band\" data-target-year=\"", t.year(), "\" x=\"", Px(x0),
                      "\" y=\"", Px(top), "\" width=\"", Px(x1 - x0), "\" height=\"",
                      Px(bottom - top), "\" fill=\"#9a3412\" fill-opacity=\"0.10\"/>\n");
    }
    absl::StrAppend(&o, "<line class=\"target\" data-target-year=\"", t.year(), "\" data-value=\"",
                    Num(t.value()), "\" x1=\"", Px(x0), "\" x2=\"", Px(x1), "\" y1=\"",
                    Px(s.Y(t.value())), "\" y2=\"", Px(s.Y(t.value())), "\" stroke=\"", tcolour,
                    "\" stroke-width=\"1.4\" stroke-dasharray=\"7 3\"/>\n");
    if (!t.every_year() && t.year() != 0) {
      const double cx = s.X(t.year());
      const double cy = s.Y(t.value());
      absl::StrAppend(&o, "<path class=\"tmark\" d=\"M", Px(cx), " ", Px(cy - 5), " L", Px(cx + 5),
                      " ", Px(cy), " L", Px(cx), " ", Px(cy + 5), " L", Px(cx - 5), " ", Px(cy),
                      " Z\" fill=\"", tcolour, "\"/>\n");
    }
    // Label above the line near its right end; stacked if several.
    const double ly = std::max(s.kTop + 9, s.Y(t.value()) - 4 - 11.0 * label_row);
    absl::StrAppend(&o, "<text class=\"tlab\" x=\"", Px(std::max(x1 - 7, s.kLeft + 60)), "\" y=\"",
                    Px(ly), "\" text-anchor=\"end\" fill=\"", tcolour, "\">目标 ",
                    Esc(TargetShortZh(t, ia.unit())), "</text>\n");
    ++label_row;
  }
  // The series, broken at missing years.
  std::vector<std::vector<const v1::SeriesPoint*>> runs(1);
  std::vector<const v1::SeriesPoint*> points;
  for (const auto& p : ia.series()) {
    // A partial figure is not the area's: not drawn (the tables print it
    // with its coverage).
    if (p.has_value() && std::isfinite(p.value()) && !p.incomplete()) {
      points.push_back(&p);
    }
  }
  std::sort(points.begin(), points.end(), [](const v1::SeriesPoint* a, const v1::SeriesPoint* b) {
    return a->year() < b->year();
  });
  for (size_t i = 0; i < points.size(); ++i) {
    if (i > 0 && points[i]->year() != points[i - 1]->year() + 1) {
      runs.emplace_back();
    }
    runs.back().push_back(points[i]);
  }
  for (const auto& run : runs) {
    if (run.size() < 2) {
      continue;
    }
    std::vector<std::string> xy;
    for (const auto* p : run) {
      xy.push_back(absl::StrCat(Px(s.X(p->year())), ",", Px(s.Y(p->value()))));
    }
    absl::StrAppend(&o, "<polyline class=\"series\" points=\"", absl::StrJoin(xy, " "),
                    "\" fill=\"none\" stroke=\"#57606a\" stroke-width=\"1.6\"/>\n");
  }
  // Projections to the target years, dashed, from the current value.
  std::set<int> projected;
  for (const auto& a : ia.assessments()) {
    const v1::Figures& f = a.figures();
    if (!f.has_projected_value() || !f.has_current_value() || f.target_year() <= f.current_year() ||
        !projected.insert(f.target_year()).second) {
      continue;
    }
    const std::string pc = StatusColour(a.status());
    absl::StrAppend(&o, "<line class=\"projection\" data-target-year=\"", f.target_year(),
                    "\" x1=\"", Px(s.X(f.current_year())), "\" y1=\"", Px(s.Y(f.current_value())),
                    "\" x2=\"", Px(s.X(f.target_year())), "\" y2=\"", Px(s.Y(f.projected_value())),
                    "\" stroke=\"", pc, "\" stroke-width=\"1.6\" stroke-dasharray=\"3 3\"/>\n");
    absl::StrAppend(&o, "<circle class=\"proj\" data-year=\"", f.target_year(), "\" data-value=\"",
                    Num(f.projected_value()), "\" cx=\"", Px(s.X(f.target_year())), "\" cy=\"",
                    Px(s.Y(f.projected_value())), "\" r=\"3.5\" fill=\"#fff\" stroke=\"", pc,
                    "\" stroke-width=\"1.6\"><title>", f.target_year(), "年预计 ",
                    FormatValue(f.projected_value()), Esc(ia.unit()), "</title></circle>\n");
  }
  for (size_t i = 0; i < points.size(); ++i) {
    const v1::SeriesPoint* p = points[i];
    const bool latest = i + 1 == points.size();
    absl::StrAppend(&o, "<circle class=\"pt\" data-year=\"", p->year(), "\" data-value=\"",
                    Num(p->value()), "\" cx=\"", Px(s.X(p->year())), "\" cy=\"",
                    Px(s.Y(p->value())), "\" r=\"", latest ? "4.5" : "3.5", "\" fill=\"", colour,
                    "\" stroke=\"", latest ? "#1f2328" : "#fff", "\" stroke-width=\"1\"><title>",
                    p->year(), "年 ", FormatValue(p->value()), Esc(ia.unit()),
                    "</title></circle>\n");
  }
  o += "</svg>";
  return o;
}

void FillReportContext(const v1::Catalog& catalog, const v1::EvaluationReport& report,
                       ReportContext* context) {
  const std::string& area_code = report.area_code();
  // The plan the report evaluates the area against (a district's own plan
  // in a catalog of several); older servers leave it empty.
  context->plan_title_zh =
      report.plan_title_zh().empty() ? catalog.plan_title_zh() : report.plan_title_zh();
  for (const auto& a : catalog.areas()) {
    if (a.code() == area_code) {
      context->area_name_zh = a.name_zh();
    }
    if (a.parent_code() == area_code && context->child_areas_zh.empty()) {
      if (a.level() == v1::AREA_LEVEL_CITY) {
        context->child_areas_zh = "各市";
      } else if (a.level() == v1::AREA_LEVEL_DISTRICT || a.level() == v1::AREA_LEVEL_COUNTY) {
        context->child_areas_zh = "各县区";
      } else if (a.level() == v1::AREA_LEVEL_TOWN || a.level() == v1::AREA_LEVEL_SUBDISTRICT) {
        context->child_areas_zh = "镇街";
      } else if (a.level() == v1::AREA_LEVEL_VILLAGE || a.level() == v1::AREA_LEVEL_COMMUNITY) {
        context->child_areas_zh = "村（社区）";
      }
    }
  }
  for (const auto& d : catalog.domains()) {
    context->domain_names_zh[d.id()] = d.name_zh();
  }
  for (const auto& u : catalog.member_units()) {
    context->unit_names_zh[u.code()] = u.name_zh();
  }
  for (const auto& i : catalog.indicators()) {
    context->indicator_names_zh[i.id()] = i.name_zh();
  }
}

std::string RenderReportHtml(const v1::EvaluationReport& report, const ReportContext& ctx) {
  const std::vector<DomainGroup> groups = GroupByDomain(report, ctx);
  const std::vector<const v1::Warning*> warnings = SortedWarnings(report);
  const std::string title = ReportTitle(report, ctx);
  std::string o;
  absl::StrAppend(
      &o, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n",
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:\">\n",
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
      Esc(title), "</title>\n<style>", kCss, "</style>\n</head>\n<body>\n");
  absl::StrAppend(&o, "<header>\n<h1>", Esc(title), "</h1>\n");
  if (!ctx.banner_zh.empty()) {
    absl::StrAppend(&o, "<div class=\"banner\">", Esc(ctx.banner_zh), "</div>\n");
  }
  absl::StrAppend(&o, "<div class=\"meta\">区域：", Esc(AreaText(report, ctx)), " · 数据截至：",
                  report.year(), "年");
  const std::string generated = FormatTime(report.generated_at());
  if (!generated.empty()) {
    absl::StrAppend(&o, " · 生成时间：", generated);
  }
  absl::StrAppend(&o, " · 评估方法：Open SDG 进展指数（基期2020年）</div>\n</header>\n");

  // Summary.
  absl::StrAppend(&o,
                  "<section class=\"summary\">\n<h2>总体情况</h2>\n<table>\n<thead><tr>"
                  "<th>领域</th><th class=\"n\">评估指标</th><th class=\"n\">达标</th>"
                  "<th class=\"n\">达标率</th>");
  for (v1::ProgressStatus st : SummaryStatuses(report)) {
    absl::StrAppend(&o, "<th class=\"n\">", StatusLabelZh(st), "</th>");
  }
  absl::StrAppend(&o, "<th>分布</th></tr></thead>\n<tbody>\n");
  auto summary_row = [&](const v1::DomainSummary& d, const std::string& name, bool overall) {
    absl::StrAppend(&o, overall ? "<tr class=\"overall\">" : "<tr>", "<td>", Esc(name),
                    "</td><td class=\"n\">", d.assessed_count(), "</td><td class=\"n\">",
                    d.achieved_count(), "</td><td class=\"n\">",
                    FormatValue(d.achievement_rate_percent(), 1), "%</td>");
    int total = 0;
    for (v1::ProgressStatus st : SummaryStatuses(report)) {
      total += CountOf(d, st);
      absl::StrAppend(&o, "<td class=\"n\">", CountOf(d, st), "</td>");
    }
    absl::StrAppend(&o, "<td><div class=\"bar\">");
    for (v1::ProgressStatus st : SummaryStatuses(report)) {
      const int c = CountOf(d, st);
      if (c > 0 && total > 0) {
        absl::StrAppend(&o, "<span style=\"width:", FormatValue(100.0 * c / total, 2),
                        "%;background:", StatusColour(st), "\" title=\"", StatusLabelZh(st), " ", c,
                        "\"></span>");
      }
    }
    absl::StrAppend(&o, "</div></td></tr>\n");
  };
  for (const auto& g : groups) {
    if (g.summary != nullptr) {
      summary_row(*g.summary, g.name, false);
    }
  }
  summary_row(report.overall(), "合计", true);
  absl::StrAppend(&o, "</tbody>\n</table>\n<div class=\"legend\">");
  for (v1::ProgressStatus st : SummaryStatuses(report)) {
    absl::StrAppend(&o, "<i style=\"background:", StatusColour(st), "\"></i>", StatusLabelZh(st));
  }
  absl::StrAppend(&o,
                  "</div>\n<p class=\"muted\">达标率 = 已达标（含按进度可如期实现的目标，"
                  "依报告类型）/ 评估指标数 × 100%。</p>\n");
  if (report.child_areas_size() > 0) {
    absl::StrAppend(&o, "<h2>下级区域比较</h2>\n<p class=\"muted\">",
                    Esc(report.child_areas_covers_zh()), "。</p>\n");
    for (const CompendiumTable& t : ChildAreaTables(report, ctx)) {
      absl::StrAppend(&o, "<table class=\"children\" data-table=\"", Esc(t.caption),
                      "\">\n<caption>", Esc(t.caption), "</caption>\n<thead><tr>");
      for (const std::string& h : t.header) {
        absl::StrAppend(&o, "<th>", Esc(h), "</th>");
      }
      absl::StrAppend(&o, "</tr></thead>\n<tbody>\n");
      for (const auto& row : t.rows) {
        absl::StrAppend(&o, "<tr>");
        for (const CompendiumCell& c : row) {
          absl::StrAppend(&o, c.kind == CompendiumCell::kNumber ? "<td class=\"n\">" : "<td>",
                          Esc(CellText(c)), "</td>");
        }
        absl::StrAppend(&o, "</tr>\n");
      }
      absl::StrAppend(&o, "</tbody>\n</table>\n");
    }
  }

  // Warnings.
  std::map<v1::Severity, int> by_severity;
  for (const auto* w : warnings) {
    ++by_severity[w->severity()];
  }
  absl::StrAppend(&o, "<h2>预警情况</h2>\n<p>共 ", warnings.size(), " 条预警：");
  for (v1::Severity sv : {v1::SEVERITY_RED, v1::SEVERITY_ORANGE, v1::SEVERITY_YELLOW}) {
    absl::StrAppend(&o, "<span class=\"sev\" style=\"color:", SeverityColour(sv), "\">",
                    SeverityLabelZh(sv), " ", by_severity[sv], " 条</span>　");
  }
  absl::StrAppend(&o, "</p>\n");
  if (!warnings.empty()) {
    absl::StrAppend(&o,
                    "<table class=\"warnings\">\n<thead><tr><th>级别</th><th>指标</th>"
                    "<th>类型</th><th>说明</th></tr></thead>\n<tbody>\n");
    for (const auto* w : warnings) {
      absl::StrAppend(&o, "<tr data-warning=\"", Esc(w->id()),
                      "\"><td class=\"sev\" style=\"color:", SeverityColour(w->severity()), "\">",
                      SeverityLabelZh(w->severity()), "</td><td>", Esc(Subject(*w, report, ctx)),
                      w->area_code() != report.area_code() && !w->area_code().empty()
                          ? absl::StrCat("（", Esc(w->area_code()), "）")
                          : "",
                      "</td><td>", KindCell(*w), "</td><td>", Esc(w->explanation_zh()));
      if (w->has_acknowledgement()) {
        absl::StrAppend(&o, "<br><span class=\"muted\">对策建议（", Esc(w->acknowledgement().by()),
                        "）：", Esc(w->acknowledgement().note()), "</span>");
      }
      absl::StrAppend(&o, "</td></tr>\n");
    }
    absl::StrAppend(&o, "</tbody>\n</table>\n");
  }
  absl::StrAppend(&o, ReportFollowUpsHtml(report, FollowUpNames(report, ctx), &Esc));
  absl::StrAppend(&o, "</section>\n");

  // Domains.
  std::map<std::string, const v1::AnnualReportDomain*> annual;
  if (ctx.annual != nullptr) {
    for (const auto& d : ctx.annual->domains()) {
      annual[d.domain_id()] = &d;
    }
  }
  int number = 0;
  for (const auto& g : groups) {
    if (g.indicators.empty() && annual.count(g.id) == 0) {
      continue;
    }
    ++number;
    absl::StrAppend(&o, "<section class=\"domain\" data-domain=\"", Esc(g.id), "\">\n<h2>",
                    ChineseOrdinal(number), "、", Esc(g.name), "</h2>\n");
    if (g.summary != nullptr) {
      absl::StrAppend(&o, "<p class=\"muted\">评估指标 ", g.summary->assessed_count(), " 项，达标 ",
                      g.summary->achieved_count(), " 项，达标率 ",
                      FormatValue(g.summary->achievement_rate_percent(), 1), "%。</p>\n");
    }
    for (const v1::IndicatorAssessment* ia : g.indicators) {
      const bool chart = HasChart(*ia);
      absl::StrAppend(&o, "<article class=\"indicator", chart ? "" : " nochart",
                      "\" data-indicator=\"", Esc(ia->indicator_id()), "\">\n<h3>",
                      Esc(ia->indicator_id()), " ", Esc(ia->name_zh()),
                      ia->unit().empty() ? "" : absl::StrCat("（", Esc(ia->unit()), "）"), " ",
                      "<span class=\"chip\" style=\"background:", StatusColour(HeadlineStatus(*ia)),
                      "\">", StatusLabelZh(HeadlineStatus(*ia)), "</span></h3>\n");
      if (chart) {
        absl::StrAppend(&o, "<div class=\"plot\">", RenderChartSvg(*ia),
                        "\n<div class=\"legend\">● 实际值　<span style=\"color:#9a3412\">"
                        "┅ 目标</span>　┄ 按当前速度预测</div></div>\n");
      }
      absl::StrAppend(&o, "<div class=\"figures\">\n");
      for (const auto& a : ia->assessments()) {
        absl::StrAppend(&o, "<div class=\"ta\"><div><span class=\"chip\" style=\"background:",
                        StatusColour(a.status()), "\">", StatusLabelZh(a.status()),
                        "</span> <b>目标 ", Esc(TargetShortZh(a.target(), ia->unit())), "</b>");
        if (!a.target().text_zh().empty()) {
          absl::StrAppend(&o, " <span class=\"verb\">「", Esc(a.target().text_zh()), "」</span>");
        }
        if (a.severity() != v1::SEVERITY_UNSPECIFIED) {
          absl::StrAppend(&o, " <span class=\"sev\" style=\"color:", SeverityColour(a.severity()),
                          "\">", SeverityLabelZh(a.severity()), "</span>");
        }
        if (a.contains_unapproved_data()) {
          absl::StrAppend(&o, " <span class=\"unapproved\">含未审核数据</span>");
        }
        absl::StrAppend(&o, "</div>\n");
        const std::vector<FigureItem> items = FigureItems(a.figures(), ia->unit());
        if (!items.empty()) {
          absl::StrAppend(&o, "<dl class=\"fig\">");
          for (const auto& item : items) {
            absl::StrAppend(&o, "<dt>", Esc(item.label), "</dt><dd>", Esc(item.value), "</dd>");
          }
          absl::StrAppend(&o, "</dl>\n");
        }
        if (!a.explanation_zh().empty()) {
          absl::StrAppend(&o,
                          "<p class=\"why\" style=\"border-left-color:", StatusColour(a.status()),
                          "\">", Esc(a.explanation_zh()), "</p>\n");
        }
        absl::StrAppend(&o, "</div>\n");
      }
      const std::vector<const v1::Warning*> extra = ExtraWarnings(report, *ia);
      if (!extra.empty()) {
        absl::StrAppend(&o, "<ul class=\"extra\">");
        for (const auto* w : extra) {
          absl::StrAppend(&o,
                          "<li><span class=\"sev\" style=\"color:", SeverityColour(w->severity()),
                          "\">", SeverityLabelZh(w->severity()), "·", KindLabelZh(w->kind()),
                          "</span> ", Esc(w->explanation_zh()), "</li>");
        }
        absl::StrAppend(&o, "</ul>\n");
      }
      absl::StrAppend(&o, "</div>\n</article>\n");
    }
    auto a = annual.find(g.id);
    if (a != annual.end() && !a->second->rows().empty()) {
      absl::StrAppend(
          &o, "<h3>", ctx.annual->year(),
          "年监测数据</h3>\n<table class=\"monitoring\">"
          "<thead><tr><th>指标</th><th class=\"n\">本年</th><th class=\"n\">上年</th>"
          "<th class=\"n\">变化</th><th class=\"n\">女−男</th><th class=\"n\">城−乡</th>"
          "<th class=\"n\">数据完整度</th></tr></thead>\n<tbody>\n");
      for (const auto& r : a->second->rows()) {
        absl::StrAppend(
            &o, "<tr><td>", Esc(r.indicator_id()), " ", Esc(r.name_zh()),
            r.unit().empty() ? "" : absl::StrCat("（", Esc(r.unit()), "）"),
            "</td><td class=\"n\">",
            Esc(CoveredFigure(r.has_value(), r.value(),
                              r.has_value_point() ? &r.value_point() : nullptr, ctx)),
            "</td><td class=\"n\">",
            Esc(CoveredFigure(r.has_previous_value(), r.previous_value(),
                              r.has_previous_point() ? &r.previous_point() : nullptr, ctx)),
            "</td><td class=\"n\">", r.has_change() ? FormatValue(r.change()) : "-",
            "</td><td class=\"n\">",
            r.has_female_minus_male() ? FormatValue(r.female_minus_male()) : "-",
            "</td><td class=\"n\">",
            r.has_urban_minus_rural() ? FormatValue(r.urban_minus_rural()) : "-",
            "</td><td class=\"n\">", FormatValue(r.completeness_percent(), 1), "%</td></tr>\n");
      }
      absl::StrAppend(&o, "</tbody>\n</table>\n");
    }
    absl::StrAppend(&o, "</section>\n");
  }
  absl::StrAppend(
      &o,
      "<footer>本报告由 halfsky 生成；进展评估采用 Open SDG（加拿大统计局）进展指数方法，"
      "以2020年为基期。图中实线为实际值，虚线为目标，点线为按当前年均变化速度的预测。"
      "</footer>\n</body>\n</html>\n");
  return o;
}

std::string RenderReportMarkdown(const v1::EvaluationReport& report, const ReportContext& ctx) {
  const std::vector<DomainGroup> groups = GroupByDomain(report, ctx);
  const std::vector<const v1::Warning*> warnings = SortedWarnings(report);
  std::string o = absl::StrCat("# ", ReportTitle(report, ctx), "\n\n");
  if (!ctx.banner_zh.empty()) {
    absl::StrAppend(&o, "> **", ctx.banner_zh, "**\n\n");
  }
  absl::StrAppend(&o, "区域：", AreaText(report, ctx), " · 数据截至：", report.year(), "年");
  const std::string generated = FormatTime(report.generated_at());
  if (!generated.empty()) {
    absl::StrAppend(&o, " · 生成时间：", generated);
  }
  absl::StrAppend(&o, "\n\n## 总体情况\n\n| 领域 | 评估指标 | 达标 | 达标率 |");
  for (v1::ProgressStatus st : SummaryStatuses(report)) {
    absl::StrAppend(&o, " ", StatusLabelZh(st), " |");
  }
  absl::StrAppend(&o, "\n|---|---:|---:|---:|");
  for (size_t i = 0; i < SummaryStatuses(report).size(); ++i) {
    absl::StrAppend(&o, "---:|");
  }
  o += "\n";
  auto row = [&](const v1::DomainSummary& d, const std::string& name, bool bold) {
    const std::string b = bold ? "**" : "";
    absl::StrAppend(&o, "| ", b, MdCell(name), b, " | ", d.assessed_count(), " | ",
                    d.achieved_count(), " | ", FormatValue(d.achievement_rate_percent(), 1), "% |");
    for (v1::ProgressStatus st : SummaryStatuses(report)) {
      absl::StrAppend(&o, " ", CountOf(d, st), " |");
    }
    o += "\n";
  };
  for (const auto& g : groups) {
    if (g.summary != nullptr) {
      row(*g.summary, g.name, false);
    }
  }
  row(report.overall(), "合计", true);
  if (report.child_areas_size() > 0) {
    absl::StrAppend(&o, "\n## 下级区域比较\n\n", MdCell(report.child_areas_covers_zh()), "。\n");
    for (const CompendiumTable& t : ChildAreaTables(report, ctx)) {
      absl::StrAppend(&o, "\n**", MdCell(t.caption), "**\n\n|");
      for (const std::string& h : t.header) {
        absl::StrAppend(&o, " ", MdCell(h), " |");
      }
      o += "\n|";
      for (size_t i = 0; i < t.header.size(); ++i) {
        o += "---|";
      }
      o += "\n";
      for (const auto& r : t.rows) {
        o += "|";
        for (const CompendiumCell& c : r) {
          absl::StrAppend(&o, " ", MdCell(CellText(c)), " |");
        }
        o += "\n";
      }
    }
  }

  std::map<v1::Severity, int> by_severity;
  for (const auto* w : warnings) {
    ++by_severity[w->severity()];
  }
  absl::StrAppend(&o, "\n## 预警情况\n\n共 ", warnings.size(), " 条预警：红色预警 ",
                  by_severity[v1::SEVERITY_RED], " 条，橙色预警 ", by_severity[v1::SEVERITY_ORANGE],
                  " 条，黄色预警 ", by_severity[v1::SEVERITY_YELLOW], " 条。\n\n");
  if (!warnings.empty()) {
    o += "| 级别 | 指标 | 类型 | 说明 |\n|---|---|---|---|\n";
    for (const auto* w : warnings) {
      std::string text = w->explanation_zh();
      if (w->has_acknowledgement()) {
        absl::StrAppend(&text, " 对策建议（", w->acknowledgement().by(), "）：",
                        w->acknowledgement().note());
      }
      absl::StrAppend(&o, "| ", SeverityLabelZh(w->severity()), " | ",
                      MdCell(Subject(*w, report, ctx)), " | ", KindCell(*w), " | ", MdCell(text),
                      " |\n");
    }
  }
  o += ReportFollowUpsMarkdown(report, FollowUpNames(report, ctx));
  std::map<std::string, const v1::AnnualReportDomain*> annual;
  if (ctx.annual != nullptr) {
    for (const auto& d : ctx.annual->domains()) {
      annual[d.domain_id()] = &d;
    }
  }
  int number = 0;
  for (const auto& g : groups) {
    if (g.indicators.empty() && annual.count(g.id) == 0) {
      continue;
    }
    ++number;
    absl::StrAppend(&o, "\n## ", ChineseOrdinal(number), "、", g.name, "\n");
    if (g.summary != nullptr) {
      absl::StrAppend(&o, "\n评估指标 ", g.summary->assessed_count(), " 项，达标 ",
                      g.summary->achieved_count(), " 项，达标率 ",
                      FormatValue(g.summary->achievement_rate_percent(), 1), "%。\n");
    }
    for (const v1::IndicatorAssessment* ia : g.indicators) {
      absl::StrAppend(&o, "\n### ", ia->indicator_id(), " ", ia->name_zh(),
                      ia->unit().empty() ? "" : absl::StrCat("（", ia->unit(), "）"), " — ",
                      StatusLabelZh(HeadlineStatus(*ia)), "\n\n");
      if (HasChart(*ia)) {
        int first = 0;
        google::protobuf::RepeatedPtrField<v1::SeriesPoint> whole;
        for (const auto& p : ia->series()) {
          if (!p.incomplete()) {
            *whole.Add() = p;
          }
        }
        const auto values = YearlyValues(whole, &first);
        absl::StrAppend(&o, "趋势 `", Sparkline(values), "` ", first, "–",
                        first + static_cast<int>(values.size()) - 1, "\n\n");
        std::string years = "| 年份 |";
        std::string rule = "|---|";
        std::string vals = "| 数值 |";
        for (const auto& p : ia->series()) {
          absl::StrAppend(&years, " ", p.year(), " |");
          absl::StrAppend(&rule, "---:|");
          absl::StrAppend(&vals, " ", MdCell(CoveredFigure(p.has_value(), p.value(), &p, ctx)),
                          " |");
        }
        absl::StrAppend(&o, years, "\n", rule, "\n", vals, "\n\n");
      }
      for (const auto& a : ia->assessments()) {
        absl::StrAppend(&o, "- **目标 ", TargetShortZh(a.target(), ia->unit()), "**");
        if (!a.target().text_zh().empty()) {
          absl::StrAppend(&o, "「", a.target().text_zh(), "」");
        }
        absl::StrAppend(&o, " — ", StatusLabelZh(a.status()));
        if (a.severity() != v1::SEVERITY_UNSPECIFIED) {
          absl::StrAppend(&o, "（", SeverityLabelZh(a.severity()), "）");
        }
        if (a.contains_unapproved_data()) {
          absl::StrAppend(&o, " · 含未审核数据");
        }
        o += "\n";
        const std::vector<FigureItem> items = FigureItems(a.figures(), ia->unit());
        if (!items.empty()) {
          std::vector<std::string> parts;
          for (const auto& item : items) {
            parts.push_back(absl::StrCat(item.label, " ", item.value));
          }
          absl::StrAppend(&o, "  - ", absl::StrJoin(parts, " · "), "\n");
        }
        if (!a.explanation_zh().empty()) {
          absl::StrAppend(&o, "  - ", a.explanation_zh(), "\n");
        }
      }
      for (const auto* w : ExtraWarnings(report, *ia)) {
        absl::StrAppend(&o, "- **", SeverityLabelZh(w->severity()), "·", KindLabelZh(w->kind()),
                        "** ", w->explanation_zh(), "\n");
      }
    }
    auto a = annual.find(g.id);
    if (a != annual.end() && !a->second->rows().empty()) {
      absl::StrAppend(&o, "\n### ", ctx.annual->year(),
                      "年监测数据\n\n| 指标 | 本年 | 上年 | 变化 | 女−男 | 城−乡 | 数据完整度 |\n"
                      "|---|---:|---:|---:|---:|---:|---:|\n");
      for (const auto& r : a->second->rows()) {
        absl::StrAppend(
            &o, "| ", MdCell(r.indicator_id()), " ", MdCell(r.name_zh()), " | ",
            MdCell(CoveredFigure(r.has_value(), r.value(),
                                 r.has_value_point() ? &r.value_point() : nullptr, ctx)),
            " | ",
            MdCell(CoveredFigure(r.has_previous_value(), r.previous_value(),
                                 r.has_previous_point() ? &r.previous_point() : nullptr, ctx)),
            " | ", r.has_change() ? FormatValue(r.change()) : "-", " | ",
            r.has_female_minus_male() ? FormatValue(r.female_minus_male()) : "-", " | ",
            r.has_urban_minus_rural() ? FormatValue(r.urban_minus_rural()) : "-", " | ",
            FormatValue(r.completeness_percent(), 1), "% |\n");
      }
    }
  }
  return o;
}

std::string RenderReportCsv(const v1::EvaluationReport& report, const ReportContext& ctx) {
  const std::vector<DomainGroup> groups = GroupByDomain(report, ctx);
  static const std::vector<std::string> kHeader = {"record",
                                                   "domain_id",
                                                   "domain",
                                                   "indicator_id",
                                                   "indicator",
                                                   "unit",
                                                   "target",
                                                   "target_year",
                                                   "status",
                                                   "severity",
                                                   "kind",
                                                   "year",
                                                   "value",
                                                   "base_year",
                                                   "base_value",
                                                   "current_year",
                                                   "current_value",
                                                   "target_value",
                                                   "projected_value",
                                                   "actual_annual_rate",
                                                   "required_annual_rate",
                                                   "progress",
                                                   "assessed",
                                                   "achieved",
                                                   "achievement_rate_percent",
                                                   "count",
                                                   "text",
                                                   "member_unit_code",
                                                   "member_unit",
                                                   "missing_indicator_ids",
                                                   "days_overdue",
                                                   "due",
                                                   "follow_up_state",
                                                   "area_code",
                                                   "plan_code",
                                                   "rank",
                                                   "gap"};
  std::string o = CsvLine(kHeader);
  auto opt = [](bool has, double v) { return has ? Num(v) : std::string(); };
  auto emit = [&](std::map<std::string, std::string> fields) {
    std::vector<std::string> line;
    for (const auto& h : kHeader) {
      line.push_back(fields[h]);
    }
    o += CsvLine(line);
  };
  auto summary = [&](const v1::DomainSummary& d, const std::string& id, const std::string& name) {
    emit({{"record", "summary"},
          {"domain_id", id},
          {"domain", name},
          {"year", absl::StrCat(report.year())},
          {"assessed", absl::StrCat(d.assessed_count())},
          {"achieved", absl::StrCat(d.achieved_count())},
          {"achievement_rate_percent", Num(d.achievement_rate_percent())},
          {"text", ReportTitle(report, ctx)}});
    for (v1::ProgressStatus st : SummaryStatuses(report)) {
      emit({{"record", "status_count"},
            {"domain_id", id},
            {"domain", name},
            {"status", StatusToken(st)},
            {"count", absl::StrCat(CountOf(d, st))},
            {"text", StatusLabelZh(st)}});
    }
  };
  std::map<std::string, std::string> domain_name;
  for (const auto& g : groups) {
    domain_name[g.id] = g.name;
    if (g.summary != nullptr) {
      summary(*g.summary, g.id, g.name);
    }
  }
  summary(report.overall(), "", "合计");
  for (const auto* w : SortedWarnings(report)) {
    emit({{"record", "warning"},
          {"domain_id", w->domain_id()},
          {"domain", domain_name[w->domain_id()]},
          {"indicator_id", w->indicator_id()},
          {"indicator", w->indicator_name_zh()},
          {"target_year", w->target_year() != 0 ? absl::StrCat(w->target_year()) : ""},
          {"status", StatusToken(w->status())},
          {"severity", SeverityToken(w->severity())},
          {"kind", KindToken(w->kind())},
          {"year", w->data_year() != 0 ? absl::StrCat(w->data_year()) : ""},
          {"text", w->explanation_zh()},
          {"member_unit_code", w->unit_code()},
          {"member_unit", w->unit_code().empty() ? ""
                          : ctx.unit_names_zh.count(w->unit_code()) != 0
                              ? ctx.unit_names_zh.at(w->unit_code())
                              : w->unit_code()},
          {"missing_indicator_ids", absl::StrJoin(w->missing_indicator_ids(), ";")},
          {"days_overdue", IsUnitWarning(*w) ? absl::StrCat(w->days_overdue()) : ""}});
  }
  if (report.has_follow_up_summary()) {
    const int64_t now = report.follow_up_summary().as_of().seconds();
    const Names names = FollowUpNames(report, ctx);
    emit({{"record", "follow_up_summary"},
          {"count", absl::StrCat(report.follow_up_summary().total())},
          {"text", FollowUpSummaryZh(report.follow_up_summary())}});
    for (const v1::FollowUp& f : report.follow_ups()) {
      const v1::Warning& w = f.warning();
      emit({{"record", "follow_up"},
            {"domain_id", w.domain_id()},
            {"domain", domain_name[w.domain_id()]},
            {"indicator_id", w.indicator_id()},
            {"indicator", w.indicator_name_zh()},
            {"severity", SeverityToken(w.severity())},
            {"kind", KindToken(w.kind())},
            {"text", AskedZh(f)},
            {"member_unit_code", f.owner_unit_code()},
            {"member_unit", UnitNameZh(f.owner_unit_code(), names)},
            {"due", DueDateZh(f)},
            {"follow_up_state", FollowUpStateToken(f, now)}});
    }
  }
  for (const auto& g : groups) {
    for (const v1::IndicatorAssessment* ia : g.indicators) {
      std::map<std::string, std::string> base = {{"domain_id", g.id},
                                                 {"domain", g.name},
                                                 {"indicator_id", ia->indicator_id()},
                                                 {"indicator", ia->name_zh()},
                                                 {"unit", ia->unit()}};
      for (const auto& a : ia->assessments()) {
        const v1::Figures& f = a.figures();
        auto fields = base;
        fields["record"] = "assessment";
        fields["target"] = TargetShortZh(a.target(), ia->unit());
        fields["target_year"] = a.target().year() != 0 ? absl::StrCat(a.target().year()) : "";
        fields["status"] = StatusToken(a.status());
        fields["severity"] = SeverityToken(a.severity());
        fields["kind"] = KindToken(a.warning_kind());
        fields["base_year"] = f.base_year() != 0 ? absl::StrCat(f.base_year()) : "";
        fields["base_value"] = opt(f.has_base_value(), f.base_value());
        fields["current_year"] = f.current_year() != 0 ? absl::StrCat(f.current_year()) : "";
        fields["current_value"] = opt(f.has_current_value(), f.current_value());
        fields["target_value"] = opt(f.has_target_value(), f.target_value());
        fields["projected_value"] = opt(f.has_projected_value(), f.projected_value());
        fields["actual_annual_rate"] = opt(f.has_actual_annual_rate(), f.actual_annual_rate());
        fields["required_annual_rate"] =
            opt(f.has_required_annual_rate(), f.required_annual_rate());
        fields["progress"] = opt(f.has_progress(), f.progress());
        fields["text"] = a.explanation_zh();
        emit(fields);
      }
      for (const auto& p : ia->series()) {
        auto fields = base;
        fields["record"] = "point";
        fields["year"] = absl::StrCat(p.year());
        fields["value"] = opt(p.has_value(), p.value());
        if (p.incomplete() || p.published() || p.published_area_count() > 0) {
          fields["text"] = CoveredFigure(p.has_value(), p.value(), &p, ctx);
        }
        emit(fields);
      }
    }
  }
  // Several plans: per child area one `child_area` record per plan (its
  // own, then the report area's: 达标率, and the rank by the latter), and
  // per indicator one `child_indicator` record per plan (that plan's
  // status; the figure of the comparison year, the gap to the report
  // area, the rank; text: what the figure covers).
  for (const v1::ChildAreaComparison& c : report.child_areas()) {
    const std::pair<const v1::DomainSummary*, std::string> sides[] = {
        {&c.own_plan(), c.plan_code()}, {&c.report_plan(), report.plan_code()}};
    for (const auto& [summary, plan] : sides) {
      const bool upper = summary == &c.report_plan();
      emit({{"record", "child_area"},
            {"area_code", c.area_code()},
            {"plan_code", plan},
            {"year", absl::StrCat(report.year())},
            {"assessed", absl::StrCat(summary->assessed_count())},
            {"achieved", absl::StrCat(summary->achieved_count())},
            {"achievement_rate_percent",
             summary->assessed_count() > 0 ? Num(summary->achievement_rate_percent()) : ""},
            {"rank", upper && c.rank() > 0 ? absl::StrCat(c.rank()) : ""},
            {"count", upper && c.rank() > 0 ? absl::StrCat(c.ranked_count()) : ""},
            {"text", absl::StrCat(c.name_zh(), "：", summary->name_zh())}});
    }
    for (const v1::ChildIndicatorComparison& r : c.indicators()) {
      for (const bool upper : {false, true}) {
        const bool has = r.figure().year() != 0 && r.figure().has_value();
        emit({{"record", "child_indicator"},
              {"area_code", c.area_code()},
              {"plan_code", upper ? report.plan_code() : c.plan_code()},
              {"indicator_id", r.indicator_id()},
              {"indicator", r.name_zh()},
              {"unit", r.unit()},
              {"status", StatusToken(upper ? r.report_plan_status() : r.own_plan_status())},
              {"year", r.year() != 0 ? absl::StrCat(r.year()) : ""},
              {"value", opt(has, r.figure().value())},
              {"gap", opt(r.has_gap_to_report_area(), r.gap_to_report_area())},
              {"rank", r.rank() > 0 ? absl::StrCat(r.rank()) : ""},
              {"count", r.rank() > 0 ? absl::StrCat(r.ranked_count()) : ""},
              {"text", r.covers_zh()}});
      }
    }
  }
  if (ctx.annual != nullptr) {
    for (const auto& d : ctx.annual->domains()) {
      for (const auto& r : d.rows()) {
        emit({{"record", "monitoring"},
              {"domain_id", d.domain_id()},
              {"domain", d.name_zh()},
              {"indicator_id", r.indicator_id()},
              {"indicator", r.name_zh()},
              {"unit", r.unit()},
              {"year", absl::StrCat(ctx.annual->year())},
              {"value", opt(r.has_value(), r.value())},
              {"text",
               absl::StrCat("completeness ", Num(r.completeness_percent()), "%",
                            r.has_value_point() &&
                                    (r.value_point().incomplete() || r.value_point().published() ||
                                     r.value_point().published_area_count() > 0)
                                ? absl::StrCat(" ", CoveredFigure(r.has_value(), r.value(),
                                                                  &r.value_point(), ctx))
                                : "")}});
      }
    }
  }
  return o;
}

namespace {

CompendiumCell TextCell(std::string text) {
  CompendiumCell c;
  c.kind = text.empty() ? CompendiumCell::kEmpty : CompendiumCell::kText;
  c.text = std::move(text);
  return c;
}

// The figure as the report prints it (FormatValue(value, decimals)), as a
// number.
CompendiumCell PrintedNumber(double value, int decimals = 2) {
  CompendiumCell c;
  double printed = 0;
  if (std::isfinite(value) && absl::SimpleAtod(FormatValue(value, decimals), &printed)) {
    c.kind = CompendiumCell::kNumber;
    c.number = printed;
  }
  return c;
}

CompendiumCell OptionalNumber(bool has, double value, int decimals = 2) {
  return has ? PrintedNumber(value, decimals) : CompendiumCell{};
}

CompendiumCell IntCell(int64_t v) {
  CompendiumCell c;
  c.kind = CompendiumCell::kNumber;
  c.number = static_cast<double>(v);
  return c;
}

// A rate as FormatRate prints it ("+2.3%"), as a percentage number (2.3).
CompendiumCell RatePercent(bool has, double fraction) {
  return has ? PrintedNumber(fraction * 100.0, 1) : CompendiumCell{};
}

// Excel refuses []:*?/\ in sheet names and more than 31 characters.
std::string SheetName(const std::string& name) {
  std::string out;
  int chars = 0;
  for (size_t i = 0; i < name.size() && chars < 31;) {
    const unsigned char c = name[i];
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    const std::string ch = name.substr(i, len);
    out += (ch.size() == 1 && std::string("[]:*?/\\").find(ch[0]) != std::string::npos) ? "_" : ch;
    i += len;
    ++chars;
  }
  return out.empty() ? std::string("领域") : out;
}

std::string StatusesText(
    const google::protobuf::RepeatedPtrField<v1::TargetAssessment>& assessments,
    const std::string& unit) {
  if (assessments.empty()) {
    return "本规划未设目标";
  }
  std::vector<std::string> parts;
  for (const v1::TargetAssessment& a : assessments) {
    parts.push_back(
        absl::StrCat(StatusLabelZh(a.status()), "（", TargetShortZh(a.target(), unit), "）"));
  }
  return absl::StrJoin(parts, "；");
}

std::string CellText(const CompendiumCell& c) {
  switch (c.kind) {
    case CompendiumCell::kNumber:
      return Num(c.number);
    case CompendiumCell::kText:
      return c.text;
    default:
      return "";
  }
}

std::vector<CompendiumTable> ChildAreaTables(const v1::EvaluationReport& report,
                                             const ReportContext& ctx) {
  std::vector<CompendiumTable> tables;
  if (report.child_areas_size() == 0) {
    return tables;
  }
  const std::string upper =
      report.plan_title_zh().empty() ? ctx.plan_title_zh : report.plan_title_zh();
  const std::string area = ctx.area_name_zh.empty() ? report.area_code() : ctx.area_name_zh;
  CompendiumTable rates;
  rates.caption = absl::StrCat("下级区域达标率与排名（", report.year(), "年报告）");
  rates.header = {"区域", "本级规划",  "按本级规划：评估指标",
                  "达标", "达标率(%)", absl::StrCat("按", upper, "：评估指标"),
                  "达标", "达标率(%)", "排名（按上级规划达标率）",
                  "说明"};
  for (const v1::ChildAreaComparison& c : report.child_areas()) {
    std::string note;
    const int own_left = c.own_plan().assessed_count();
    const int upper_left = c.report_plan().assessed_count();
    if (upper_left == 0) {
      note = "按上级规划无可评估指标，不排名";
    }
    for (const v1::DomainSummary* d : {&c.own_plan(), &c.report_plan()}) {
      const int incomplete = CountOf(*d, v1::PROGRESS_STATUS_DATA_INCOMPLETE);
      const int none = CountOf(*d, v1::PROGRESS_STATUS_NOT_ASSESSABLE);
      if (incomplete + none > 0) {
        absl::StrAppend(&note, note.empty() ? "" : "；", d == &c.own_plan() ? "本级" : "上级",
                        "规划另有", incomplete > 0 ? absl::StrCat(incomplete, "项数据不完整") : "",
                        incomplete > 0 && none > 0 ? "、" : "",
                        none > 0 ? absl::StrCat(none, "项数据不足") : "", "，未计入");
      }
    }
    rates.rows.push_back(
        {TextCell(c.name_zh()), TextCell(c.plan_title_zh()), IntCell(own_left),
         IntCell(c.own_plan().achieved_count()),
         own_left > 0 ? PrintedNumber(c.own_plan().achievement_rate_percent(), 1) : TextCell("-"),
         IntCell(upper_left), IntCell(c.report_plan().achieved_count()),
         upper_left > 0 ? PrintedNumber(c.report_plan().achievement_rate_percent(), 1)
                        : TextCell("-"),
         TextCell(c.rank() > 0 ? absl::StrCat(c.rank(), "/", c.ranked_count()) : "不排名"),
         TextCell(note)});
  }
  tables.push_back(std::move(rates));

  CompendiumTable rows;
  rows.caption = "分指标比较（各区域按本级规划与上级规划）";
  rows.header = {"指标",
                 "区域",
                 "年份",
                 "数值",
                 absl::StrCat(area, "同年"),
                 absl::StrCat("与", area, "之差"),
                 "排名",
                 "按本级规划",
                 absl::StrCat("按", upper),
                 "数据说明"};
  // Indicator-major: every child's row of one indicator together.
  std::vector<std::string> order;
  for (const v1::ChildAreaComparison& c : report.child_areas()) {
    for (const v1::ChildIndicatorComparison& r : c.indicators()) {
      if (std::find(order.begin(), order.end(), r.indicator_id()) == order.end()) {
        order.push_back(r.indicator_id());
      }
    }
  }
  for (const std::string& id : order) {
    for (const v1::ChildAreaComparison& c : report.child_areas()) {
      for (const v1::ChildIndicatorComparison& r : c.indicators()) {
        if (r.indicator_id() != id) {
          continue;
        }
        const bool has = r.figure().year() != 0 && r.figure().has_value();
        const bool has_upper =
            r.report_area_figure().year() != 0 && r.report_area_figure().has_value();
        CompendiumCell value = OptionalNumber(has, r.figure().value());
        if (has && r.figure().incomplete()) {
          value = TextCell(absl::StrCat(FormatValue(r.figure().value()), "（部分数）"));
        }
        CompendiumCell upper_value = OptionalNumber(has_upper, r.report_area_figure().value());
        if (has_upper && r.report_area_figure().incomplete()) {
          upper_value =
              TextCell(absl::StrCat(FormatValue(r.report_area_figure().value()), "（部分数）"));
        }
        rows.rows.push_back(
            {TextCell(absl::StrCat(r.name_zh(), r.unit().empty() ? "" : "（", r.unit(),
                                   r.unit().empty() ? "" : "）")),
             TextCell(c.name_zh()), r.year() > 0 ? IntCell(r.year()) : TextCell("-"), value,
             upper_value, OptionalNumber(r.has_gap_to_report_area(), r.gap_to_report_area()),
             TextCell(r.rank() > 0 ? absl::StrCat(r.rank(), "/", r.ranked_count()) : "不排名"),
             TextCell(StatusesText(r.own_plan_assessments(), r.unit())),
             TextCell(StatusesText(r.report_plan_assessments(), r.unit())),
             TextCell(r.covers_zh())});
      }
    }
  }
  tables.push_back(std::move(rows));
  return tables;
}

}  // namespace

std::vector<CompendiumSheet> ReportCompendium(const v1::EvaluationReport& report,
                                              const ReportContext& ctx) {
  std::vector<DomainGroup> groups = GroupByDomain(report, ctx);
  {
    std::set<std::string> present;
    for (const auto& g : groups) {
      present.insert(g.id);
    }
    for (const auto& [id, name] : ctx.domain_names_zh) {
      if (present.insert(id).second) {
        DomainGroup g;
        g.id = id;
        g.name = name;
        groups.push_back(std::move(g));
      }
    }
  }
  const std::string title = ReportTitle(report, ctx);
  std::vector<std::string> notes;
  if (!ctx.banner_zh.empty()) {
    notes.push_back(ctx.banner_zh);
  }
  {
    std::string meta =
        absl::StrCat("区域：", AreaText(report, ctx), " · 数据截至：", report.year(), "年");
    const std::string generated = FormatTime(report.generated_at());
    if (!generated.empty()) {
      absl::StrAppend(&meta, " · 生成时间：", generated);
    }
    notes.push_back(meta);
  }

  std::vector<CompendiumSheet> sheets;
  CompendiumSheet overview;
  overview.name = "总体情况";
  overview.title = title;
  overview.notes = notes;
  overview.notes.push_back(
      "达标率 = 已达标（含按进度可如期实现的目标，依报告类型）/ 评估指标数 × 100%。");
  CompendiumTable summary;
  summary.caption = "达标情况";
  summary.header = {"领域", "评估指标", "达标", "达标率(%)"};
  for (v1::ProgressStatus st : SummaryStatuses(report)) {
    summary.header.push_back(StatusLabelZh(st));
  }
  auto summary_row = [&](const v1::DomainSummary& d, const std::string& name) {
    std::vector<CompendiumCell> row = {TextCell(name), IntCell(d.assessed_count()),
                                       IntCell(d.achieved_count()),
                                       PrintedNumber(d.achievement_rate_percent(), 1)};
    for (v1::ProgressStatus st : SummaryStatuses(report)) {
      row.push_back(IntCell(CountOf(d, st)));
    }
    summary.rows.push_back(std::move(row));
  };
  for (const auto& g : groups) {
    if (g.summary != nullptr) {
      summary_row(*g.summary, g.name);
    }
  }
  summary_row(report.overall(), "合计");
  overview.tables.push_back(std::move(summary));
  CompendiumTable warnings;
  warnings.caption = "预警情况";
  warnings.header = {"级别", "指标", "区域", "类型", "说明", "对策建议"};
  for (const v1::Warning* w : SortedWarnings(report)) {
    warnings.rows.push_back(
        {TextCell(SeverityLabelZh(w->severity())), TextCell(Subject(*w, report, ctx)),
         TextCell(w->area_code()), TextCell(KindCell(*w)), TextCell(w->explanation_zh()),
         TextCell(w->has_acknowledgement() ? absl::StrCat(w->acknowledgement().note(), "（",
                                                          w->acknowledgement().by(), "）")
                                           : "")});
  }
  overview.tables.push_back(std::move(warnings));
  if (report.child_areas_size() > 0) {
    overview.notes.push_back(absl::StrCat("下级区域比较：", report.child_areas_covers_zh(), "。"));
    for (CompendiumTable& t : ChildAreaTables(report, ctx)) {
      overview.tables.push_back(std::move(t));
    }
  }
  sheets.push_back(std::move(overview));

  std::map<std::string, const v1::AnnualReportDomain*> annual;
  if (ctx.annual != nullptr) {
    for (const auto& d : ctx.annual->domains()) {
      annual[d.domain_id()] = &d;
    }
  }
  int number = 0;
  std::set<std::string> names = {"总体情况"};
  for (const auto& g : groups) {
    ++number;
    CompendiumSheet sheet;
    sheet.name = SheetName(g.name);
    while (!names.insert(sheet.name).second) {
      sheet.name = SheetName(absl::StrCat(number, " ", g.name));
    }
    sheet.title = absl::StrCat(ChineseOrdinal(number), "、", g.name);
    sheet.notes = {title};
    if (g.summary != nullptr) {
      sheet.notes.push_back(absl::StrCat(
          "评估指标 ", g.summary->assessed_count(), " 项，达标 ", g.summary->achieved_count(),
          " 项，达标率 ", FormatValue(g.summary->achievement_rate_percent(), 1), "%。"));
    }
    if (g.indicators.empty() && annual.count(g.id) == 0) {
      sheet.notes.push_back("本领域在本报告中没有指标数据。");
    }
    CompendiumTable targets;
    targets.caption = "目标评估";
    targets.header = {"指标代码",        "指标名称",  "计量单位", "目标",   "目标原文",
                      "评估结果",        "预警级别",  "基期年份", "基期值", "当前年份",
                      "当前值",          "目标年份",  "目标值",   "预计值", "实际年均变化(%)",
                      "所需年均变化(%)", "进展指数P", "说明"};
    CompendiumTable series;
    series.caption = "逐年数值";
    series.header = {"指标代码", "指标名称", "计量单位", "年份", "数值", "数据说明"};
    for (const v1::IndicatorAssessment* ia : g.indicators) {
      for (const auto& a : ia->assessments()) {
        const v1::Figures& f = a.figures();
        targets.rows.push_back(
            {TextCell(ia->indicator_id()), TextCell(ia->name_zh()), TextCell(ia->unit()),
             TextCell(TargetShortZh(a.target(), ia->unit())), TextCell(a.target().text_zh()),
             TextCell(StatusLabelZh(a.status())),
             TextCell(a.severity() != v1::SEVERITY_UNSPECIFIED ? SeverityLabelZh(a.severity())
                                                               : ""),
             f.has_base_value() ? IntCell(f.base_year()) : CompendiumCell{},
             OptionalNumber(f.has_base_value(), f.base_value()),
             f.has_current_value() ? IntCell(f.current_year()) : CompendiumCell{},
             OptionalNumber(f.has_current_value(), f.current_value()),
             f.target_year() != 0 ? IntCell(f.target_year()) : CompendiumCell{},
             OptionalNumber(f.has_target_value(), f.target_value(), 4),
             OptionalNumber(f.has_projected_value(), f.projected_value()),
             RatePercent(f.has_actual_annual_rate(), f.actual_annual_rate()),
             RatePercent(f.has_required_annual_rate(), f.required_annual_rate()),
             OptionalNumber(f.has_progress(), f.progress()), TextCell(a.explanation_zh())});
      }
      for (const auto& p : ia->series()) {
        series.rows.push_back({TextCell(ia->indicator_id()), TextCell(ia->name_zh()),
                               TextCell(ia->unit()), IntCell(p.year()),
                               OptionalNumber(p.has_value(), p.value()),
                               TextCell(CoverageAndReviewNote(p, ctx))});
      }
    }
    sheet.tables.push_back(std::move(targets));
    sheet.tables.push_back(std::move(series));
    auto an = annual.find(g.id);
    if (an != annual.end()) {
      CompendiumTable monitoring;
      monitoring.caption = absl::StrCat(ctx.annual->year(), "年监测数据");
      monitoring.header = {"指标代码",     "指标名称", "计量单位", "本年",  "本年数据说明", "上年",
                           "上年数据说明", "变化",     "女−男",    "城−乡", "数据完整度(%)"};
      for (const auto& r : an->second->rows()) {
        monitoring.rows.push_back({TextCell(r.indicator_id()), TextCell(r.name_zh()),
                                   TextCell(r.unit()), OptionalNumber(r.has_value(), r.value()),
                                   TextCell(r.has_value() && r.has_value_point()
                                                ? CoverageAndReviewNote(r.value_point(), ctx)
                                                : ""),
                                   OptionalNumber(r.has_previous_value(), r.previous_value()),
                                   TextCell(r.has_previous_value() && r.has_previous_point()
                                                ? CoverageAndReviewNote(r.previous_point(), ctx)
                                                : ""),
                                   OptionalNumber(r.has_change(), r.change()),
                                   OptionalNumber(r.has_female_minus_male(), r.female_minus_male()),
                                   OptionalNumber(r.has_urban_minus_rural(), r.urban_minus_rural()),
                                   PrintedNumber(r.completeness_percent(), 1)});
      }
      sheet.tables.push_back(std::move(monitoring));
    }
    sheets.push_back(std::move(sheet));
  }
  return sheets;
}

}  // namespace halfsky::views
