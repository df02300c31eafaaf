#ifndef HALFSKY_SERVICES_AGGREGATION_REPORTS_H_
#define HALFSKY_SERVICES_AGGREGATION_REPORTS_H_

// Read-side views of an Aggregator: series with derived figures, the annual
// monitoring report, CSV / SDMX-CSV exports. Pure functions; the caller holds
// the Aggregator stable (AggregationState::Read).
//
// Derived figures (SeriesPoint / AnnualReportRow), each present only when
// both sides have a value:
//   change_from_previous = value(year) − value(year − 1)
//   female_minus_male = value(female) − value(male), female_to_male_ratio =
//     value(female) / value(male) (absent when male is 0); same area,
//     residence and year as the point.
//   urban_minus_rural, urban_to_rural_ratio likewise (same sex).
// completeness_percent of a point: 100 for a direct figure, else
// contributing / (contributing + missing) child areas × 100.
//
// Coverage: every point carries it (common/cache/series_point.h, FillSeriesPoint); an
// annual report row carries the points of its value and previous value
// (value_point, previous_point), and `change` only when neither is
// incomplete. value / previous_value stay set for a partial figure: readers
// must print it with its coverage (value_point.incomplete), never as the
// area's figure.
//
// Annual report completeness: the share of expected figures that exist for
// the year, where expected = {the area} ∪ {its children, when the indicator
// requires DISAGGREGATION_AREA} × {total/all} ∪ {female, male when SEX is
// required} ∪ {urban, rural when RESIDENCE is required}. QUALITATIVE
// indicators count reported narratives.
//
// Errors: NOT_FOUND for an unknown indicator or area; INVALID_ARGUMENT with
// google.rpc.BadRequest field violations for years outside the catalog's
// [base_year, final_year] or from_year > to_year, and for an unknown export
// format.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "halfsky/v1/aggregation.pb.h"
#include "services/aggregation/aggregator.h"

namespace halfsky::aggregation {

absl::StatusOr<halfsky::v1::GetSeriesResponse> BuildSeries(
    const Aggregator& agg, const halfsky::v1::GetSeriesRequest& request);

absl::StatusOr<halfsky::v1::AnnualReport> BuildAnnualReport(
    const Aggregator& agg, const halfsky::v1::GetAnnualReportRequest& request, absl::Time now);

// A validated export: which indicators (catalog indexes, in catalog order),
// areas (empty = all) and years.
struct ExportPlan {
  halfsky::v1::ExportFormat format = halfsky::v1::EXPORT_FORMAT_CSV;
  std::vector<int> indicators;
  std::vector<int> areas;
  int from_year = 0;
  int to_year = 0;
};
// UNSPECIFIED format means CSV.
absl::StatusOr<ExportPlan> PlanExport(const Aggregator& agg,
                                      const halfsky::v1::ExportRequest& request);

// The header line (with "\n").
//   CSV: indicator_id,indicator_name_zh,area_code,area_name_zh,year,sex,
//        residence,value,numerator,denominator,unit,direct,contributing_areas,
//        missing_areas,children_value,children_mismatch,as_of_sequence
//        (missing_areas separated by ';'; RFC 4180 quoting)
//   SDMX-CSV (SDMX-CSV 1.0, one observation per row):
//        DATAFLOW,FREQ,INDICATOR,REF_AREA,SEX,URBANISATION,TIME_PERIOD,
//        OBS_VALUE,UNIT_MEASURE,OBS_STATUS
//        DATAFLOW = kSdmxDataflow, FREQ = A, SEX = _T|F|M,
//        URBANISATION = _T|U|R, OBS_STATUS = A (normal) or M (no value).
inline constexpr char kSdmxDataflow[] = "HALFSKY:JINTAI_WOMEN_DEV(1.0)";
std::string ExportHeader(halfsky::v1::ExportFormat format);
// The rows of plan.indicators[index] (may be empty).
std::string ExportIndicatorRows(const Aggregator& agg, const ExportPlan& plan, size_t index);

}  // namespace halfsky::aggregation

#endif  // HALFSKY_SERVICES_AGGREGATION_REPORTS_H_
