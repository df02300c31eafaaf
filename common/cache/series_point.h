#ifndef HALFSKY_COMMON_CACHE_SERIES_POINT_H_
#define HALFSKY_COMMON_CACHE_SERIES_POINT_H_

// Aggregate -> SeriesPoint: the ONE conversion behind both ways a reader
// gets a series. AggregationService.GetSeries (services/aggregation,
// reports.cc) fills its points with it, and readers of the Redis cache
// (services/evaluation, series_source.cc) convert the Aggregates they decode
// (cache_layout.h, ParseStoredSeries) with it, so the cache path and the
// gRPC fallback cannot drift apart.
//
// Thread-safety: pure functions.

#include "halfsky/v1/aggregation.pb.h"

namespace halfsky::cache {

// The figure and coverage fields of a SeriesPoint from its Aggregate:
// year, value, numerator, denominator, direct, children_mismatch,
// children_value, completeness_percent (100 for a direct figure, else
// contributing / expected × 100, expected = expected_area_count or, for
// values cached before it existed, contributing + missing + published),
// contributing_area_count, expected_area_count, incomplete (also set for a
// value cached before coverage existed — no expected_area_count — that is
// combined and misses children: the default threshold), published,
// published_area_count. Derived fields (change_from_previous, the
// female/male and urban/rural gaps) are left alone: they need the
// neighbouring series, which the caller has. Never fails.
void FillSeriesPoint(const halfsky::v1::Aggregate& aggregate, halfsky::v1::SeriesPoint* point);

// The same into a fresh SeriesPoint.
halfsky::v1::SeriesPoint SeriesPointFromAggregate(const halfsky::v1::Aggregate& aggregate);

}  // namespace halfsky::cache

#endif  // HALFSKY_COMMON_CACHE_SERIES_POINT_H_
