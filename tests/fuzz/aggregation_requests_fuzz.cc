// AggregationService's GetSeries check (services/aggregation/
// request_checks.h) on arbitrary GetSeriesRequests against the plan's year
// range: never crashes; a refusal is INVALID_ARGUMENT naming its fields; OK
// implies first <= from <= to <= last and sex / residence are values the
// proto defines (GetSeries with sex = 99 used to answer OK).
#include <cstdint>

#include "halfsky/v1/aggregation.pb.h"
#include "services/aggregation/request_checks.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  halfsky::v1::GetSeriesRequest r;
  if (!r.ParseFromArray(data, static_cast<int>(size))) {
    return 0;
  }
  const int first = halfsky::fuzz::Catalog().catalog().base_year();
  const int last = halfsky::fuzz::Catalog().catalog().final_year();
  halfsky::aggregation::YearRange range;
  const absl::Status s = halfsky::aggregation::CheckSeriesRequest(r, first, last, &range);
  halfsky::fuzz::ExpectRefusalShape(s);
  if (s.ok() &&
      (range.from < first || range.to > last || range.from > range.to ||
       !halfsky::v1::Sex_IsValid(r.sex()) || !halfsky::v1::Residence_IsValid(r.residence()))) {
    halfsky::fuzz::Fail("GetSeries accepted a bad request");
  }
  return 0;
}
