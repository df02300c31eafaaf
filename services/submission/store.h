#ifndef HALFSKY_SERVICES_SUBMISSION_STORE_H_
#define HALFSKY_SERVICES_SUBMISSION_STORE_H_

// The submission service's system of record, behind a backend-neutral
// interface (SQLite today, PostgreSQL later).
//
// Contract every implementation keeps:
//
// - Atomicity: one WriteRequest is all-or-nothing. Either every value in it
//   is applied (created/revised/unchanged) and its request id recorded, or
//   nothing of it is visible, ever.
// - Durability: `done` is called with OK only after the request's effects
//   are durably committed (they survive a process crash or power loss the
//   backend is configured to survive: SQLite WAL with synchronous=FULL).
//   "Acknowledged" therefore means "committed".
// - Sequences: every new revision gets a change-feed sequence. Sequences are
//   assigned at commit, strictly increasing, without gaps across committed
//   revisions (a request that fails consumes none), and a reader never sees
//   sequence n+1 committed without sequence n.
// - Idempotency: (principal, request_id) identifies a request. A request
//   whose id was already committed with the same payload_hash gets the
//   stored reply back with replayed = true and writes nothing; with a
//   different payload_hash it fails with ALREADY_EXISTS.
// - Revisions are append-only; a value identical to the key's current
//   revision (payload, source and note) is UNCHANGED and adds nothing.
// - Withdrawal: a ValueToWrite with `withdraw` appends a withdrawal revision
//   (Revision.withdrawn) to a key that has a value; the key then has no
//   current value (ListCurrent skips it) until a later write, which is a
//   new revision (REVISED). Withdrawing a withdrawn key is UNCHANGED. A
//   unit's reporting time of (year, indicator) is dropped when a withdrawal
//   leaves it no current value of that indicator and year written on its
//   behalf (or of its own narrative), so it has not reported it any more; a
//   later write reports it anew (first_at = that write).
// - Deadline and chains: a request the committer reaches after its deadline,
//   or whose chain is broken, fails and writes nothing (see WriteRequest).
// - Thread-safety: every method may be called from any thread concurrently.
//   Write callbacks run on an internal thread and must not block.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/arena.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky::submission {

// One value to write: already validated, authorized and normalized (sex and
// residence never UNSPECIFIED; key.unit_code set for every narrative, empty
// for every figure: it is part of the key).
struct ValueToWrite {
  halfsky::v1::DataValue value;
  // Member unit on whose behalf it is written ("" for statistics/admin).
  std::string unit_code;
  // Deterministic serialization of `value` (what the store keeps and
  // compares for UNCHANGED), or empty: the store then computes it. Callers
  // that already serialized the value (for the payload hash) pass it so
  // that the single committer thread does not serialize again.
  std::string encoded;
  // Withdraw the key's current value instead of writing one: `value` holds
  // only the key (normalized as above), `change_reason` is required.
  bool withdraw = false;
  // Kept on the new revision (Revision.change_reason), never compared and
  // not part of `encoded` (value.change_reason must be empty).
  std::string change_reason;
};

// Links the requests of one ordered sequence (one SubmitStream): once one
// of them fails (any error, including a group's storage failure), or
// Break() is called, every request of the chain the committer has not yet
// applied fails with ABORTED and writes nothing. Requests of a chain must
// be passed to Write() in order. Thread-safe.
class WriteChain {
 public:
  void Break() { broken_.store(true, std::memory_order_release); }
  bool broken() const { return broken_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> broken_{false};
};

struct WriteRequest {
  // Principal name (the idempotency scope and Revision.submitted_by).
  std::string principal;
  std::string request_id;
  // Identifies the payload for idempotency (e.g. SHA-256 of the normalized
  // values); compared byte for byte.
  std::string payload_hash;
  std::vector<ValueToWrite> values;
  // When false, the reply's results carry no `key` (callers that only need
  // counts and sequences, e.g. SubmitStream acknowledgements, save copying
  // every key).
  bool reply_keys = true;
  // When the committer reaches the request after this time (real time,
  // absl::Now(), as gRPC deadlines are), it fails with DEADLINE_EXCEEDED and
  // writes nothing. The check is made when the request is applied, just
  // before its group's COMMIT, so a deadline that passes during the commit
  // itself or on the way back is not caught: the caller must treat a
  // deadline error as "unknown" and retry with the same request id.
  absl::Time deadline = absl::InfiniteFuture();
  // Optional; see WriteChain.
  std::shared_ptr<WriteChain> chain;
  // Optional: checked by the committer when it applies the request, after
  // the chain and deadline and before anything is buffered, serialized with
  // every other write; an error fails the request with it and writes
  // nothing (the review workflow's lock of approved forms). Must be cheap,
  // must not block and must not call into the store.
  std::function<absl::Status(const WriteRequest&)> precondition;
};

// Called exactly once per Write, on an internal thread, after the commit
// (or failure). Must not block.
//
// On success the reply has one result per value in request order (with its
// key unless WriteRequest::reply_keys is false), the
// sequence range of the new revisions ((0,0) if none), counts, committed_at
// and replayed. A withdrawal's result is WRITE_OUTCOME_WITHDRAWN (counted in
// withdrawn_count) or UNCHANGED (already withdrawn).
// Errors:
//   DEADLINE_EXCEEDED   reached after WriteRequest::deadline.
//   ABORTED             WriteRequest::chain was broken (an earlier request
//                       of the chain failed, or Break()).
//   NOT_FOUND           a withdrawal names a key that never had a value
//                       (ErrorInfo reason "NO_SUCH_VALUE"; the message
//                       names every such key by its index in `values`).
//   RESOURCE_EXHAUSTED  the disk (or the database's size limit) is full
//                       (ErrorInfo reason "STORAGE_FULL"); the whole group
//                       failed and nothing of it was committed. Not
//                       transient: retrying only helps once space is freed.
//   ALREADY_EXISTS      request id reused with a different payload
//                       (ErrorInfo reason "REQUEST_ID_REUSED").
//   FAILED_PRECONDITION a value's year is locked (ErrorInfo reason
//                       "YEAR_LOCKED" and a google.rpc.PreconditionFailure
//                       naming each locked year), or
//                       WriteRequest::precondition refused it (its status).
//   UNAVAILABLE         the store is closing, or a transient fault (busy);
//                       nothing of the request was committed.
//   INTERNAL            the backend failed in a non-transient way; nothing
//                       of the request was committed.
using WriteCallback = std::function<void(absl::StatusOr<halfsky::v1::SubmitBatchResponse>)>;

// Filter for current values. Empty vectors mean "any".
struct CurrentFilter {
  std::vector<std::string> indicator_ids;
  std::vector<std::string> area_codes;
  std::vector<int> years;
  // Only keys whose current revision was written on behalf of this unit,
  // and this unit's own narratives (DataKey.unit_code), whoever wrote their
  // current revision.
  std::string unit_code;
};

struct CurrentPage {
  std::vector<halfsky::v1::Revision> revisions;
  // Opaque cursor for the next page; 0 when this was the last page.
  int64_t next_cursor = 0;
};

// First and last time a unit wrote (created or revised) a value of an
// indicator for a year.
struct ReportingTimes {
  std::string unit_code;
  std::string indicator_id;
  int year = 0;
  absl::Time first_at;
  absl::Time last_at;
};

struct YearLocks {
  // Current state of every year that was ever locked, by year.
  std::vector<halfsky::v1::YearLock> current;
  // Every change, oldest first.
  std::vector<halfsky::v1::YearLock> history;
};

class SubmissionStore {
 public:
  virtual ~SubmissionStore() = default;

  // Queues `request` for the next group commit; `done` gets the result.
  virtual void Write(WriteRequest request, WriteCallback done) = 0;

  // Write() and wait for its result.
  absl::StatusOr<halfsky::v1::SubmitBatchResponse> WriteAndWait(WriteRequest request);

  // Locks (locked = true) or unlocks a year, durably, serialized with writes
  // (a write committed after the lock fails). Setting the state the year
  // already has changes nothing and returns the current state. Errors:
  // UNAVAILABLE / INTERNAL as for Write.
  virtual absl::StatusOr<halfsky::v1::YearLock> SetYearLock(int year, bool locked,
                                                            const std::string& principal,
                                                            const std::string& reason) = 0;
  virtual absl::StatusOr<YearLocks> ListYearLocks() = 0;

  // Current revision of keys matching `filter` (withdrawn keys skipped), in
  // a stable order, starting
  // after `cursor` (0 = from the start), at most `limit`.
  virtual absl::StatusOr<CurrentPage> ListCurrent(const CurrentFilter& filter, int64_t cursor,
                                                  int limit) = 0;

  // Every revision of one key (normalized, unit_code included), oldest
  // first, withdrawals included; empty if unknown.
  virtual absl::StatusOr<std::vector<halfsky::v1::Revision>> History(
      const halfsky::v1::DataKey& key) = 0;

  // Committed revisions with sequence > after_sequence, in sequence order,
  // at most `limit`: always a gapless run starting at after_sequence + 1
  // (each read sees one committed state, and commits are gapless).
  virtual absl::StatusOr<std::vector<halfsky::v1::Revision>> ReadChanges(int64_t after_sequence,
                                                                         int limit) = 0;
  // As ReadChanges, each revision owned by `arena` (not null; valid until
  // it is reset or destroyed), and bounded in bytes as well as in count:
  // no revision is added once those taken hold `max_bytes` or more (a
  // revision's bytes: its serialized DataValue plus its change reason), so
  // the first is always taken and a page holds less than `max_bytes` plus
  // one revision however large the revisions are (a narrative with its
  // evidence may pass 50 KB). For the change feed, which reads every
  // revision in a Rebuild: built on the heap, their allocations and frees
  // were a third of its thread's CPU. This default hands ReadChanges'
  // heap revisions to the arena (Arena::Own: a caller must not assume
  // GetArena() == arena), reading ReadChanges in chunks of at most 500
  // (what it holds while reading; the rest of the last chunk is dropped and
  // read again by the next page); a store that can build them on the arena
  // directly overrides it.
  virtual absl::StatusOr<std::vector<halfsky::v1::Revision*>> ReadChangesOnArena(
      int64_t after_sequence, int limit, size_t max_bytes, google::protobuf::Arena* arena);

  // Highest committed sequence (0 when empty).
  virtual int64_t HeadSequence() const = 0;

  // `listener(head)` is called on the committing thread after every commit
  // that advanced the head. Must be cheap and never block (e.g. bump a
  // counter and signal a condition variable). Replaces any earlier listener;
  // pass nullptr to remove. Thread-safe.
  virtual void SetCommitListener(std::function<void(int64_t head)> listener) = 0;

  // Submission times for `year` (all units).
  virtual absl::StatusOr<std::vector<ReportingTimes>> ListReportingTimes(int year) = 0;
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_STORE_H_
