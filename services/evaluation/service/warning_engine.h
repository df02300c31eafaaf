#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_WARNING_ENGINE_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_WARNING_ENGINE_H_

// The warning lifecycle, as Prometheus Alertmanager keeps alerts.
//
// Identity: (indicator, area, kind, target year) → a stable, readable id
// "INDICATOR:AREA:kind:YEAR" (WarningId). Each identity has at most one
// current episode, kept in memory and in the WarningStore.
//
// Reconcile(scope, candidates): the evaluator says, for one scope (e.g.
// "indicator X in areas A…, every kind but LATE_DATA"), which warnings fire
// now. Per identity:
//   - new, or RESOLVED before         → FIRING, episode n+1 (1 for a new
//     identity), firing_since = last_evaluated = now, resolved_at and
//     acknowledgement cleared. Event FIRED.
//   - FIRING and its content (severity, status, figures, explanations,
//     responsible units, data year, names) differs → content replaced,
//     last_evaluated = now; firing_since, episode and acknowledgement
//     kept. Event UPDATED.
//   - FIRING and the content is identical → NOTHING: no write, no
//     timestamp touched, no event.
//   - FIRING, in scope, not among the candidates → RESOLVED, resolved_at =
//     last_evaluated = now. Event RESOLVED.
// So `last_evaluated` is "the last evaluation that changed this warning"
// (Alertmanager's updatedAt), not "the last time the rule ran": a
// re-evaluation that changes nothing touches nothing. The time of the last
// evaluation pass is exposed separately (Evaluator::last_full_pass()).
// Changes are written to the store in one transaction BEFORE memory and
// watchers see them; a failed write changes nothing and returns the error.
//
// Acknowledge(id, by, note): appends the acknowledgement (durably) to the
// current episode and sends ACKNOWLEDGED. A later episode starts
// unacknowledged (the acknowledgement history stays in the store).
//
// Watchers: Subscribe() delivers the current matching set to a
// WarningWatcher and registers it, atomically (no change is lost or
// duplicated between the two). Every later change is delivered to every
// watcher, in order, synchronously under the engine's lock: OnEvent must be
// quick, must not block and must not call back into the engine (the watch
// reactor just appends to its own bounded queue).
//
// Reads: every change publishes a new immutable WarningSet (the warnings
// sorted as List, with a per-state index) by swapping a shared_ptr. List,
// Get, Snapshot and Current() read that published set and never wait for a
// Reconcile/Acknowledge in progress (which may hold the engine's lock
// across a SQLite commit); a reader sees either the set before or after a
// change, never half of it.
//
// Mirror mode (a read replica, see follower.h): CreateMirror() makes an
// engine without a store that never evaluates. Its set is replaced whole by
// Resume(snapshot) and then changed event by event by ApplyEvent(event),
// both taken from the primary's WatchWarnings stream; watchers, List and
// the published set work exactly as on the primary. While Suspend()ed (also
// from creation until the first Resume) it refuses subscriptions and
// availability() says why. Reconcile and Acknowledge are
// FAILED_PRECONDITION in mirror mode.
//
// Thread-safety: thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock/clock.h"
#include "halfsky/v1/evaluation.pb.h"
#include "services/evaluation/service/warning_store.h"

namespace halfsky::evaluation {

// The kind's token (common/labels: "progress", "late_data", ...), or
// "unspecified" for a kind without one. Part of every warning's id.
const char* WarningKindName(halfsky::v1::WarningKind kind);
// "HEALTH-01:610303:progress:2030".
std::string WarningId(absl::string_view indicator_id, absl::string_view area_code,
                      halfsky::v1::WarningKind kind, int target_year);
// A LATE_DATA warning of one member unit and data year (Warning.unit_code
// set, indicator_id empty): "unit.UNIT:AREA:late_data:YEAR".
std::string LateDataWarningId(absl::string_view unit_code, absl::string_view area_code,
                              int data_year);
// The identity of `w`: LateDataWarningId when w.unit_code() is set, else
// WarningId.
std::string WarningIdOf(const halfsky::v1::Warning& w);

// True when `w` passes every filter of `filter` (pagination ignored).
// With `ignore_state`, the state filter is not applied. filter.area_codes
// must be sorted (ExpandSubareas, request_checks.h, does it); they are
// binary-searched.
bool MatchesFilter(const halfsky::v1::Warning& w, const halfsky::v1::ListWarningsRequest& filter,
                   bool ignore_state);

// An immutable, consistent copy of every warning at one version, sorted by
// severity (red first), then indicator id, then id; with the FIRING and
// RESOLVED warnings also indexed apart in that order. Unchanged warnings are
// shared between successive sets (no copy per change). Thread-safe (const).
class WarningSet {
 public:
  using Ptr = std::shared_ptr<const halfsky::v1::Warning>;
  WarningSet(int64_t version, std::vector<Ptr> warnings);

  // The engine's version() when this set was published.
  int64_t version() const { return version_; }
  // Every warning, sorted as above.
  const std::vector<Ptr>& all() const { return all_; }
  // The warnings in `state` (FIRING or RESOLVED), sorted as above; an empty
  // list for any other state.
  const std::vector<Ptr>& in_state(halfsky::v1::WarningState state) const;

  // As WarningEngine::List. A request filtering on the state only (the
  // common case) is a binary search and a slice of the state's index;
  // other filters scan that index.
  absl::StatusOr<halfsky::v1::ListWarningsResponse> List(
      const halfsky::v1::ListWarningsRequest& request) const;
  // Every matching warning, sorted.
  std::vector<Ptr> Matching(const halfsky::v1::ListWarningsRequest& filter) const;
  // nullptr when there is no warning `id`.
  Ptr Find(const std::string& id) const;

 private:
  int64_t version_;
  std::vector<Ptr> all_;
  std::vector<Ptr> firing_;
  std::vector<Ptr> resolved_;
  std::vector<Ptr> none_;
  absl::flat_hash_map<std::string, Ptr> by_id_;
};

class WarningWatcher {
 public:
  virtual ~WarningWatcher() = default;
  // One change. `previous` is the warning before the change (nullptr for a
  // new identity). Called under the engine's lock; see above.
  virtual void OnEvent(const halfsky::v1::WarningEvent& event,
                       const halfsky::v1::Warning* previous) = 0;
  // The engine stops serving watchers (shutdown): finish with `status`.
  // Called under the engine's lock; no OnEvent follows.
  virtual void OnClose(const absl::Status& status) = 0;
};

class WarningEngine {
 public:
  // Loads every stored warning. `store` and `clock` are not owned and must
  // outlive the engine.
  static absl::StatusOr<std::unique_ptr<WarningEngine>> Create(WarningStore* store, Clock* clock);
  // A mirror (see above): empty and suspended with `not_synced` (an
  // UNAVAILABLE status) until the first Resume(). `clock` is not owned and
  // must outlive the engine.
  static std::unique_ptr<WarningEngine> CreateMirror(Clock* clock, absl::Status not_synced);

  struct ReconcileResult {
    int fired = 0;
    int updated = 0;
    int resolved = 0;
    int unchanged = 0;
  };
  // See above. Candidates need indicator_id, area_code, kind, target_year
  // and their content; id, state, timestamps, episode and acknowledgement
  // are the engine's. Two candidates with one identity: the more severe
  // wins (then the first). Errors: the store's (nothing changed then).
  absl::StatusOr<ReconcileResult> Reconcile(
      const std::function<bool(const halfsky::v1::Warning&)>& in_scope,
      std::vector<halfsky::v1::Warning> candidates);

  // NOT_FOUND for an unknown id; INVALID_ARGUMENT for an empty `by` or
  // `note`; the store's errors. Returns the warning with its new
  // acknowledgement.
  absl::StatusOr<halfsky::v1::Warning> Acknowledge(const std::string& id, const std::string& by,
                                                   const std::string& note);

  // Matching warnings sorted by severity (red first), then indicator id,
  // then id; paginated (page_size 0 → 100, capped at 1 000). The page token
  // is opaque to clients (the sort key of the last item returned).
  // INVALID_ARGUMENT for a negative page_size or a malformed token.
  absl::StatusOr<halfsky::v1::ListWarningsResponse> List(
      const halfsky::v1::ListWarningsRequest& request) const;

  // The warning `id` (any state), or NOT_FOUND.
  absl::StatusOr<halfsky::v1::Warning> Get(const std::string& id) const;

  // Every matching warning (no pagination), sorted as List.
  std::vector<halfsky::v1::Warning> Snapshot(const halfsky::v1::ListWarningsRequest& filter) const;

  // Delivers the current set matching `filter` (sorted as List) to
  // `watcher` as CURRENT events, then one SYNCED event, then registers it
  // for every later change — all under the lock, so nothing is lost or
  // duplicated in between. UNAVAILABLE after CloseWatchers(); the
  // suspension status while Suspend()ed. With `all_states` the state filter
  // is ignored: the initial set holds every warning, FIRING and RESOLVED
  // (the replication stream of a replica; see follower.h).
  absl::Status Subscribe(WarningWatcher* watcher, const halfsky::v1::ListWarningsRequest& filter,
                         bool all_states = false);
  // After it returns, `watcher` receives nothing more. Idempotent.
  void Unsubscribe(WarningWatcher* watcher);
  // OnClose(status) on every watcher, unregisters them, and refuses new
  // subscriptions from now on.
  void CloseWatchers(const absl::Status& status);
  int watcher_count() const;

  // Mirror mode only (see above). Suspend: OnClose(`status`) on every
  // watcher, unregisters them, and refuses subscriptions (and reports
  // `status` from availability()) until Resume. Resume: replaces the whole
  // set by `warnings` (the primary's snapshot), publishes it as a new
  // version, and accepts subscriptions again (unless CloseWatchers() was
  // called: that is final). Neither sends events. ApplyEvent: applies one
  // FIRED / UPDATED / RESOLVED / ACKNOWLEDGED event of the primary (the
  // event's warning replaces the one with its id), delivers the same event
  // to the matching watchers and publishes the new set; INVALID_ARGUMENT for
  // another type or a warning without id, FAILED_PRECONDITION while
  // suspended or on a primary engine.
  void Suspend(const absl::Status& status);
  absl::Status Resume(std::vector<halfsky::v1::Warning> warnings);
  absl::Status ApplyEvent(const halfsky::v1::WarningEvent& event);
  // OK, or the suspension status (a mirror not in sync with its primary).
  // Always OK on a primary engine.
  absl::Status availability() const;

  // Incremented by every change event.
  int64_t version() const;

  // The published set (see "Reads" above). Never null. Cheap: a
  // shared_ptr copy under a short lock that writers hold only to swap it.
  std::shared_ptr<const WarningSet> Current() const;

  // Called with every newly published set, under the engine's lock (so
  // calls are ordered); must be quick and must not call back into the
  // engine. Also called right away with the current set. For metrics. Pass
  // nullptr to remove.
  void SetObserver(std::function<void(const WarningSet&)> observer);

 private:
  WarningEngine(WarningStore* store, Clock* clock) : store_(store), clock_(clock) {}
  void EmitLocked(halfsky::v1::WarningEventType type, const halfsky::v1::Warning& w,
                  const halfsky::v1::Warning* previous, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Delivers `event` to every watcher. Callers count the version and
  // publish the set first (PublishLocked), so that a watcher reading the
  // list on an event sees that change.
  void DeliverLocked(const halfsky::v1::WarningEvent& event, const halfsky::v1::Warning* previous)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Rebuilds and publishes the WarningSet from warnings_.
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  WarningStore* const store_;  // null in mirror mode
  Clock* const clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, WarningSet::Ptr> warnings_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<WarningWatcher*> watchers_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void(const WarningSet&)> observer_ ABSL_GUARDED_BY(mu_);
  // Lock order: mu_, then set_mu_. set_mu_ guards only the pointer swap.
  mutable absl::Mutex set_mu_;
  std::shared_ptr<const WarningSet> set_ ABSL_GUARDED_BY(set_mu_);
  // Mirror mode: not OK while suspended. Written with mu_ AND set_mu_ held
  // (so a subscriber under mu_ sees no change), read under set_mu_ alone by
  // availability(), which thus never waits for a writer.
  absl::Status suspended_ ABSL_GUARDED_BY(set_mu_);
};

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_WARNING_ENGINE_H_
