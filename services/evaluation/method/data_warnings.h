#ifndef HALFSKY_SERVICES_EVALUATION_METHOD_DATA_WARNINGS_H_
#define HALFSKY_SERVICES_EVALUATION_METHOD_DATA_WARNINGS_H_

// The two warnings about the data rather than a target: 数据质量
// (DATA_QUALITY, a directly reported figure that disagrees with the sum of
// the child areas) and 数据迟报 (LATE_DATA, a member unit's overdue figures).
// The method decides whether they warn, their severity and their sentences;
// the evaluation service gathers the inputs (series, reporting status, the
// catalog's names, the clock) and reconciles the results. Pure functions: no
// I/O, no clock; thread-safe.

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/evaluation.pb.h"
#include "services/evaluation/method/method.h"

namespace halfsky::evaluation {

// What the method says about the data quality of one (indicator, area).
struct DataQualityResult {
  // True when the latest figure (not after options.as_of_year) was reported
  // directly and disagrees with the sum of the child areas (aggregation's
  // SeriesPoint.children_mismatch). Severity is then SEVERITY_YELLOW.
  bool warns = false;
  // The latest point's year; figures: current_year, current_value (the
  // reported figure, when present) and base_value (the children's sum, when
  // present).
  int data_year = 0;
  halfsky::v1::Figures figures;
  // 「<area_name_zh><indicator>2024年直接报送值X与下级区域汇总值Y不一致，请核实数据。」
  // ("-" for an absent figure) and its English sentence.
  std::string explanation_zh;
  std::string explanation_en;

  halfsky::v1::Severity severity() const {
    return warns ? SeverityFor(halfsky::v1::WARNING_KIND_DATA_QUALITY,
                               halfsky::v1::PROGRESS_STATUS_UNSPECIFIED)
                 : halfsky::v1::SEVERITY_UNSPECIFIED;
  }
};

// The data-quality test on `total`, the (SEX_TOTAL, RESIDENCE_ALL) series of
// `indicator` in the area called `area_name_zh`, ascending by year (as
// aggregation returns it): only the latest point is judged. An empty series
// or a latest point after options.as_of_year (when set) does not warn.
DataQualityResult AssessDataQuality(const halfsky::v1::Indicator& indicator,
                                    const std::string& area_name_zh,
                                    const std::vector<halfsky::v1::SeriesPoint>& total,
                                    const MethodOptions& options);

// One overdue indicator of a member unit.
struct OverdueItem {
  const halfsky::v1::Indicator* indicator = nullptr;  // not owned; non-null
  // Names of the indicator's other responsible units (配合单位), in catalog
  // order; empty for a QUALITATIVE indicator (the unit's own narrative).
  std::vector<std::string> partner_names_zh;
  std::vector<std::string> partner_names_en;
};

// Everything the service gathered about one member unit's overdue data of
// one year.
struct LateDataInput {
  std::string unit_name_zh;
  std::string unit_name_en;
  int data_year = 0;
  // In catalog order; at least one.
  std::vector<OverdueItem> items;
  // The earliest due date of the items (the district's calendar day) and
  // whether every item falls due that day.
  absl::CivilDay earliest_due;
  bool same_due = true;
  // Whole days since the earliest due date.
  int days_overdue = 0;
};

// The late-data warning of one unit and year.
struct LateDataResult {
  // LateDataSeverity(days_overdue, options).
  halfsky::v1::Severity severity = halfsky::v1::SEVERITY_UNSPECIFIED;
  // The indicators' names: up to three joined by 、, else the first three
  // and 「等N项」.
  std::string subject_zh;
  // 「<unit>逾期未报送2024年数据2项：A（ID，牵头单位；配合单位：…）、B（ID）；
  // 应于2025年1月31日前报送，已逾期200天。」 (「最早应于」 when the items fall
  // due on different days) and its English sentence.
  std::string explanation_zh;
  std::string explanation_en;
};

LateDataResult AssessLateData(const LateDataInput& input, const MethodOptions& options);

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_METHOD_DATA_WARNINGS_H_
