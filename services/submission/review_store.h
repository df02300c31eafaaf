#ifndef HALFSKY_SERVICES_SUBMISSION_REVIEW_STORE_H_
#define HALFSKY_SERVICES_SUBMISSION_REVIEW_STORE_H_

// Where the review workflow (halfsky.v1.ReviewService) keeps each form's
// state and every transition, behind a backend-neutral interface
// (sqlite_review_store.h: tables of the submission database).
//
// Contract: a transition is atomic (the form's new state and its event
// together, or neither) and conditional on the state the caller saw, so two
// reviewers acting on one form at once cannot both succeed. Keys are
// normalized by the caller (area_code never empty).
// Thread-safety: every method may be called from any thread concurrently.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "halfsky/v1/review.pb.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky::submission {

class ReviewStore {
 public:
  virtual ~ReviewStore() = default;

  // The form's current state: FORM_STATE_DRAFT without changed_at when it
  // never moved. Errors: the backend's (UNAVAILABLE, INTERNAL).
  virtual absl::StatusOr<halfsky::v1::Form> GetForm(const halfsky::v1::FormKey& key) = 0;

  // Applies `event` (key, action, from_state, to_state, actor, at, reason,
  // explanation) when the form is still in event.from_state: its state
  // becomes to_state, changed_by / changed_at the event's; a SUBMIT sets the
  // explanation, a RETURN or UNLOCK the reason (other fields are kept); the
  // event is appended to the history. Returns the new form.
  // Errors: FAILED_PRECONDITION (reason "FORM_STATE") naming the current
  // state when it is not from_state (nothing written); the backend's.
  virtual absl::StatusOr<halfsky::v1::Form> Transition(const halfsky::v1::FormEvent& event) = 0;

  // Forms with at least one transition, filtered (0 / "" / UNSPECIFIED =
  // any), by year, unit, area.
  virtual absl::StatusOr<std::vector<halfsky::v1::Form>> ListForms(
      int year, const std::string& unit_code, halfsky::v1::FormState state) = 0;

  // Every event of the form, oldest first (empty when it never moved).
  virtual absl::StatusOr<std::vector<halfsky::v1::FormEvent>> History(
      const halfsky::v1::FormKey& key) = 0;

  // The change feed's form transitions (ChangeEvent.form_change): every
  // transition with form_sequence > after_sequence, in form_sequence order,
  // at most `limit`; always a gapless run starting at after_sequence + 1
  // (form sequences are assigned at commit, 1, 2, 3 …, none skipped).
  virtual absl::StatusOr<std::vector<halfsky::v1::FormChange>> ReadFormChanges(
      int64_t after_sequence, int limit) = 0;
  // Highest committed form_sequence (0 when no form ever moved).
  virtual absl::StatusOr<int64_t> HeadFormSequence() = 0;
  // `listener(head)` is called after every committed transition with the
  // new head form_sequence, on the transition's thread. Must be cheap and
  // never block. Replaces an earlier listener; nullptr removes it.
  virtual void SetTransitionListener(std::function<void(int64_t head)> listener) = 0;
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_REVIEW_STORE_H_
