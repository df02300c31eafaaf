#ifndef HALFSKY_COMMON_VIEWS_SERIES_VIEW_H_
#define HALFSKY_COMMON_VIEWS_SERIES_VIEW_H_

// `halfskyctl series` output: yearly values, a Unicode sparkline and the
// targets. Pure functions, thread-safe.

#include <optional>
#include <string>
#include <vector>

#include "halfsky/v1/aggregation.pb.h"

namespace halfsky::views {

// One character per entry: "▁▂▃▄▅▆▇█" scaled linearly between the smallest
// and the largest present value (all equal → "▄"); a missing value is " ".
// Empty input → "".
std::string Sparkline(const std::vector<std::optional<double>>& values);

// The points of `series` from its first to its last year, one entry per
// year (a year without a point or without a value is std::nullopt).
std::vector<std::optional<double>> YearlyValues(
    const google::protobuf::RepeatedPtrField<halfsky::v1::SeriesPoint>& points, int* first_year);

struct SeriesLabels {
  std::string indicator_name_zh;  // "" → the id alone
  std::string unit;               // e.g. "/10万"
  std::string area_name_zh;       // "" → the area code alone
};

// Heading, the table (年份 | 数值 | 较上年 | 分子 | 分母 | 完整度), the
// sparkline with its years, and one line per target. A value says what it
// is: （仅n/m，数据不完整）, （公布数）, （含未审核数据）. Aligned by display
// width; `colour` only adds bold to the heading.
std::string RenderSeries(const halfsky::v1::GetSeriesResponse& series, const SeriesLabels& labels,
                         bool colour);

}  // namespace halfsky::views

#endif  // HALFSKY_COMMON_VIEWS_SERIES_VIEW_H_
