// EvaluationService's and FollowUpService's request checks
// (services/evaluation/service/request_checks.h) on arbitrary requests:
// the first byte chooses the request type, the rest is parsed as its wire
// format. Never crashes (timestamps of any value included); a refusal is
// INVALID_ARGUMENT naming its fields; OK implies every enum is one the
// proto defines, every code is the catalog's, every time is a valid
// timestamp in its window and every accepted text is within 4 000 bytes
// with no control character but tab and newline.
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "common/proto/timestamp.h"
#include "halfsky/v1/evaluation.pb.h"
#include "services/evaluation/service/request_checks.h"
#include "tests/fuzz/fuzz_checks.h"

namespace {

namespace v1 = ::halfsky::v1;
namespace ev = ::halfsky::evaluation;
using halfsky::fuzz::Catalog;
using halfsky::fuzz::ExpectRefusalShape;
using halfsky::fuzz::Fail;
using halfsky::fuzz::HasControl;

bool GoodText(const std::string& t) {
  return !t.empty() && t.size() <= ev::kMaxNoteBytes && !HasControl(t) && halfsky::IsValidUtf8(t);
}

bool InWindow(const google::protobuf::Timestamp& t, absl::Time now, absl::Duration ahead) {
  if (t.nanos() < 0 || t.nanos() > 999999999) return false;
  // As FromTimestamp reads it: whole microseconds.
  const absl::Time at = absl::FromUnixSeconds(t.seconds()) + absl::Microseconds(t.nanos() / 1000);
  return at > now && at <= now + ahead;
}

template <typename Request>
bool Parse(const std::string& bytes, Request* r) {
  return r->ParseFromString(bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const absl::Time now = absl::FromCivil(absl::CivilDay(2026, 6, 1), absl::UTCTimeZone());
  switch (data[0] % 8) {
    case 0: {
      v1::ListWarningsRequest r;
      if (!Parse(bytes, &r)) break;
      const absl::Status s = ev::CheckWarningsFilter(r, Catalog());
      ExpectRefusalShape(s);
      if (s.ok() &&
          (!v1::WarningKind_IsValid(r.kind()) || !v1::Severity_IsValid(r.min_severity()) ||
           !v1::WarningState_IsValid(r.state()) || r.page_size() < 0 ||
           (!r.indicator_id().empty() && !Catalog().FindIndicator(r.indicator_id())) ||
           (!r.area_code().empty() && !Catalog().FindArea(r.area_code())) ||
           (!r.domain_id().empty() && !Catalog().FindDomain(r.domain_id())))) {
        Fail("ListWarnings accepted a bad filter");
      }
      break;
    }
    case 1: {
      v1::AcknowledgeWarningRequest r;
      if (!Parse(bytes, &r)) break;
      const absl::Status s = ev::CheckAcknowledgement(r);
      ExpectRefusalShape(s);
      if (s.ok() && (r.warning_id().empty() || !GoodText(r.note()))) {
        Fail("AcknowledgeWarning accepted a bad request");
      }
      break;
    }
    case 2: {
      v1::ListFollowUpsRequest r;
      if (!Parse(bytes, &r)) break;
      const absl::Status s = ev::CheckFollowUpFilter(r, Catalog());
      ExpectRefusalShape(s);
      if (s.ok() && !v1::FollowUpState_IsValid(r.state())) {
        Fail("ListFollowUps accepted a bad state");
      }
      break;
    }
    case 3: {
      v1::AssignFollowUpRequest r;
      if (!Parse(bytes, &r)) break;
      const absl::Status s = ev::CheckAssign(r, Catalog());
      ExpectRefusalShape(s);
      if (s.ok() && (r.warning_id().empty() || !Catalog().FindMemberUnit(r.unit_code()) ||
                     !GoodText(r.reason()))) {
        Fail("AssignFollowUp accepted a bad request");
      }
      break;
    }
    case 4: {
      v1::PlanFollowUpRequest r;
      if (!Parse(bytes, &r)) break;
      const absl::Status s = ev::CheckPlan(r, now);
      ExpectRefusalShape(s);
      if (s.ok() && (r.warning_id().empty() || !GoodText(r.measures()) || !r.has_due() ||
                     !InWindow(r.due(), now, ev::kMaxPlanAhead))) {
        Fail("PlanFollowUp accepted a bad request");
      }
      if (s.ok()) (void)halfsky::FromTimestamp(r.due());  // the tracker's next step
      break;
    }
    case 5: {
      v1::AddFollowUpNoteRequest r;
      if (!Parse(bytes, &r)) break;
      const absl::Status s = ev::CheckNote(r);
      ExpectRefusalShape(s);
      if (s.ok() && (r.warning_id().empty() || !GoodText(r.note()))) {
        Fail("AddFollowUpNote accepted a bad request");
      }
      break;
    }
    case 6: {
      v1::CloseFollowUpRequest r;
      if (!Parse(bytes, &r)) break;
      const absl::Status s = ev::CheckClose(r);
      ExpectRefusalShape(s);
      const bool by_data = r.closing() == v1::FOLLOW_UP_CLOSING_RESOLVED_BY_DATA;
      if (s.ok() &&
          (r.warning_id().empty() || !v1::FollowUpClosing_IsValid(r.closing()) ||
           r.closing() == v1::FOLLOW_UP_CLOSING_UNSPECIFIED ||
           (!by_data && !GoodText(r.reason())) || (!r.reason().empty() && !GoodText(r.reason())))) {
        Fail("CloseFollowUp accepted a bad request");
      }
      break;
    }
    case 7: {
      v1::SilenceFollowUpRequest r;
      if (!Parse(bytes, &r)) break;
      const absl::Status s = ev::CheckSilence(r, now);
      ExpectRefusalShape(s);
      if (s.ok() && (r.warning_id().empty() || !GoodText(r.reason()) || !r.has_until() ||
                     !InWindow(r.until(), now, ev::kMaxSilenceAhead))) {
        Fail("SilenceFollowUp accepted a bad request");
      }
      if (s.ok()) (void)halfsky::FromTimestamp(r.until());
      break;
    }
  }
  return 0;
}
