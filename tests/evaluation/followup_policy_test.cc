// The escalation (督办) policy: pure functions, no clock.
#include "services/evaluation/service/followup_policy.h"

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace halfsky::evaluation {
namespace {

using ::halfsky::v1::FollowUp;
using ::halfsky::v1::Warning;

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01 00:00 UTC

google::protobuf::Timestamp Ts(absl::Time t) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}
absl::Time Days(int n) { return kT0 + absl::Hours(24) * n; }

Warning Firing(halfsky::v1::Severity severity) {
  Warning w;
  w.set_id("HEALTH-02:610303:progress:2030");
  w.set_state(halfsky::v1::WARNING_STATE_FIRING);
  w.set_severity(severity);
  w.set_episode(1);
  return w;
}

FollowUp Open() {
  FollowUp f;
  f.set_warning_id("HEALTH-02:610303:progress:2030");
  f.set_state(halfsky::v1::FOLLOW_UP_STATE_OPEN);
  *f.mutable_opened_at() = Ts(kT0);
  return f;
}

TEST(EscalationSettingsTest, ParsesAnySubsetAndRejectsNonsense) {
  auto s = ParseEscalationSettings("orange=10, 红=3");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->plan_days_red, 3);
  EXPECT_EQ(s->plan_days_orange, 10);
  EXPECT_EQ(s->plan_days_yellow, 30);  // default kept
  EXPECT_EQ(s->PlanDays(halfsky::v1::SEVERITY_UNSPECIFIED), 30);
  EXPECT_EQ(FormatEscalationSettings(*s), "red=3,orange=10,yellow=30");
  for (const char* bad : {"purple=3", "red=0", "red=400", "red", "red=x"}) {
    auto r = ParseEscalationSettings(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(ParseEscalationSettings("").ok());
}

TEST(ReviewFollowUpTest, NoPlanEscalatesAfterTheSeverityDays) {
  EscalationSettings s;  // red 7, orange 14, yellow 30
  const Warning orange = Firing(halfsky::v1::SEVERITY_ORANGE);
  FollowUp f = Open();
  EXPECT_EQ(ReviewFollowUp(f, orange, Days(13), s).escalation,
            halfsky::v1::ESCALATION_REASON_UNSPECIFIED);
  FollowUpReview r = ReviewFollowUp(f, orange, Days(14), s);
  EXPECT_EQ(r.escalation, halfsky::v1::ESCALATION_REASON_NO_PLAN);
  EXPECT_EQ(r.deadline, Days(14));
  // Red needs its plan sooner; yellow later.
  EXPECT_EQ(ReviewFollowUp(f, Firing(halfsky::v1::SEVERITY_RED), Days(7), s).escalation,
            halfsky::v1::ESCALATION_REASON_NO_PLAN);
  EXPECT_EQ(ReviewFollowUp(f, Firing(halfsky::v1::SEVERITY_YELLOW), Days(29), s).escalation,
            halfsky::v1::ESCALATION_REASON_UNSPECIFIED);
}

TEST(ReviewFollowUpTest, PastDueOnlyWhileFiringAndNotClosed) {
  EscalationSettings s;
  FollowUp f = Open();
  f.set_state(halfsky::v1::FOLLOW_UP_STATE_PLANNED);
  *f.mutable_plan()->mutable_due() = Ts(Days(30));
  const Warning w = Firing(halfsky::v1::SEVERITY_ORANGE);
  EXPECT_EQ(ReviewFollowUp(f, w, Days(30), s).escalation,
            halfsky::v1::ESCALATION_REASON_UNSPECIFIED);  // on the due instant: in time
  FollowUpReview r = ReviewFollowUp(f, w, Days(31), s);
  EXPECT_EQ(r.escalation, halfsky::v1::ESCALATION_REASON_PAST_DUE);
  EXPECT_EQ(r.deadline, Days(30));
  Warning resolved = w;
  resolved.set_state(halfsky::v1::WARNING_STATE_RESOLVED);
  EXPECT_EQ(ReviewFollowUp(f, resolved, Days(31), s).escalation,
            halfsky::v1::ESCALATION_REASON_UNSPECIFIED);
  f.set_state(halfsky::v1::FOLLOW_UP_STATE_CLOSED);
  EXPECT_EQ(ReviewFollowUp(f, w, Days(31), s).escalation,
            halfsky::v1::ESCALATION_REASON_UNSPECIFIED);
}

TEST(ReviewFollowUpTest, SilenceHoldsUntilItsEndAndNeverOverASeverityChange) {
  EscalationSettings s;
  FollowUp f = Open();
  f.mutable_silence()->set_reason("机构改革，数据口径调整中");
  *f.mutable_silence()->mutable_until() = Ts(Days(20));
  f.mutable_silence()->set_severity(halfsky::v1::SEVERITY_ORANGE);
  const Warning orange = Firing(halfsky::v1::SEVERITY_ORANGE);

  FollowUpReview held = ReviewFollowUp(f, orange, Days(15), s);  // past the 14 days
  EXPECT_TRUE(held.silenced);
  EXPECT_FALSE(held.silence_expired);
  EXPECT_EQ(held.escalation, halfsky::v1::ESCALATION_REASON_UNSPECIFIED);

  FollowUpReview expired = ReviewFollowUp(f, orange, Days(20), s);
  EXPECT_TRUE(expired.silence_expired);
  EXPECT_FALSE(expired.silenced);
  EXPECT_EQ(expired.escalation, halfsky::v1::ESCALATION_REASON_NO_PLAN);

  FollowUpReview broken = ReviewFollowUp(f, Firing(halfsky::v1::SEVERITY_RED), Days(8), s);
  EXPECT_TRUE(broken.silence_broken);
  EXPECT_FALSE(broken.silenced);
  EXPECT_EQ(broken.escalation, halfsky::v1::ESCALATION_REASON_NO_PLAN);  // red: 7 days
  // A milder severity breaks it too.
  EXPECT_TRUE(ReviewFollowUp(f, Firing(halfsky::v1::SEVERITY_YELLOW), Days(1), s).silence_broken);
}

TEST(SummarizeFollowUpsTest, CountsOnTimeOverdueEscalated) {
  std::vector<FollowUp> records;
  FollowUp no_plan = Open();
  records.push_back(no_plan);
  FollowUp in_time = Open();
  *in_time.mutable_plan()->mutable_due() = Ts(Days(40));
  records.push_back(in_time);
  FollowUp late = Open();
  *late.mutable_plan()->mutable_due() = Ts(Days(10));
  late.mutable_escalation()->set_reason(halfsky::v1::ESCALATION_REASON_PAST_DUE);
  records.push_back(late);
  FollowUp closed_in_time = Open();
  *closed_in_time.mutable_plan()->mutable_due() = Ts(Days(10));
  closed_in_time.set_state(halfsky::v1::FOLLOW_UP_STATE_CLOSED);
  *closed_in_time.mutable_closed_at() = Ts(Days(9));
  records.push_back(closed_in_time);
  FollowUp silenced = Open();
  *silenced.mutable_silence()->mutable_until() = Ts(Days(50));
  records.push_back(silenced);

  halfsky::v1::FollowUpSummary s = SummarizeFollowUps(records, Days(20));
  EXPECT_EQ(s.total(), 5);
  EXPECT_EQ(s.no_plan(), 2);
  EXPECT_EQ(s.on_time(), 2);
  EXPECT_EQ(s.overdue(), 1);
  EXPECT_EQ(s.escalated(), 1);
  EXPECT_EQ(s.closed(), 1);
  EXPECT_EQ(s.silenced(), 1);
}

}  // namespace
}  // namespace halfsky::evaluation
