#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_TRACKER_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_TRACKER_H_

// Follow-up records (督办) of the warnings of one WarningEngine: who owns a
// warning, what is asked of them by when, what they report, how the
// assessment group closes it, and escalations (followup_policy.h).
//
// Records follow the engine's published WarningSet (Sync):
//   - a FIRING warning without a record → a record OPEN, owned by the
//     default owner (the unit of a per-unit LATE_DATA warning, else the
//     indicator's lead unit 牵头单位), step OPENED;
//   - a new episode of a CLOSED record's warning → the record reopens
//     (OPEN, plan/closing/escalation/silence cleared, reopen_count + 1),
//     step REOPENED saying so; of a record not closed → step FIRED_AGAIN
//     (the plan stays);
//   - the warning RESOLVED → step WARNING_RESOLVED (the record waits for
//     the group's closing decision); its severity changed → step
//     SEVERITY_CHANGED (always delivered, whatever the silence);
//   - then the policy: silences that expired or whose severity no longer
//     holds end (SILENCE_ENDED), escalations start (ESCALATED) or end
//     (ESCALATION_ENDED).
// Sync runs before every call below (so every answer is as of the clock's
// now) and, after Start(), in a background thread every `interval` and
// whenever the engine publishes a change.
//
// Every change — records and their new steps — is written to the
// FollowUpStore in one transaction BEFORE memory and watchers see it; a
// failed write changes nothing and returns the store's error.
//
// Permissions (principal = the authenticated caller):
//   - group = role assessment or admin: everything.
//   - roles statistics and service: read every record (List, Get, Watch).
//   - a member unit (unit:X): reads exactly the records it owns; adds
//     notes to them. Anything else: PERMISSION_DENIED (also Get of another
//     unit's record, and a List filter naming another unit).
// Errors of the write calls: INVALID_ARGUMENT (google.rpc.BadRequest) for
// missing or bad fields; NOT_FOUND for a warning without a record;
// FAILED_PRECONDITION naming the state (a CLOSED record; RESOLVED_BY_DATA
// while the warning is FIRING; a silence of a warning not FIRING).
//
// Watchers: Subscribe() delivers the visible records (CURRENT), one
// SYNCED, then one event per new step of a visible record (visible before
// or after the step), under the tracker's lock: OnEvent must be quick and
// must not call back into the tracker.
//
// Thread-safety: thread-safe.

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/clock/clock.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/evaluation.pb.h"
#include "services/evaluation/service/followup_policy.h"
#include "services/evaluation/service/followup_store.h"
#include "services/evaluation/service/warning_engine.h"

namespace halfsky::evaluation {

class FollowUpWatcher {
 public:
  virtual ~FollowUpWatcher() = default;
  // Called under the tracker's lock; see above.
  virtual void OnEvent(const halfsky::v1::FollowUpEvent& event) = 0;
  // The tracker stops serving watchers; no OnEvent follows.
  virtual void OnClose(const absl::Status& status) = 0;
};

class FollowUpTracker {
 public:
  // Loads the stored records. `engine`, `store` and `clock` are not owned
  // and must outlive the tracker. The store's errors.
  static absl::StatusOr<std::unique_ptr<FollowUpTracker>> Create(
      std::shared_ptr<const CatalogIndex> catalog, WarningEngine* engine, FollowUpStore* store,
      Clock* clock, EscalationSettings settings);
  ~FollowUpTracker();  // Stop()
  FollowUpTracker(const FollowUpTracker&) = delete;
  FollowUpTracker& operator=(const FollowUpTracker&) = delete;

  // See above. The store's errors.
  absl::Status Sync();
  // Background Sync every `interval` and on every change of the engine.
  // Errors are written to stderr (the next pass retries). Idempotent.
  void Start(absl::Duration interval);
  // Stops the background thread. Idempotent.
  void Stop();

  absl::StatusOr<halfsky::v1::ListFollowUpsResponse> List(
      const halfsky::v1::Principal& who, const halfsky::v1::ListFollowUpsRequest& request);
  // With the record's whole history.
  absl::StatusOr<halfsky::v1::FollowUp> Get(const halfsky::v1::Principal& who,
                                            const std::string& warning_id);
  absl::StatusOr<halfsky::v1::FollowUp> Assign(const halfsky::v1::Principal& who,
                                               const halfsky::v1::AssignFollowUpRequest& request);
  absl::StatusOr<halfsky::v1::FollowUp> Plan(const halfsky::v1::Principal& who,
                                             const halfsky::v1::PlanFollowUpRequest& request);
  absl::StatusOr<halfsky::v1::FollowUp> Note(const halfsky::v1::Principal& who,
                                             const halfsky::v1::AddFollowUpNoteRequest& request);
  absl::StatusOr<halfsky::v1::FollowUp> Close(const halfsky::v1::Principal& who,
                                              const halfsky::v1::CloseFollowUpRequest& request);
  absl::StatusOr<halfsky::v1::FollowUp> Silence(const halfsky::v1::Principal& who,
                                                const halfsky::v1::SilenceFollowUpRequest& request);

  // PERMISSION_DENIED for a principal that may read nothing; UNAVAILABLE
  // after CloseWatchers().
  absl::Status Subscribe(FollowUpWatcher* watcher, const halfsky::v1::Principal& who,
                         bool escalations_only);
  void Unsubscribe(FollowUpWatcher* watcher);
  void CloseWatchers(const absl::Status& status);

  // Adds the record (without steps) of each of report->warnings() that has
  // one, and the 督办 summary over them saying what it covers.
  absl::Status AnnotateReport(halfsky::v1::EvaluationReport* report);

  const EscalationSettings& settings() const { return settings_; }

 private:
  class EngineWaker;
  struct Registration {
    halfsky::v1::Principal who;
    bool escalations_only;
  };
  // A record change in progress: the new record and its new steps.
  struct Change {
    halfsky::v1::FollowUp next;
    std::vector<halfsky::v1::FollowUpStep> steps;
    bool had_previous = false;
    halfsky::v1::FollowUp previous;
  };

  FollowUpTracker(std::shared_ptr<const CatalogIndex> catalog, WarningEngine* engine,
                  FollowUpStore* store, Clock* clock, EscalationSettings settings);

  absl::Status SyncLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies the policy to `change` (record already updated to `w`).
  void ReviewLocked(const halfsky::v1::Warning& w, absl::Time now, Change* change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes, then publishes to memory and watchers.
  absl::Status CommitLocked(std::vector<Change> changes, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Shared end of the write calls: stamps updated_at, commits `change`
  // alone and returns the record as callers see it.
  absl::StatusOr<halfsky::v1::FollowUp> CommitOneLocked(Change change, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The record of `warning_id` as callers see it (current warning,
  // plan_required_by). NOT_FOUND when there is none.
  absl::StatusOr<halfsky::v1::FollowUp> FindLocked(const std::string& warning_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  halfsky::v1::FollowUp ViewLocked(const halfsky::v1::FollowUp& record) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Shared start of the write calls: sync, find, refuse a CLOSED record.
  absl::StatusOr<Change> BeginWriteLocked(const std::string& warning_id, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string DefaultOwner(const halfsky::v1::Warning& w) const;
  std::string UnitName(const std::string& code) const;

  const std::shared_ptr<const CatalogIndex> catalog_;
  WarningEngine* const engine_;
  FollowUpStore* const store_;
  Clock* const clock_;
  const EscalationSettings settings_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, halfsky::v1::FollowUp> records_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<FollowUpWatcher*, Registration> watchers_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;

  // Background thread (Start/Stop). Lock order: never mu_ while holding
  // wake_mu_.
  absl::Mutex wake_mu_;
  bool dirty_ ABSL_GUARDED_BY(wake_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(wake_mu_) = false;
  std::unique_ptr<EngineWaker> waker_;
  std::thread thread_;
};

// Who may do what (see above), exposed for the service and tests.
bool IsFollowUpGroup(const halfsky::v1::Principal& who);
bool MayReadAllFollowUps(const halfsky::v1::Principal& who);

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_TRACKER_H_
