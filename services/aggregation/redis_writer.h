#ifndef HALFSKY_SERVICES_AGGREGATION_REDIS_WRITER_H_
#define HALFSKY_SERVICES_AGGREGATION_REDIS_WRITER_H_

// Writes aggregates from an Aggregator into Redis using the layout of
// common/cache/cache_layout.h.
//
// Commit: ONE MULTI/EXEC holding
//     GET cursor, GET form_cursor        (what they were: the caller checks them)
//     SET series-key value               (one per changed series: its whole value)
//     HSET index-key field "" ...        (one per indicator with changed series)
//     SET cursor N [XX]                  (XX unless the caller creates the cursor)
//     SET form_cursor F [XX]             (the review forms' position, likewise)
//     INCR version
// so the series and the cursor change together. With XX a cursor that has
// vanished (FLUSHALL, a new empty Redis) is NOT recreated: the cache stays
// marked invalid until the caller rewrites everything, and the returned
// previous cursor (nullopt) tells it to.
//
// Guarded commit (`base_ok` set; what the follower uses): instead of the GETs
// inside the MULTI, the position (cursor and form cursor) is read first
// under WATCH of both keys (RedisClient::GuardedTransaction) and the
// MULTI/EXEC runs only if `base_ok(position)` accepts it and neither key
// changed before EXEC.
// A cache whose cursor is not the writer's base — a Redis that lost the last
// commits in a failover (a replica promoted before it received them), a
// restore from an older snapshot, a FLUSHALL — is therefore never written
// over: its cursor is not moved past writes it does not hold. The result
// says so (applied = false, previous_cursor = what Redis holds; nullopt for
// absent — either key — or malformed) and the caller reconciles. One more round trip than
// the unguarded commit.
//
// RewriteAll:
//   1. DEL cursor: the cache is invalid from here on.
//   2. Delete every other aggregate key: one SCAN of "halfsky:agg:*"
//      (cache::kAnyLayoutKeyPattern), then
//      pipelined UNLINKs of all but the version counter and the series
//      step 3 overwrites anyway (leftover keys of the previous layout
//      included).
//   3. Write every aggregate: ONE SET per series carrying all its years,
//      pipelined `pipeline_chunk` series per round trip. A second thread
//      renders and serializes chunk k+1 while chunk k is in flight, so the
//      CPU work of this process overlaps Redis' (and the network's).
//   4. One MULTI/EXEC of SET cursor + SET form_cursor + INCR version.
// Readers never see a cursor next to half-written series: the cursor is
// absent from step 1 until step 4.
//
// Fencing (several aggregation replicas, one leader; common/election): with
// a fence epoch set (set_fence_epoch), every write — Commit, and each step
// of RewriteAll (the DEL, every chunk, the final MULTI/EXEC) — runs as a
// MULTI/EXEC under WATCH of cache::kLeaderEpochKey, and only while that key
// holds exactly this epoch. A replica that was succeeded (a newer leader
// claimed the key) writes nothing more: the call fails with
// FAILED_PRECONDITION, ErrorInfo reason LEADER_SUPERSEDED
// (IsLeaderSuperseded). A RewriteAll cut short that way leaves the cache
// invalid (cursor absent) for the new leader to rewrite. A key found
// absent, malformed or holding an OLDER epoch (Redis lost it: a FLUSHALL, a
// failover that lost writes — after which a predecessor may have claimed it
// back) is claimed again (ClaimFence) and the write retried once: the
// newest leader always wins the key back at its next write, and a
// predecessor's writes in between are caught by the cursor guard like any
// foreign writer's. Without a fence epoch (one aggregator) nothing
// changes.
//
// Values are stored in the format of cache_layout.h (AppendStoredAggregate,
// then SealSeriesValue with the writer's MAC key).
//
// Errors: the RedisClient's (UNAVAILABLE when Redis is down — a commit may
// or may not have been applied; both are safe to retry since SET of the
// same values is idempotent). A failed RewriteAll leaves the cursor absent.
// Nothing is retried here.
//
// Thread-compatible; the Aggregator must not change during a call (RewriteAll
// reads it from two threads).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cache/cache_layout.h"
#include "common/redis/redis_client.h"
#include "services/aggregation/aggregator.h"

namespace halfsky::aggregation {

// Where the cache stands in the change feed: every revision with sequence
// <= `sequence` and every form change with form_sequence <= `form_sequence`
// is reflected (cache_layout.h: cursor and form_cursor).
struct CachePosition {
  // Implicit from a revision sequence alone (no form change yet), so that
  // callers without review forms read as before.
  CachePosition(int64_t seq = 0, int64_t form_seq = 0)  // NOLINT(runtime/explicit)
      : sequence(seq), form_sequence(form_seq) {}
  int64_t sequence;
  int64_t form_sequence;
  bool operator==(const CachePosition& o) const {
    return sequence == o.sequence && form_sequence == o.form_sequence;
  }
  bool operator!=(const CachePosition& o) const { return !(*this == o); }
};

class RedisWriter {
 public:
  // `redis` is not owned and must outlive the writer.
  // `mac_key` tags every series value (SealSeriesValue); readers need the
  // same key.
  explicit RedisWriter(RedisClient* redis, std::string mac_key = "")
      : redis_(redis), mac_key_(std::move(mac_key)) {}

  // The cursor and form cursor, or nullopt if either is absent (a cache
  // written before form changes were tracked counts as absent).
  // FAILED_PRECONDITION if one is not an integer.
  absl::StatusOr<std::optional<CachePosition>> ReadCursor();

  struct CommitResult {
    // The position just before this commit (nullopt: a cursor was absent).
    std::optional<CachePosition> previous_cursor;
    // False only for a guarded commit whose base check refused the
    // position: nothing was written.
    bool applied = true;
    int64_t version = 0;
  };
  // Accepts (true) or refuses the position Redis holds (nullopt: absent) as
  // the base of a commit.
  using BaseCheck = std::function<bool(const std::optional<CachePosition>&)>;
  // `cells` must belong to `agg`; cells without a figure are skipped.
  // Unguarded when `base_ok` is empty (see the top of this file).
  // ABORTED: the cursor or form cursor changed between the guard's read and
  // EXEC (nothing written; retry).
  absl::StatusOr<CommitResult> Commit(const Aggregator& agg, const std::vector<CellId>& cells,
                                      CachePosition cursor, bool create_cursor,
                                      const BaseCheck& base_ok = nullptr);

  struct RewriteResult {
    int64_t aggregate_count = 0;
    int64_t version = 0;
    std::vector<std::string> indicator_ids;  // with aggregates, sorted
  };
  absl::StatusOr<RewriteResult> RewriteAll(const Aggregator& agg, CachePosition cursor);

  // Fences every later write with `epoch` (> 0; see the top of this file).
  // Not thread-safe against concurrent writes: set it before the first.
  void set_fence_epoch(int64_t epoch) { fence_epoch_ = epoch; }
  int64_t fence_epoch() const { return fence_epoch_; }
  // Makes the fence epoch the cache's owner: SET kLeaderEpochKey to it,
  // under WATCH, unless the key already holds an epoch >= it (then
  // FAILED_PRECONDITION, LEADER_SUPERSEDED: a newer leader exists). A
  // malformed key is overwritten. Errors: the RedisClient's.
  absl::Status ClaimFence();
  // True for the error of a write refused by the fence.
  static bool IsLeaderSuperseded(const absl::Status& status);

  // PUBLISH on kUpdatesChannel.
  absl::Status Publish(const cache::UpdateMessage& message);

  // Series (SET commands) per pipeline round trip in RewriteAll; >= 1.
  void set_pipeline_chunk(int n) { pipeline_chunk_ = n < 1 ? 1 : n; }

 private:
  RedisClient* const redis_;
  const std::string mac_key_;
  int pipeline_chunk_ = 1024;
  int64_t fence_epoch_ = 0;

  // `commands` in one MULTI/EXEC, fenced when a fence epoch is set (then
  // LEADER_SUPERSEDED when refused). Returns EXEC's replies.
  absl::StatusOr<std::vector<RedisReply>> FencedTransaction(
      const std::vector<std::vector<std::string>>& commands);
  // The error of a refused fenced write; `holder` is what the key held.
  absl::Status Superseded(const std::optional<std::string>& holder) const;
  // Whether the fence key's text is this writer's epoch.
  bool FenceIsOurs(const std::optional<std::string>& text) const;
  // Whether a refused write may claim the key back: absent, malformed, or
  // an older epoch than ours.
  bool MayReclaim(const std::optional<std::string>& holder) const;
};

}  // namespace halfsky::aggregation

#endif  // HALFSKY_SERVICES_AGGREGATION_REDIS_WRITER_H_
