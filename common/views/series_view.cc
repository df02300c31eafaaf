#include "common/views/series_view.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/views/labels.h"
#include "common/views/table.h"

namespace halfsky::views {

namespace v1 = ::halfsky::v1;

std::string Sparkline(const std::vector<std::optional<double>>& values) {
  static const char* const kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  double lo = 0;
  double hi = 0;
  bool any = false;
  for (const auto& v : values) {
    if (v && std::isfinite(*v)) {
      lo = any ? std::min(lo, *v) : *v;
      hi = any ? std::max(hi, *v) : *v;
      any = true;
    }
  }
  std::string out;
  for (const auto& v : values) {
    if (!v || !std::isfinite(*v)) {
      out += " ";
    } else if (hi - lo <= 0) {
      out += kBars[3];
    } else {
      const int level = static_cast<int>(std::lround((*v - lo) / (hi - lo) * 7.0));
      out += kBars[std::clamp(level, 0, 7)];
    }
  }
  return out;
}

std::vector<std::optional<double>> YearlyValues(
    const google::protobuf::RepeatedPtrField<v1::SeriesPoint>& points, int* first_year) {
  std::map<int, std::optional<double>> by_year;
  for (const auto& p : points) {
    by_year[p.year()] = p.has_value() ? std::optional<double>(p.value()) : std::nullopt;
  }
  std::vector<std::optional<double>> out;
  if (by_year.empty()) {
    *first_year = 0;
    return out;
  }
  *first_year = by_year.begin()->first;
  for (int y = by_year.begin()->first; y <= by_year.rbegin()->first; ++y) {
    auto it = by_year.find(y);
    out.push_back(it == by_year.end() ? std::nullopt : it->second);
  }
  return out;
}

std::string RenderSeries(const v1::GetSeriesResponse& series, const SeriesLabels& labels,
                         bool colour) {
  std::string heading = series.indicator_id();
  if (!labels.indicator_name_zh.empty()) {
    absl::StrAppend(&heading, " ", labels.indicator_name_zh);
  }
  if (!labels.unit.empty()) {
    absl::StrAppend(&heading, "（", labels.unit, "）");
  }
  absl::StrAppend(&heading, " — ",
                  labels.area_name_zh.empty()
                      ? series.area_code()
                      : absl::StrCat(labels.area_name_zh, " ", series.area_code()),
                  " · ", SexLabelZh(series.sex()), " · ", ResidenceLabelZh(series.residence()));
  std::string out = Paint(heading, "1", colour) + "\n\n";

  if (series.points().empty()) {
    out += "暂无数据 / no data\n";
  } else {
    std::vector<Column> columns = {{"年份 year"},           {"数值 value", true},
                                   {"较上年 change", true}, {"分子 num.", true},
                                   {"分母 den.", true},     {"完整度 compl.", true}};
    std::vector<std::vector<Cell>> rows;
    for (const auto& p : series.points()) {
      std::vector<Cell> row;
      row.push_back({absl::StrCat(p.year()), ""});
      // A part of the area is printed with what it covers (数据不完整).
      std::string value = p.has_value() ? FormatValue(p.value()) : "-";
      if (p.has_value() && p.incomplete()) {
        absl::StrAppend(&value, "（仅", p.contributing_area_count(), "/", p.expected_area_count(),
                        "，数据不完整）");
      } else if (p.has_value() && p.published()) {
        absl::StrAppend(&value, "（公布数）");
      }
      // Not every reported figure behind it is approved yet (审核).
      if (p.has_value() && p.contains_unapproved_data()) {
        absl::StrAppend(&value, "（含未审核数据）");
      }
      row.push_back({value, ""});
      row.push_back({p.has_change_from_previous()
                         ? absl::StrCat(p.change_from_previous() > 0 ? "+" : "",
                                        FormatValue(p.change_from_previous()))
                         : "",
                     ""});
      row.push_back({p.denominator() > 0 ? FormatValue(p.numerator()) : "", ""});
      row.push_back({p.denominator() > 0 ? FormatValue(p.denominator()) : "", ""});
      row.push_back({absl::StrCat(FormatValue(p.completeness_percent(), 1), "%"), ""});
      rows.push_back(std::move(row));
    }
    out += RenderTable(columns, rows, colour);
    int first = 0;
    const auto values = YearlyValues(series.points(), &first);
    out += absl::StrCat("\n趋势 trend  ", first, " ", Sparkline(values), " ",
                        first + static_cast<int>(values.size()) - 1, "\n");
  }
  if (series.targets().empty()) {
    out += "目标 target  无量化目标 / no target\n";
  }
  for (const auto& t : series.targets()) {
    out += absl::StrCat("目标 target  ", TargetShortZh(t, labels.unit));
    if (!t.text_zh().empty()) {
      absl::StrAppend(&out, "  「", t.text_zh(), "」");
    }
    out += "\n";
  }
  return out;
}

}  // namespace halfsky::views
