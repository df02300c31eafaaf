#ifndef HALFSKY_SERVICES_AGGREGATION_FOLLOWER_H_
#define HALFSKY_SERVICES_AGGREGATION_FOLLOWER_H_

// The change-feed follower: keeps the in-memory aggregates and the Redis
// cache up to date with SubmissionService.WatchChanges.
//
// Lifecycle (one thread, `Start()` .. `Stop()`):
//   1. Build: WatchChanges(after_sequence = 0); Load() every revision into a
//      fresh Aggregator until the first Heartbeat (backlog drained), then
//      RecomputeAll() and swap it into the AggregationState (readers keep
//      the previous one meanwhile). The in-memory state is always rebuilt
//      from the feed at start: it is the ground truth the cache is checked
//      against.
//   2. Sync Redis: read the cursor C.
//        C absent (new or flushed Redis), C > applied (the feed went
//        backwards), or a forced rebuild → RewriteAll (see redis_writer.h),
//        PUBLISH rebuild=1.
//        C < applied → one MULTI/EXEC of every aggregate whose
//        as_of_sequence > C (exactly what changed since C) and the cursor.
//        C == applied → nothing to write.
//      So a killed and restarted aggregation resumes exactly: nothing is
//      counted twice (figures replace, they never add up across revisions)
//      and nothing committed after C is lost.
//      The position is the pair (revision cursor, form cursor): form
//      changes (ChangeEvent.form_change, the review forms' approval) have
//      their own gapless sequence. A form cursor different from the one
//      applied → RewriteAll (approval counts change without a sequence of
//      the revisions, so only a rewrite is exact).
//   3. Follow on the same stream: gRPC's callback reader (no thread of its
//      own) queues the messages it parsed, each on its own arena, freed by
//      the follower once applied, and reads on while the queue holds fewer
//      than `queue_capacity` events;
//      the follower takes every queued message (while it holds fewer than
//      `max_batch` events), applies them
//      incrementally (ChangeSet), commits the changed aggregates and the new
//      cursor in ONE MULTI/EXEC, then PUBLISHes (common/cache/cache_layout.h). Under load
//      batches grow; when idle each commit is written at once.
//
// Faults, all recovered without operator action:
//   - submission down / restarted: the stream ends; reconnect with
//     exponential backoff (backoff_min doubling to backoff_max) from the last
//     applied sequence (a replayed revision is harmless). A Heartbeat whose
//     head_sequence is below the applied sequence (the feed was reset)
//     triggers a full rebuild.
//   - Redis down: commits fail with UNAVAILABLE; the cursor is not advanced,
//     the changed cells stay pending (the in-memory state remains valid) and
//     the commit is retried with backoff; revisions keep being applied in
//     memory meanwhile (bounded by the stream queue). A commit whose fate is
//     unknown is safe to redo.
//   - Redis failover (Sentinel, a managed endpoint; common/redis): commits
//     fail with UNAVAILABLE while no primary is reachable, as above, then go
//     to the new primary. Every commit is guarded (redis_writer.h): it
//     applies only if the position (cursor AND form cursor) Redis holds is
//     our last acknowledged commit (or a commit whose outcome is unknown),
//     so it never lands on a cache that lost writes.
//   - cursor vanished, stale or behind: detected by that guard and by a
//     check every `cursor_check_interval` while idle. The position tells
//     what to do:
//       absent, or ahead of what we committed (FLUSHALL, a new Redis,
//       another writer), or a form cursor other than the applied one (a
//       lost form change cannot be caught up) → RewriteAll from memory;
//       behind our last commit but not before our last full rewrite (a
//       promoted replica that had not received the last commits, a restore
//       of a recent snapshot) → catch up: ONE guarded MULTI/EXEC of every
//       aggregate whose as_of_sequence > that cursor (exactly the lost
//       range, from memory — the change feed's revisions are all applied
//       there) and the cursor, PUBLISHed like a commit (rebuild=0, the
//       indicators changed since that cursor);
//       behind our last full rewrite (the writes lost include the rewrite)
//       → RewriteAll.
//     Until then the cache stays a consistent snapshot at the older cursor:
//     readers keep answering from it (evaluation: as of that sequence).
//
// Metrics (when FollowerOptions::metrics is set; names are stable, for
// dashboards and alerts):
//   halfsky_aggregation_cursor                 gauge: the cursor Redis acknowledged
//   halfsky_aggregation_applied_sequence       gauge: last revision applied in memory
//   halfsky_aggregation_feed_head_sequence     gauge: the feed head as last seen
//                                              (heartbeats and revisions received)
//   halfsky_aggregation_lag_revisions          gauge: feed head − cursor (what
//                                              Redis is behind the feed)
//   halfsky_aggregation_commits_total          counter: incremental commits
//   halfsky_aggregation_commit_seconds         histogram: one commit's MULTI/EXEC
//                                              (rendering included), successful ones
//   halfsky_aggregation_rebuilds_total         counter: full rewrites of the cache
//   halfsky_aggregation_catchups_total         counter: catch-ups of a cursor found
//                                              behind (writes lost by Redis)
//   halfsky_aggregation_builds_total           counter: builds from sequence 0
//   halfsky_aggregation_redis_errors_total     counter: failed Redis operations
//   halfsky_aggregation_stream_reconnects_total counter: WatchChanges reconnects
//   halfsky_aggregation_ready                  gauge: 1 once the first build is done
//
// Thread-safety: public methods are thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/metrics/metrics.h"
#include "common/redis/redis_client.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/aggregation.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "services/aggregation/aggregator.h"
#include "services/aggregation/redis_writer.h"

namespace halfsky::aggregation {

// The Aggregator readers see. The follower is its only writer.
class AggregationState {
 public:
  explicit AggregationState(std::shared_ptr<const CatalogIndex> catalog);

  // Runs `fn` with the current aggregates under a shared lock; returns what
  // it returns. Do not block inside.
  template <typename Fn>
  auto Read(Fn fn) const {
    absl::ReaderMutexLock lock(&mu_);
    return fn(*agg_);
  }
  // As Read, and passes the version of the aggregates `fn` sees too:
  // fn(const Aggregator&, int64_t version).
  template <typename Fn>
  auto ReadVersioned(Fn fn) const {
    absl::ReaderMutexLock lock(&mu_);
    return fn(*agg_, version_);
  }
  // Raised by every Mutate and Swap: equal versions mean equal aggregates
  // (the key of the service's response cache, common/server/response_cache.h).
  int64_t version() const;
  // True once the first build from the feed completed.
  bool ready() const;

  // ---- For the follower (the single writer) ----
  template <typename Fn>
  void Mutate(Fn fn) {
    absl::WriterMutexLock lock(&mu_);
    ++version_;
    fn(*agg_);
  }
  void Swap(std::unique_ptr<Aggregator> agg);
  // The writer may read without the lock (no one else mutates).
  const Aggregator& WriterView() const ABSL_NO_THREAD_SAFETY_ANALYSIS { return *agg_; }

 private:
  mutable absl::Mutex mu_;
  std::unique_ptr<Aggregator> agg_ ABSL_GUARDED_BY(mu_);
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  int64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

struct FollowerOptions {
  absl::Duration backoff_min = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(5);
  // Most revisions applied per commit (passed by at most one message's
  // events: messages are taken whole).
  int max_batch = 20000;
  // Revisions queued between the stream and the follower.
  int queue_capacity = 50000;
  // While idle, check the Redis cursor this often (detects FLUSHALL).
  absl::Duration cursor_check_interval = absl::Seconds(1);
  // Sent as "authorization: Bearer <token>" on WatchChanges when non-empty.
  std::string submission_token;
  // Where to record the metrics listed above (not owned; must outlive the
  // follower). Null: none. The service passes halfsky::ServiceMetrics().
  MetricsRegistry* metrics = nullptr;
  // HMAC key of the cached values (common/cache/cache_layout.h, SealSeriesValue); the
  // readers (evaluation) need the same. Empty: an unkeyed checksum only.
  std::string cache_mac_key;
  // Called (on the follower thread, at most once) when a write was refused
  // because a newer leader owns the cache (RedisWriter::IsLeaderSuperseded;
  // only after EnableWrites(leader_epoch > 0)). The follower stops writing; the
  // owner is expected to stop it and exit.
  std::function<void(const absl::Status&)> on_superseded;
};

struct FollowerStatus {
  int64_t applied_sequence = 0;         // last revision applied in memory
  int64_t committed_sequence = 0;       // cursor acknowledged by Redis (-1: none yet)
  int64_t applied_form_sequence = 0;    // last form change applied in memory
  int64_t committed_form_sequence = 0;  // form cursor acknowledged by Redis (-1: none yet)
  bool ready = false;                   // first build done
  bool redis_ok = false;                // last Redis operation succeeded
  bool stream_connected = false;
  int64_t commits = 0;
  int64_t rewrites = 0;  // full rewrites of the cache
  int64_t catchups = 0;  // cursor found behind, lost range re-committed
  int64_t builds = 0;    // builds from sequence 0
};

class Follower {
 public:
  // `redis` and `state` are not owned and must outlive the follower.
  Follower(std::shared_ptr<const CatalogIndex> catalog, std::shared_ptr<grpc::Channel> submission,
           RedisClient* redis, AggregationState* state, FollowerOptions options = {});
  ~Follower();  // Stop()s.
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Starts following and writing: the only aggregator (unfenced).
  void Start();
  // A warm standby (one of several replicas, not yet elected): builds from
  // the feed and keeps following it in memory (reads are served), but
  // writes nothing to Redis until EnableWrites. Rebuild is refused.
  void StartStandby();
  // The standby was elected with `leader_epoch` (> 0: the first Redis
  // sync claims the cache for it, RedisWriter::ClaimFence, retried like any
  // Redis error; every write is fenced by it and a refused write stops all
  // further writes and calls FollowerOptions::on_superseded): from now on
  // it writes. The first sync compares the cache with memory
  // and commits exactly what the cache lacks (a catch-up from the old
  // leader's cursor), so a takeover costs no build. Idempotent.
  void EnableWrites(int64_t leader_epoch);
  // Cancels the stream and joins the thread. Pending rebuild callbacks get
  // UNAVAILABLE. Idempotent.
  void Stop();

  // Full recompute from sequence 0 and rewrite of the cache. `done` runs on
  // the follower thread when finished (or with the error of the attempt);
  // at once with UNAVAILABLE when the follower does not write (a standby
  // replica: not started, or StartStandby without EnableWrites) or is
  // stopping.
  void RequestRebuild(std::function<void(absl::StatusOr<halfsky::v1::RebuildResponse>)> done);

  FollowerStatus status() const;
  // Waits until Redis acknowledged a cursor >= `sequence` (tests, tools).
  bool WaitForCommitted(int64_t sequence, absl::Duration timeout) const;
  // Waits until Redis acknowledged a form cursor >= `form_sequence`.
  bool WaitForFormCommitted(int64_t form_sequence, absl::Duration timeout) const;

 private:
  class ChangeStream;
  class ChangeBatch;
  enum class Sync { kNone, kCompare, kFull };

  void Run();
  // Builds a fresh Aggregator from sequence 0 on a new stream (left in
  // *stream for following); events after the first heartbeat go to *carry.
  absl::StatusOr<std::unique_ptr<Aggregator>> BuildFromZero(std::unique_ptr<ChangeStream>* stream,
                                                            ChangeBatch* carry, int64_t* applied,
                                                            int64_t* applied_form);
  absl::Status SyncRedis(Sync mode);
  absl::Status CommitPending();
  // Redis' position is not our last commit `committed`: sets sync_ to a
  // catch-up (kCompare) or a full rewrite, as the position tells (see above).
  void ForeignCursor(const std::optional<CachePosition>& cursor, const CachePosition& committed);
  void ApplyEvents(const std::vector<const halfsky::v1::ChangeEvent*>& events);
  void Publish(const cache::UpdateMessage& message);
  // Sleeps up to `d`; false if stopping.
  bool Sleep(absl::Duration d);
  void NextBackoff();
  bool Stopping() const;
  void SetRedisOk(bool ok);
  // Records a failed Redis operation (metrics, status); a write refused by
  // the fence ends the follower's writing (superseded_).
  void RedisFailed(const absl::Status& st);
  // Refreshes the cursor / head / lag gauges from status_.
  void UpdateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishRebuilds(const absl::StatusOr<halfsky::v1::RebuildResponse>& result);

  const std::shared_ptr<const CatalogIndex> catalog_;
  const std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<halfsky::v1::SubmissionService::Stub> stub_;
  AggregationState* const state_;
  RedisWriter writer_;
  const FollowerOptions options_;

  struct Metrics {
    Gauge* cursor = nullptr;
    Gauge* applied = nullptr;
    Gauge* head = nullptr;
    Gauge* lag = nullptr;
    Gauge* ready = nullptr;
    Counter* commits = nullptr;
    Histogram* commit_seconds = nullptr;
    Counter* rebuilds = nullptr;
    Counter* builds = nullptr;
    Counter* redis_errors = nullptr;
    Counter* reconnects = nullptr;
    Counter* catchups = nullptr;
  };
  // All null without FollowerOptions::metrics.
  Metrics metrics_;

  // Follower-thread only.
  ChangeSet pending_;
  // The last BuildFromZero's phases (logged when a Rebuild is answered).
  struct BuildTimes {
    absl::Duration first_event;  // stream opened -> first event received
    absl::Duration replay;       // stream opened -> backlog drained (heartbeat)
    absl::Duration recompute;    // RecomputeAll
    int64_t revisions = 0;
  };
  BuildTimes build_times_;
  int64_t head_ = 0;  // feed head as last seen
  int64_t applied_ = 0;
  int64_t applied_form_ = 0;  // last form change applied
  int64_t form_head_ = 0;     // form feed head as last seen
  // A form change was applied since the last commit: commit the form
  // cursor even when no cell changed.
  bool form_pending_ = false;
  // Positions of commits since the last acknowledged one whose outcome is
  // unknown (UNAVAILABLE mid-commit).
  std::vector<CachePosition> unknown_attempts_;
  // The revision sequence of this process' last full rewrite (-1: none): a
  // Redis cursor below it predates the rewrite and cannot be caught up. (The
  // form cursor needs no floor: any form cursor other than the applied one
  // forces a rewrite.)
  int64_t rewrite_floor_ = -1;
  Sync sync_ = Sync::kNone;
  bool feed_reset_ = false;
  absl::Duration backoff_;

  mutable absl::Mutex mu_;
  mutable absl::CondVar cv_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  // False for a standby until EnableWrites (set before the writer is used).
  std::atomic<bool> writes_enabled_{false};
  // Follower thread only: the fence was claimed (EnableWrites(epoch > 0));
  // a write was refused by the fence (nothing more is written).
  bool fence_claimed_ = false;
  bool superseded_ = false;
  std::vector<std::function<void(absl::StatusOr<halfsky::v1::RebuildResponse>)>> rebuilds_
      ABSL_GUARDED_BY(mu_);
  FollowerStatus status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace halfsky::aggregation

#endif  // HALFSKY_SERVICES_AGGREGATION_FOLLOWER_H_
