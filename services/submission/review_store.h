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

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "halfsky/v1/review.pb.h"

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
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_REVIEW_STORE_H_
