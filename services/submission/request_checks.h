#ifndef HALFSKY_SERVICES_SUBMISSION_REQUEST_CHECKS_H_
#define HALFSKY_SERVICES_SUBMISSION_REQUEST_CHECKS_H_

// The request checks of the submission and review services' read and
// review RPCs, as pure functions of the request (and the catalog, limits or
// store head they are checked against); thread-safe. The handlers call them
// before anything else reads the request, and tests/fuzz/ fuzzes them
// (submission_requests_fuzz): whatever the bytes, each answers OK or
// INVALID_ARGUMENT (OUT_OF_RANGE for a cursor beyond the head) with a
// google.rpc.BadRequest naming every bad field, and OK implies every enum
// is one the proto defines, every year is within the limits and every
// text is within its size and holds no control character but tab and
// newline.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/catalog/catalog.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/review.pb.h"
#include "halfsky/v1/submission.pb.h"
#include "services/submission/validate.h"

namespace halfsky::submission {

// INVALID_ARGUMENT naming `field` unless limits.min_year <= year <=
// limits.max_year.
absl::Status YearInRange(int year, const ValidationLimits& limits, absl::string_view field);

// GetHistory: key.indicator_id and key.area_code required, key.sex and
// key.residence values the proto defines, key.year within the limits.
absl::Status CheckHistoryRequest(const halfsky::v1::GetHistoryRequest& request,
                                 const ValidationLimits& limits);

// WatchChanges: INVALID_ARGUMENT for a negative after_sequence; OUT_OF_RANGE
// (with a BadRequest naming after_sequence) for one beyond `head`, the
// store's committed head: the cursor comes from another database and is
// never echoed as the head.
absl::Status CheckWatchCursor(int64_t after_sequence, int64_t head);

// The same for WatchChangesRequest.after_form_sequence against the review
// store's head form sequence (BadRequest naming after_form_sequence).
absl::Status CheckWatchFormCursor(int64_t after_form_sequence, int64_t form_head);

// GetReportingStatus: year within the limits; as_of, when set, a valid
// google.protobuf.Timestamp (0001-01-01..9999-12-31, nanos 0..999 999 999).
// (Unknown unit codes are refused by ComputeReportingStatus.)
absl::Status CheckReportingStatusRequest(const halfsky::v1::GetReportingStatusRequest& request,
                                         const ValidationLimits& limits);

// ListDataValues page tokens: base64url("v1:<cursor>:<fingerprint>"), the
// fingerprint that of the filter the page belongs to. Decode returns the
// cursor (0 for an empty token), INVALID_ARGUMENT naming page_token for
// anything else: not base64url, another version, a cursor that is not a
// non-negative decimal, or another filter's fingerprint.
std::string EncodePageToken(int64_t cursor, absl::string_view fingerprint);
absl::StatusOr<int64_t> DecodePageToken(absl::string_view token, absl::string_view fingerprint);

// ListDataValues: page_size >= 0 (0 = the default).
absl::Status CheckPageSize(int32_t page_size);

// A review form key: a member unit of the catalog, an area of the catalog
// or empty (the root area, filled in), a year within the catalog's
// base_year..final_year. Fields are prefixed with `field` ("key").
absl::StatusOr<halfsky::v1::FormKey> CheckFormKey(const halfsky::v1::FormKey& key,
                                                  const CatalogIndex& catalog,
                                                  absl::string_view field);

// ValidateData's scope: `unit_code` (as scoped to the caller) empty or a
// member unit, area_code empty or an area, year as for a form key.
absl::Status CheckValidateDataRequest(const halfsky::v1::ValidateDataRequest& request,
                                      absl::string_view unit_code, const CatalogIndex& catalog);

// ListForms: year 0 (every year) or as for a form key, `unit_code` (as
// scoped to the caller) empty or a member unit, state a value the proto
// defines (UNSPECIFIED = every state).
absl::Status CheckListFormsRequest(const halfsky::v1::ListFormsRequest& request,
                                   absl::string_view unit_code, const CatalogIndex& catalog);

// The text of a form action: a reason for RETURN and UNLOCK (required, not
// only blanks), an optional explanation for the others; at most 2 000
// bytes, no control character but tab and newline.
absl::Status CheckFormActionText(halfsky::v1::FormAction action, absl::string_view text);

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_REQUEST_CHECKS_H_
