#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_REQUEST_CHECKS_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_REQUEST_CHECKS_H_

// The request checks of EvaluationService and FollowUpService, as pure
// functions of the request (and the catalog and "now" they are checked
// against); thread-safe. The handlers (and FollowUpTracker) call them
// before they read or change anything, and tests/fuzz/
// evaluation_requests_fuzz fuzzes them: whatever the bytes, each answers OK
// or INVALID_ARGUMENT with a google.rpc.BadRequest naming every bad field;
// OK implies every enum is one the proto defines, every code is one of the
// catalog and every text is within its size and holds no control character
// but tab and newline.

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/status/status.h"
#include "halfsky/v1/evaluation.pb.h"

namespace halfsky::evaluation {

// Free text of a warning acknowledgement or a follow-up step.
inline constexpr size_t kMaxNoteBytes = 4000;
// A follow-up plan's due date: at most this far ahead; a silence's end too.
inline constexpr absl::Duration kMaxPlanAhead = absl::Hours(24 * 3 * 366);
inline constexpr absl::Duration kMaxSilenceAhead = absl::Hours(24 * 366);

// Appends to `violations` when `text` (field `field`, called `label_zh`)
// is empty, over kMaxNoteBytes, or holds a control character (C0, DEL, C1)
// other than tab and newline.
void CheckText(absl::string_view text, const char* field, const char* label_zh,
               std::vector<FieldViolation>* violations);

// At most this many ListWarningsRequest.area_codes.
inline constexpr int kMaxFilterAreas = 10000;

// ListWarnings / WatchWarnings filter: domain, indicator, area, each of
// area_codes (at most kMaxFilterAreas) and unit empty or known to the
// catalog, include_subareas only with area_code, kind / min_severity /
// state values the proto defines, page_size >= 0.
absl::Status CheckWarningsFilter(const halfsky::v1::ListWarningsRequest& filter,
                                 const CatalogIndex& catalog);

// Prepares a checked filter for MatchesFilter (which knows no catalog);
// call it on every filter before matching. With include_subareas: appends
// every area below area_code (its whole subtree, every level) to
// area_codes and clears include_subareas. In every case: sorts area_codes
// and removes duplicates (MatchesFilter binary-searches them).
void ExpandSubareas(const CatalogIndex& catalog, halfsky::v1::ListWarningsRequest* filter);

// AcknowledgeWarning: warning_id and note (对策建议) required, the note as
// CheckText.
absl::Status CheckAcknowledgement(const halfsky::v1::AcknowledgeWarningRequest& request);

// ListFollowUps: owner_unit_code empty or a member unit,
// state a value the proto defines.
absl::Status CheckFollowUpFilter(const halfsky::v1::ListFollowUpsRequest& request,
                                 const CatalogIndex& catalog);

// Assign: warning_id, unit_code (a member unit) and reason required.
absl::Status CheckAssign(const halfsky::v1::AssignFollowUpRequest& request,
                         const CatalogIndex& catalog);
// Plan: warning_id, measures required; due after `now`, at most
// kMaxPlanAhead ahead.
absl::Status CheckPlan(const halfsky::v1::PlanFollowUpRequest& request, absl::Time now);
// Note: warning_id and note required.
absl::Status CheckNote(const halfsky::v1::AddFollowUpNoteRequest& request);
// Close: warning_id required; closing one of RESOLVED_BY_DATA,
// CLOSED_WITH_REASON, FALSE_ALARM; a reason unless RESOLVED_BY_DATA (when
// given it is checked as any text).
absl::Status CheckClose(const halfsky::v1::CloseFollowUpRequest& request);
// Silence: warning_id and reason required; until after `now`, at most
// kMaxSilenceAhead ahead.
absl::Status CheckSilence(const halfsky::v1::SilenceFollowUpRequest& request, absl::Time now);

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_REQUEST_CHECKS_H_
