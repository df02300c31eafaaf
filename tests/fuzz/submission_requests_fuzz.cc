// The submission and review services' read and review request checks
// (services/submission/request_checks.h, ValidateWithdrawal, the lock
// reason) on arbitrary requests: the first byte chooses the request type,
// the rest is parsed as its wire format. Never crashes; a refusal is
// INVALID_ARGUMENT (OUT_OF_RANGE for a cursor beyond the head) naming its
// fields; OK implies every enum is one the proto defines, every year is
// within its range, every code is the catalog's and every accepted text
// holds no control character but tab and newline.
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "common/proto/timestamp.h"
#include "halfsky/v1/review.pb.h"
#include "halfsky/v1/submission.pb.h"
#include "services/submission/reporting.h"
#include "services/submission/request_checks.h"
#include "services/submission/validate.h"
#include "tests/fuzz/fuzz_checks.h"

namespace {

namespace v1 = ::halfsky::v1;
namespace sub = ::halfsky::submission;
using halfsky::fuzz::Catalog;
using halfsky::fuzz::ExpectRefusalShape;
using halfsky::fuzz::Fail;
using halfsky::fuzz::HasControl;

bool InCatalogYears(int year) {
  return year >= Catalog().catalog().base_year() && year <= Catalog().catalog().final_year();
}

void History(const std::string& bytes, const sub::ValidationLimits& limits) {
  v1::GetHistoryRequest r;
  if (!r.ParseFromString(bytes)) return;
  const absl::Status s = sub::CheckHistoryRequest(r, limits);
  ExpectRefusalShape(s);
  if (s.ok() && (!v1::Sex_IsValid(r.key().sex()) || !v1::Residence_IsValid(r.key().residence()) ||
                 r.key().year() < limits.min_year || r.key().year() > limits.max_year ||
                 r.key().indicator_id().empty() || r.key().area_code().empty())) {
    Fail("GetHistory accepted a bad key");
  }
}

void Watch(const std::string& bytes, int64_t head) {
  v1::WatchChangesRequest r;
  if (!r.ParseFromString(bytes)) return;
  const absl::Status s = sub::CheckWatchCursor(r.after_sequence(), head);
  ExpectRefusalShape(s, absl::StatusCode::kOutOfRange);
  if (s.ok() != (r.after_sequence() >= 0 && r.after_sequence() <= head)) {
    Fail("WatchChanges cursor check disagrees with 0 <= after_sequence <= head");
  }
}

void Reporting(const std::string& bytes, const sub::ValidationLimits& limits) {
  v1::GetReportingStatusRequest r;
  if (!r.ParseFromString(bytes)) return;
  const absl::Status s = sub::CheckReportingStatusRequest(r, limits);
  ExpectRefusalShape(s);
  if (!s.ok()) return;
  if (r.year() < limits.min_year || r.year() > limits.max_year) {
    Fail("GetReportingStatus accepted a year out of range");
  }
  const absl::Time as_of =
      r.has_as_of() ? halfsky::FromTimestamp(r.as_of()) : absl::FromUnixSeconds(1780000000);
  std::vector<std::string> units(r.unit_codes().begin(), r.unit_codes().end());
  absl::StatusOr<v1::GetReportingStatusResponse> out =
      sub::ComputeReportingStatus(Catalog(), r.year(), units, as_of, {});
  ExpectRefusalShape(out.status());
  if (out.ok()) {
    for (const std::string& u : units) {
      if (Catalog().FindMemberUnit(u) == nullptr)
        Fail("GetReportingStatus accepted an unknown unit");
    }
  }
}

void List(const std::string& bytes) {
  v1::ListDataValuesRequest r;
  if (!r.ParseFromString(bytes)) return;
  ExpectRefusalShape(sub::CheckPageSize(r.page_size()));
  const std::string fingerprint = "0123456789abcdef";
  absl::StatusOr<int64_t> cursor = sub::DecodePageToken(r.page_token(), fingerprint);
  ExpectRefusalShape(cursor.status());
  if (cursor.ok()) {
    if (*cursor < 0) Fail("a page token decoded to a negative cursor");
    absl::StatusOr<int64_t> again =
        sub::DecodePageToken(sub::EncodePageToken(*cursor, fingerprint), fingerprint);
    if (!again.ok() || *again != *cursor) Fail("page token does not round-trip");
    if (!r.page_token().empty() && sub::DecodePageToken(r.page_token(), "other").ok()) {
      Fail("a page token was accepted for another filter");
    }
  }
}

void ValidateData(const std::string& bytes) {
  v1::ValidateDataRequest r;
  if (!r.ParseFromString(bytes)) return;
  const absl::Status s = sub::CheckValidateDataRequest(r, r.unit_code(), Catalog());
  ExpectRefusalShape(s);
  if (s.ok() && (!InCatalogYears(r.year()) ||
                 (!r.unit_code().empty() && Catalog().FindMemberUnit(r.unit_code()) == nullptr) ||
                 (!r.area_code().empty() && Catalog().FindArea(r.area_code()) == nullptr))) {
    Fail("ValidateData accepted a bad scope");
  }
}

void FormKeyAndText(const std::string& bytes, v1::FormAction action) {
  v1::ReturnFormRequest r;  // key + text: the shape of every form action
  if (!r.ParseFromString(bytes)) return;
  absl::StatusOr<v1::FormKey> key = sub::CheckFormKey(r.key(), Catalog(), "key");
  ExpectRefusalShape(key.status());
  if (key.ok() &&
      (Catalog().FindMemberUnit(key->unit_code()) == nullptr ||
       Catalog().FindArea(key->area_code()) == nullptr || !InCatalogYears(key->year()))) {
    Fail("a bad form key was accepted");
  }
  const absl::Status text = sub::CheckFormActionText(action, r.reason());
  ExpectRefusalShape(text);
  if (text.ok() &&
      (r.reason().size() > 2000 || HasControl(r.reason()) || !halfsky::IsValidUtf8(r.reason()))) {
    Fail("a bad form text was accepted");
  }
  const bool needs_reason = action == v1::FORM_ACTION_RETURN || action == v1::FORM_ACTION_UNLOCK;
  if (text.ok() && needs_reason && r.reason().find_first_not_of(" \t\r\n") == std::string::npos) {
    Fail("a return / unlock without a reason was accepted");
  }
}

void ListForms(const std::string& bytes) {
  v1::ListFormsRequest r;
  if (!r.ParseFromString(bytes)) return;
  const absl::Status s = sub::CheckListFormsRequest(r, r.unit_code(), Catalog());
  ExpectRefusalShape(s);
  if (s.ok() &&
      (!v1::FormState_IsValid(r.state()) || (r.year() != 0 && !InCatalogYears(r.year())))) {
    Fail("ListForms accepted a bad filter");
  }
}

void Withdraw(const std::string& bytes, const sub::ValidationLimits& limits, absl::Time now) {
  v1::WithdrawValuesRequest r;
  if (!r.ParseFromString(bytes)) return;
  const absl::Status s =
      sub::ValidateWithdrawal(r.request_id(), r.keys(), r.reason(), Catalog(), now, limits);
  ExpectRefusalShape(s);
  if (!s.ok()) return;
  if (HasControl(r.request_id()) || r.reason().empty() || r.keys_size() == 0) {
    Fail("a bad withdrawal was accepted");
  }
  for (const v1::DataKey& k : r.keys()) {
    if (!v1::Sex_IsValid(k.sex()) || !v1::Residence_IsValid(k.residence()) ||
        Catalog().FindIndicator(k.indicator_id()) == nullptr ||
        Catalog().FindArea(k.area_code()) == nullptr) {
      Fail("a withdrawal of a bad key was accepted");
    }
  }
}

void LockReason(const std::string& bytes) {
  v1::UnlockYearRequest r;
  if (!r.ParseFromString(bytes)) return;
  const std::vector<halfsky::FieldViolation> bad =
      sub::ValidateFreeText("reason", r.reason(), 2000, false, "原因", "reason");
  if (bad.empty() && (r.reason().size() > 2000 || HasControl(r.reason()))) {
    Fail("a bad lock reason was accepted");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const sub::ValidationLimits limits;
  const absl::Time now = absl::FromCivil(absl::CivilDay(2026, 6, 1), absl::UTCTimeZone());
  switch (data[0] % 12) {
    case 0:
      History(bytes, limits);
      break;
    case 1:
      Watch(bytes, 1000);
      break;
    case 2:
      Watch(bytes, 0);
      break;
    case 3:
      Reporting(bytes, limits);
      break;
    case 4:
      List(bytes);
      break;
    case 5:
      ValidateData(bytes);
      break;
    case 6:
      FormKeyAndText(bytes, v1::FORM_ACTION_RETURN);
      break;
    case 7:
      FormKeyAndText(bytes, v1::FORM_ACTION_SUBMIT);
      break;
    case 8:
      FormKeyAndText(bytes, static_cast<v1::FormAction>(data[0] / 12 % 5));
      break;
    case 9:
      ListForms(bytes);
      break;
    case 10:
      Withdraw(bytes, limits, now);
      break;
    case 11:
      LockReason(bytes);
      break;
  }
  return 0;
}
