#ifndef HALFSKY_SERVICES_SUBMISSION_VALIDATE_H_
#define HALFSKY_SERVICES_SUBMISSION_VALIDATE_H_

// Validation and authorization of submitted data values. Pure functions of
// their arguments (catalog, principal, "now"); thread-safe.
//
// Every violation is reported, never only the first: a batch with three bad
// rows gets one INVALID_ARGUMENT carrying a google.rpc.BadRequest with every
// bad field of every row ("data_values[3].key.year", description in Chinese
// then English).
//
// Limits (bytes of UTF-8 unless stated):
//   request_id 1..128; indicator_id / area_code ≤ 64; source 1..500;
//   note ≤ 2 000; narrative text 1..8 000; evidence_refs ≤ 50 items of
//   ≤ 1 000 each; values per batch ≤ max_batch_values (default 10 000).
//
// Control characters (C0 U+0000..U+001F, DEL, C1 U+0080..U+009F): none in
// request_id, source and evidence_refs; only tab and newline in note and
// narrative text. The violation names the field and the first offending
// character ("U+000D at byte 12"). (Codes are checked against the catalog.)

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/status/status.h"
#include "common/text/utf8.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::submission {

struct ValidationLimits {
  int max_batch_values = 10000;
  size_t max_request_id_bytes = 128;
  size_t max_code_bytes = 64;
  size_t max_source_bytes = 500;
  size_t max_note_bytes = 2000;
  size_t max_narrative_bytes = 8000;
  int max_evidence_refs = 50;
  size_t max_evidence_ref_bytes = 1000;
  // Data years accepted (also never after the current year by the clock).
  int min_year = 2020;
  int max_year = 2030;
};

// One free-text field outside a data value (e.g. a lock's reason): valid
// UTF-8, at most `max_bytes`, required if `required`, no control
// characters but tab and newline. Empty when fine, else one violation
// naming `field`.
std::vector<FieldViolation> ValidateFreeText(const std::string& field, absl::string_view value,
                                             size_t max_bytes, bool required,
                                             absl::string_view name_zh, absl::string_view name_en);

// SEX_UNSPECIFIED → SEX_TOTAL, RESIDENCE_UNSPECIFIED → RESIDENCE_ALL.
void NormalizeKey(halfsky::v1::DataKey* key);

// A printable, unique rendering of a (normalized) key, e.g.
// "HEALTH-01/610303/2024/SEX_TOTAL/RESIDENCE_ALL" (a narrative's unit
// appended: ".../RESIDENCE_ALL/HEALTH_BUREAU").
std::string KeyString(const halfsky::v1::DataKey& key);

// The figure in the indicator's display unit: value for COUNT/VALUE,
// numerator/denominator × multiplier (100 for PROPORTION) for fractions,
// the published value as it stands for a PublishedRate.
// NaN when not applicable (qualitative, missing payload, denominator 0).
double DisplayValue(const halfsky::v1::Indicator& indicator, const halfsky::v1::DataValue& value);

// Payloads: RATE / PROPORTION take `fraction` (numerator ≥ 0, denominator
// > 0) or `published` (a published figure without counts: finite, ≥ 0,
// ≤ 100 for PROPORTION, within value_range; field "...published"); COUNT
// and VALUE take `value`; QUALITATIVE takes `narrative`.
//
// Violations of one value; fields are prefixed with `prefix`
// (e.g. "data_values[3]"). `now` decides which years are in the future.
// `value` is as normalized for the store: a QUALITATIVE value's
// key.unit_code is required and must be one of the indicator's responsible
// units (see AssignNarrativeUnits); any other kind's must be empty.
std::vector<FieldViolation> ValidateValue(const halfsky::v1::DataValue& value,
                                          const CatalogIndex& catalog, absl::Time now,
                                          const ValidationLimits& limits,
                                          const std::string& prefix);

// The whole batch: the request id, the batch size (1..max_batch_values),
// every value, and the same key (unit_code included) twice. OK, or
// INVALID_ARGUMENT with every violation as a google.rpc.BadRequest.
absl::Status ValidateBatch(absl::string_view request_id,
                           const google::protobuf::RepeatedPtrField<halfsky::v1::DataValue>& values,
                           const CatalogIndex& catalog, absl::Time now,
                           const ValidationLimits& limits);

// Authorization of writes. statistics and admin may write any indicator; a
// unit:<code> role may write indicators listing <code> among
// responsible_unit_codes. Unknown indicators are left to validation.
// On success fills `unit_codes` with, per value, the unit on whose behalf it
// is written (the principal's responsible unit role; "" for statistics/admin
// writes when the principal holds no such unit role).
//
// Narratives (QUALITATIVE) are kept per unit (DataKey.unit_code): a unit
// principal writes its own only. A key.unit_code naming a unit whose role the
// principal holds credits that unit; naming another unit is PERMISSION_DENIED
// for a unit principal (listed as "indicator (unit)"), and allowed for
// statistics/admin, credited to no unit (validation then requires the unit
// to be responsible). An empty key.unit_code credits the caller's
// responsible unit as for figures (AssignNarrativeUnits then fills it in).
// PERMISSION_DENIED (ErrorInfo reason NOT_RESPONSIBLE_UNIT) naming every
// indicator the principal may not write and every other unit's narrative.
//
// A reporting-area principal (area:<code>, a lower instance's exchange)
// writes any indicator's figures whose key.area_code is one of its areas,
// credited to no unit; a narrative or another area is PERMISSION_DENIED
// (reason NOT_REPORTING_AREA, naming each "indicator@area"), unless it also
// holds unit roles, which are then applied as above.
absl::Status AuthorizeWrite(
    const halfsky::v1::Principal& principal,
    const google::protobuf::RepeatedPtrField<halfsky::v1::DataValue>& values,
    const CatalogIndex& catalog, std::vector<std::string>* unit_codes);

// Sets the empty key.unit_code of each QUALITATIVE value to unit_codes[i]
// (AuthorizeWrite's result: the caller's unit); a statistics/admin write
// without one stays empty and fails validation. Figures are left alone.
void AssignNarrativeUnits(google::protobuf::RepeatedPtrField<halfsky::v1::DataValue>* values,
                          const CatalogIndex& catalog, const std::vector<std::string>& unit_codes);

// The principal's first unit role that is among the indicator's responsible
// units ("" when none).
std::string ResponsibleUnitOf(const halfsky::v1::Principal& principal,
                              const halfsky::v1::Indicator& indicator);

// Violations of the reasons for change of a batch (DataValue.change_reason:
// optional, UTF-8, at most max_note_bytes), fields
// "data_values[i].change_reason".
std::vector<FieldViolation> ValidateChangeReasons(
    const google::protobuf::RepeatedPtrField<halfsky::v1::DataValue>& values,
    const ValidationLimits& limits);

// A withdrawal (WithdrawValues): the request id as for writes, 1 to
// max_batch_values keys, each a valid key as ValidateValue checks it
// (indicator, area, year — not in the future —, sex, residence, unit_code;
// as normalized for the store), no key twice, and a reason (required,
// UTF-8, at most max_note_bytes). OK, or INVALID_ARGUMENT with every
// violation ("keys[i].year", "reason", …).
absl::Status ValidateWithdrawal(
    absl::string_view request_id,
    const google::protobuf::RepeatedPtrField<halfsky::v1::DataKey>& keys, absl::string_view reason,
    const CatalogIndex& catalog, absl::Time now, const ValidationLimits& limits);

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_VALIDATE_H_
