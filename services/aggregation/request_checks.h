#ifndef HALFSKY_SERVICES_AGGREGATION_REQUEST_CHECKS_H_
#define HALFSKY_SERVICES_AGGREGATION_REQUEST_CHECKS_H_

// The request checks of AggregationService that need no aggregate, as pure
// functions; thread-safe. tests/fuzz/aggregation_requests_fuzz fuzzes them:
// whatever the bytes, OK or INVALID_ARGUMENT with a google.rpc.BadRequest
// naming every bad field; OK implies the years lie within first..last with
// from <= to and sex / residence are values the proto defines.

#include "absl/status/status.h"
#include "halfsky/v1/aggregation.pb.h"

namespace halfsky::aggregation {

// The year range a series or export asks for: 0 means `first` (from) or
// `last` (to).
struct YearRange {
  int from = 0;
  int to = 0;
};

// GetSeries: from_year / to_year (0 = the aggregate's first / last year)
// within first..last and from <= to; sex and residence values the proto
// defines. On OK, `range` (if not null) holds the years resolved.
// (Indicator and area codes are resolved against the aggregate.)
absl::Status CheckSeriesRequest(const halfsky::v1::GetSeriesRequest& request, int first, int last,
                                YearRange* range);

}  // namespace halfsky::aggregation

#endif  // HALFSKY_SERVICES_AGGREGATION_REQUEST_CHECKS_H_
