#ifndef HALFSKY_SERVICES_SUBMISSION_REPORTING_H_
#define HALFSKY_SERVICES_SUBMISSION_REPORTING_H_

// Reporting status (DHIS2's reporting rate and reporting rate on time):
// per unit × indicator × year, from the first/last submission times the
// store keeps. Pure; thread-safe.
//
// For each requested unit, every indicator the unit is responsible for
// (numeric and qualitative alike) is one entry. A figure submitted by any
// of the indicator's responsible units reports it for all of them (the
// earliest such submission decides ON_TIME / LATE); a narrative
// (QUALITATIVE) is reported only by the unit's own submission:
//   ON_TIME  first submission at or before CatalogIndex::DueAt;
//   LATE     first submission after the due date;
//   MISSING  nothing submitted and as_of is after the due date;
//   NOT_DUE  nothing submitted and not yet due.
// expected = entries that are due by as_of or already reported (NOT_DUE
// entries are not expected yet); completeness = reported / expected × 100,
// timeliness = on time / expected × 100; both 0 when nothing is expected.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "halfsky/v1/submission.pb.h"
#include "services/submission/store.h"

namespace halfsky::submission {

// INVALID_ARGUMENT for an unknown unit code in `unit_codes` (empty = all
// member units, in catalog order).
absl::StatusOr<halfsky::v1::GetReportingStatusResponse> ComputeReportingStatus(
    const CatalogIndex& catalog, int year, const std::vector<std::string>& unit_codes,
    absl::Time as_of, const std::vector<ReportingTimes>& times);

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_REPORTING_H_
