#include "services/evaluation/method/data_warnings.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/evaluation/method/explain.h"

namespace halfsky::evaluation {

DataQualityResult AssessDataQuality(const halfsky::v1::Indicator& indicator,
                                    const std::string& area_name_zh,
                                    const std::vector<halfsky::v1::SeriesPoint>& total,
                                    const MethodOptions& options) {
  DataQualityResult out;
  if (total.empty()) {
    return out;
  }
  const halfsky::v1::SeriesPoint& latest = total.back();
  if (!latest.children_mismatch() ||
      (options.as_of_year != 0 && latest.year() > options.as_of_year)) {
    return out;
  }
  out.warns = true;
  out.data_year = latest.year();
  out.figures.set_current_year(latest.year());
  if (latest.has_value()) {
    out.figures.set_current_value(latest.value());
  }
  if (latest.has_children_value()) {
    out.figures.set_base_value(latest.children_value());
  }
  const std::string value_zh =
      latest.has_value() ? FormatFigureZh(indicator, latest.value()) : std::string("-");
  const std::string value_en =
      latest.has_value() ? FormatFigureEn(indicator, latest.value()) : std::string("-");
  const std::string children_zh = latest.has_children_value()
                                      ? FormatFigureZh(indicator, latest.children_value())
                                      : std::string("-");
  const std::string children_en = latest.has_children_value()
                                      ? FormatFigureEn(indicator, latest.children_value())
                                      : std::string("-");
  out.explanation_zh =
      absl::StrCat(area_name_zh, indicator.name_zh(), latest.year(), "年直接报送值", value_zh,
                   "与下级区域汇总值", children_zh, "不一致，请核实数据。");
  out.explanation_en = absl::StrCat(
      indicator.name_en(), " ", latest.year(), ": the figure reported for the area (", value_en,
      ") disagrees with the sum of its child areas (", children_en, "); please check the data.");
  return out;
}

LateDataResult AssessLateData(const LateDataInput& input, const MethodOptions& options) {
  LateDataResult out;
  out.severity = LateDataSeverity(input.days_overdue, options);
  std::vector<std::string> items_zh;
  std::vector<std::string> items_en;
  std::vector<std::string> names_zh;
  for (const OverdueItem& item : input.items) {
    const halfsky::v1::Indicator& indicator = *item.indicator;
    names_zh.push_back(indicator.name_zh());
    std::string zh = absl::StrCat(indicator.name_zh(), "（", indicator.id());
    std::string en = absl::StrCat(indicator.name_en(), " (", indicator.id());
    if (indicator.kind() == halfsky::v1::INDICATOR_KIND_QUALITATIVE) {
      absl::StrAppend(&zh, "，本单位工作进展");
      absl::StrAppend(&en, ", the unit's own narrative");
    } else if (!item.partner_names_zh.empty()) {
      absl::StrAppend(&zh, "，牵头单位；配合单位：", absl::StrJoin(item.partner_names_zh, "、"));
      absl::StrAppend(&en, ", lead unit; with ", absl::StrJoin(item.partner_names_en, ", "));
    }
    items_zh.push_back(zh + "）");
    items_en.push_back(en + ")");
  }
  out.subject_zh = names_zh.size() <= 3 ? absl::StrJoin(names_zh, "、")
                                        : absl::StrCat(names_zh[0], "、", names_zh[1], "、",
                                                       names_zh[2], "等", names_zh.size(), "项");
  const absl::CivilDay due = input.earliest_due;
  const int days = input.days_overdue;
  const size_t n = input.items.size();
  out.explanation_zh = absl::StrCat(input.unit_name_zh, "逾期未报送", input.data_year, "年数据", n,
                                    "项：", absl::StrJoin(items_zh, "、"), "；",
                                    input.same_due ? "应于" : "最早应于", due.year(), "年",
                                    due.month(), "月", due.day(), "日前报送，已逾期", days, "天。");
  out.explanation_en =
      absl::StrCat(input.unit_name_en, " has not submitted ", n, " item", n == 1 ? "" : "s", " of ",
                   input.data_year, " data: ", absl::StrJoin(items_en, ", "), "; ",
                   input.same_due ? "due by " : "the first was due by ", absl::FormatCivilTime(due),
                   ", ", days, " day", days == 1 ? "" : "s", " overdue.");
  return out;
}

}  // namespace halfsky::evaluation
