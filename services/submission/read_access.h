#ifndef HALFSKY_SERVICES_SUBMISSION_READ_ACCESS_H_
#define HALFSKY_SERVICES_SUBMISSION_READ_ACCESS_H_

// Who may read what from the submission service (the write side is
// AuthorizeWrite in validate.h).
//
// - Bureau-wide roles read everything: statistics, assessment, admin, and
//   service (halfsky's own aggregation and evaluation, which may do nothing
//   else: AuthorizeWrite and the year locks refuse them).
// - A member unit (a principal whose only roles are unit:<code>) reads only
//   its own: values written on its behalf and its own narratives
//   (ListDataValues with its unit), the history of keys of indicators it is
//   responsible for (of narratives: its own), and its own rows of the
//   reporting status. It may not follow the change feed, which carries every
//   unit's values.
// - A reporting area (area:<code>, a lower instance's exchange) reads only
//   the current values of its own area(s) (ListDataValues), to reconcile
//   what it sent; nothing else from this service (aggregation's and
//   evaluation's reads check authentication only).
//
// Every function is pure and thread-safe. Refusals are PERMISSION_DENIED
// with a Chinese and English message naming the principal and what it may
// read instead.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::submission {

// True for a principal with a bureau-wide role (see above).
bool ReadsEverything(const halfsky::v1::Principal& principal);

// WatchChanges: a bureau-wide role (not a member unit).
absl::Status AuthorizeChangeFeed(const halfsky::v1::Principal& principal);

// ListDataValues' unit filter. For a unit principal an empty `unit_code`
// becomes its unit (PERMISSION_DENIED if it holds several: it must name
// one), and a named unit must be one it holds. Others: left as it is.
absl::Status ScopeListToOwnUnit(const halfsky::v1::Principal& principal, std::string* unit_code);

// ListDataValues for a reporting-area principal (area:<code>, holding no
// bureau-wide or unit role): empty `area_codes` become its areas, every
// named area must be one of its own, and `unit_code` must be empty
// (PERMISSION_DENIED otherwise). Sets *scoped when it applied (the unit
// scope is then skipped); other principals are left alone.
absl::Status ScopeListToReportingAreas(const halfsky::v1::Principal& principal,
                                       std::vector<std::string>* area_codes,
                                       const std::string& unit_code, bool* scoped);

// GetHistory of `key` (its unit_code already filled in for a narrative):
// a unit principal must be responsible for `indicator` (a narrative: hold
// key.unit_code). A null `indicator` (not in the catalog) is allowed: the
// history is then empty.
absl::Status AuthorizeHistory(const halfsky::v1::Principal& principal,
                              const halfsky::v1::Indicator* indicator,
                              const halfsky::v1::DataKey& key);

// GetReportingStatus' unit filter: for a unit principal an empty list
// becomes its units, and every named unit must be one it holds.
absl::Status ScopeReportingToOwnUnits(const halfsky::v1::Principal& principal,
                                      std::vector<std::string>* unit_codes);

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_READ_ACCESS_H_
