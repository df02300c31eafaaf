#include "services/evaluation/service/followup_policy.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::FollowUp;
using ::halfsky::v1::Warning;

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixMicros(google::protobuf::util::TimeUtil::TimestampToMicroseconds(t));
}

}  // namespace

int EscalationSettings::PlanDays(halfsky::v1::Severity severity) const {
  switch (severity) {
    case halfsky::v1::SEVERITY_RED:
      return plan_days_red;
    case halfsky::v1::SEVERITY_ORANGE:
      return plan_days_orange;
    default:
      return plan_days_yellow;
  }
}

absl::StatusOr<EscalationSettings> ParseEscalationSettings(absl::string_view text) {
  EscalationSettings s;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, '=');
    const absl::string_view name = absl::StripAsciiWhitespace(kv.first);
    const absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    int days = 0;
    if (!absl::SimpleAtoi(value, &days) || days < 1 || days > 366) {
      return absl::InvalidArgumentError(
          absl::StrCat("督办期限须为1至366天 / plan days must be 1..366, got \"", part, "\""));
    }
    if (name == "red" || name == "红" || name == "红色") {
      s.plan_days_red = days;
    } else if (name == "orange" || name == "橙" || name == "橙色") {
      s.plan_days_orange = days;
    } else if (name == "yellow" || name == "黄" || name == "黄色") {
      s.plan_days_yellow = days;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("未知预警级别 / unknown severity \"", name, "\" (red, orange or yellow)"));
    }
  }
  return s;
}

std::string FormatEscalationSettings(const EscalationSettings& s) {
  return absl::StrCat("red=", s.plan_days_red, ",orange=", s.plan_days_orange,
                      ",yellow=", s.plan_days_yellow);
}

absl::Time PlanRequiredBy(const FollowUp& record, halfsky::v1::Severity severity,
                          const EscalationSettings& settings) {
  return FromProto(record.opened_at()) + absl::Hours(24) * settings.PlanDays(severity);
}

FollowUpReview ReviewFollowUp(const FollowUp& record, const Warning& warning, absl::Time now,
                              const EscalationSettings& settings) {
  FollowUpReview r;
  if (record.has_silence()) {
    if (now >= FromProto(record.silence().until())) {
      r.silence_expired = true;
    } else if (record.silence().severity() != warning.severity()) {
      r.silence_broken = true;
    } else {
      r.silenced = true;
    }
  }
  if (record.state() == halfsky::v1::FOLLOW_UP_STATE_CLOSED ||
      warning.state() != halfsky::v1::WARNING_STATE_FIRING || r.silenced) {
    return r;
  }
  if (record.has_plan()) {
    const absl::Time due = FromProto(record.plan().due());
    if (now > due) {
      r.escalation = halfsky::v1::ESCALATION_REASON_PAST_DUE;
      r.deadline = due;
    }
  } else {
    const absl::Time by = PlanRequiredBy(record, warning.severity(), settings);
    if (now >= by) {
      r.escalation = halfsky::v1::ESCALATION_REASON_NO_PLAN;
      r.deadline = by;
    }
  }
  return r;
}

halfsky::v1::FollowUpSummary SummarizeFollowUps(const std::vector<FollowUp>& records,
                                                absl::Time now) {
  halfsky::v1::FollowUpSummary s;
  for (const FollowUp& f : records) {
    s.set_total(s.total() + 1);
    const bool closed = f.state() == halfsky::v1::FOLLOW_UP_STATE_CLOSED;
    if (closed) {
      s.set_closed(s.closed() + 1);
    }
    if (f.has_plan()) {
      const absl::Time due = FromProto(f.plan().due());
      const absl::Time judged_at = closed ? FromProto(f.closed_at()) : now;
      if (judged_at <= due) {
        s.set_on_time(s.on_time() + 1);
      } else {
        s.set_overdue(s.overdue() + 1);
      }
    } else if (!closed) {
      s.set_no_plan(s.no_plan() + 1);
    }
    if (f.has_escalation()) {
      s.set_escalated(s.escalated() + 1);
    }
    if (f.has_silence() && now < FromProto(f.silence().until())) {
      s.set_silenced(s.silenced() + 1);
    }
  }
  return s;
}

}  // namespace halfsky::evaluation
