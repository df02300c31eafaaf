#ifndef HALFSKY_SERVICES_AGGREGATION_REDIS_WRITER_H_
#define HALFSKY_SERVICES_AGGREGATION_REDIS_WRITER_H_

// Writes aggregates from an Aggregator into Redis using the layout of
// common/cache/cache_layout.h.
//
// Commit: ONE MULTI/EXEC holding
//     GET cursor                         (what the cursor was: the caller checks it)
//     SET series-key value               (one per changed series: its whole value)
//     HSET index-key field "" ...        (one per indicator with changed series)
//     SET cursor N [XX]                  (XX unless the caller creates the cursor)
//     INCR version
// so the series and the cursor change together. With XX a cursor that has
// vanished (FLUSHALL, a new empty Redis) is NOT recreated: the cache stays
// marked invalid until the caller rewrites everything, and the returned
// previous cursor (nullopt) tells it to.
//
// Guarded commit (`base_ok` set; what the follower uses): instead of the GET
// inside the MULTI, the cursor is read first under WATCH
// (RedisClient::GuardedTransaction) and the MULTI/EXEC runs only if
// `base_ok(cursor)` accepts it and the cursor did not change before EXEC.
// A cache whose cursor is not the writer's base — a Redis that lost the last
// commits in a failover (a replica promoted before it received them), a
// restore from an older snapshot, a FLUSHALL — is therefore never written
// over: its cursor is not moved past writes it does not hold. The result
// says so (applied = false, previous_cursor = what Redis holds; nullopt for
// absent or malformed) and the caller reconciles. One more round trip than
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
//   4. One MULTI/EXEC of SET cursor + INCR version.
// Readers never see a cursor next to half-written series: the cursor is
// absent from step 1 until step 4.
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

class RedisWriter {
 public:
  // `redis` is not owned and must outlive the writer.
  // `mac_key` tags every series value (SealSeriesValue); readers need the
  // same key.
  explicit RedisWriter(RedisClient* redis, std::string mac_key = "")
      : redis_(redis), mac_key_(std::move(mac_key)) {}

  // The cursor, or nullopt if absent. FAILED_PRECONDITION if it is not an
  // integer.
  absl::StatusOr<std::optional<int64_t>> ReadCursor();

  struct CommitResult {
    // The cursor as it was just before this commit (nullopt: absent).
    std::optional<int64_t> previous_cursor;
    // False only for a guarded commit whose base check refused the cursor:
    // nothing was written.
    bool applied = true;
    int64_t version = 0;
  };
  // Accepts (true) or refuses the cursor Redis holds (nullopt: absent) as
  // the base of a commit.
  using BaseCheck = std::function<bool(const std::optional<int64_t>&)>;
  // `cells` must belong to `agg`; cells without a figure are skipped.
  // Unguarded when `base_ok` is empty (see the top of this file).
  // ABORTED: the cursor changed between the guard's read and EXEC (nothing
  // written; retry).
  absl::StatusOr<CommitResult> Commit(const Aggregator& agg, const std::vector<CellId>& cells,
                                      int64_t cursor, bool create_cursor,
                                      const BaseCheck& base_ok = nullptr);

  struct RewriteResult {
    int64_t aggregate_count = 0;
    int64_t version = 0;
    std::vector<std::string> indicator_ids;  // with aggregates, sorted
  };
  absl::StatusOr<RewriteResult> RewriteAll(const Aggregator& agg, int64_t cursor);

  // PUBLISH on kUpdatesChannel.
  absl::Status Publish(const cache::UpdateMessage& message);

  // Series (SET commands) per pipeline round trip in RewriteAll; >= 1.
  void set_pipeline_chunk(int n) { pipeline_chunk_ = n < 1 ? 1 : n; }

 private:
  RedisClient* const redis_;
  const std::string mac_key_;
  int pipeline_chunk_ = 1024;
};

}  // namespace halfsky::aggregation

#endif  // HALFSKY_SERVICES_AGGREGATION_REDIS_WRITER_H_
