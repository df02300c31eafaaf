#ifndef HALFSKY_SERVICES_EVALUATION_METHOD_COVERAGE_H_
#define HALFSKY_SERVICES_EVALUATION_METHOD_COVERAGE_H_

// Coverage of the evaluated figures (internal to the library, exposed for
// its tests): partial figures (YearPoint.incomplete: combined from fewer
// child areas than the catalog's coverage threshold) are never the area's
// figure, and published figures (YearPoint.published) are assessed as they
// stand. Pure functions; thread-safe.

#include <string>
#include <vector>

#include "halfsky/v1/catalog.pb.h"
#include "services/evaluation/method/method.h"

namespace halfsky::evaluation {

// `series` without its incomplete points (every series, same keys).
SeriesSet CompletePointsOnly(const SeriesSet& series);

// `series` with every point containing unapproved data marked incomplete
// and unapproved_left_out (MethodOptions.approved_only).
SeriesSet UnapprovedAsLeftOut(const SeriesSet& series);

// 含未审核数据: the years of the points of `series` (complete points as
// assessed, up to options.as_of_year) that contain unapproved data go into
// assessment->unapproved_years and the sentences get
// 「（含未审核数据：2024年。）」. Nothing with options.approved_only (those
// points were left out). `total` may be null.
void NoteUnapproved(const MethodOptions& options, const std::vector<const Series*>& series,
                    Assessment* assessment);
void NoteUnapproved(const MethodOptions& options, const Series* total, FluctuationResult* result);

// The series (as put, incomplete points included) a target reads: its own
// disaggregation, or both groups of a NARROW_GAP target. Absent ones are
// skipped.
std::vector<const Series*> TargetSeries(const SeriesSet& series, const halfsky::v1::Target& target);

// 「2023年仅1/11个镇街报送」: one incomplete point's coverage.
std::string CoverageTextZh(const YearPoint& point, const MethodOptions& options);
std::string CoverageTextEn(const YearPoint& point);

// After an assessment on complete points: the incomplete points of
// `series` up to options.as_of_year turn a NOT_ASSESSABLE result (no data,
// one year, too few pooled years, a group missing) into DATA_INCOMPLETE
// (reason kDataIncomplete, no warning, figures cleared but the target's)
// with a sentence naming each year's coverage; any other result keeps its
// status and the sentence says which years were left out and why. Published
// points in `series` add 「（2024年为公布数，按公布值评估）」.
void NoteCoverage(const halfsky::v1::Indicator& indicator, const MethodOptions& options,
                  const std::vector<const Series*>& series, Assessment* assessment);
// The same for the fluctuation test (its status never changes; the
// sentence names the years left out). `total` may be null.
void NoteCoverage(const halfsky::v1::Indicator& indicator, const MethodOptions& options,
                  const Series* total, FluctuationResult* result);

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_METHOD_COVERAGE_H_
