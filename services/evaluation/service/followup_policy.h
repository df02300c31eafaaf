#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_POLICY_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_POLICY_H_

// The escalation (督办) policy of follow-up records: pure functions of a
// record, its warning, the time and the deployment's settings. No clock, no
// I/O; thread-safe.
//
//   - No plan: a record OPEN (no plan) whose warning still fires escalates
//     with NO_PLAN once `now` reaches opened_at + N days, N per the
//     warning's current severity (EscalationSettings).
//   - Past due: a record with a plan whose warning still fires escalates
//     with PAST_DUE once `now` is after the plan's due date.
//   - Nothing escalates while the record is CLOSED or the warning is not
//     FIRING.
//   - Silence: in force while now < until AND the warning's severity is
//     the one it was silenced at. While in force nothing escalates (an
//     escalation in place is lifted). A silence whose end has come is
//     `silence_expired`; one whose severity no longer matches is
//     `silence_broken` — either way the caller removes it, and the
//     escalation is judged as if it had never been there. So a silence
//     never hides a change of severity.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "halfsky/v1/evaluation.pb.h"

namespace halfsky::evaluation {

struct EscalationSettings {
  // Days after a record opens by which it needs a plan, per severity.
  int plan_days_red = 7;
  int plan_days_orange = 14;
  int plan_days_yellow = 30;

  // N for `severity` (UNSPECIFIED counts as yellow).
  int PlanDays(halfsky::v1::Severity severity) const;
};

// Parses "red=7,orange=14,yellow=30" (any subset, any order; Chinese 红/橙/黄
// accepted for the names). INVALID_ARGUMENT for an unknown name, a
// malformed pair or a number of days outside 1..366; the message says
// which.
absl::StatusOr<EscalationSettings> ParseEscalationSettings(absl::string_view text);
// The inverse: "red=7,orange=14,yellow=30".
std::string FormatEscalationSettings(const EscalationSettings& settings);

// When a record without a plan escalates: opened_at + PlanDays(severity).
absl::Time PlanRequiredBy(const halfsky::v1::FollowUp& record, halfsky::v1::Severity severity,
                          const EscalationSettings& settings);

struct FollowUpReview {
  bool silence_expired = false;
  bool silence_broken = false;
  // Whether a silence remains in force.
  bool silenced = false;
  // The escalation the record should have now (UNSPECIFIED: none).
  halfsky::v1::EscalationReason escalation = halfsky::v1::ESCALATION_REASON_UNSPECIFIED;
  // NO_PLAN: PlanRequiredBy; PAST_DUE: the plan's due date.
  absl::Time deadline = absl::InfinitePast();
};

// Judges `record` against `warning` (its current state) at `now`; see above.
FollowUpReview ReviewFollowUp(const halfsky::v1::FollowUp& record,
                              const halfsky::v1::Warning& warning, absl::Time now,
                              const EscalationSettings& settings);

// The 督办 summary of `records` at `now` (covers_zh and as_of left for the
// caller): a record with a plan counts as on time while its due date has
// not passed (or when it was closed by then), as overdue otherwise; open
// records without a plan count as no_plan; escalated and silenced count
// records with an escalation / silence in force.
halfsky::v1::FollowUpSummary SummarizeFollowUps(const std::vector<halfsky::v1::FollowUp>& records,
                                                absl::Time now);

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_POLICY_H_
