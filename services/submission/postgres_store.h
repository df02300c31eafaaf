#ifndef HALFSKY_SERVICES_SUBMISSION_POSTGRES_STORE_H_
#define HALFSKY_SERVICES_SUBMISSION_POSTGRES_STORE_H_

// SubmissionStore on PostgreSQL (common/postgres), for several submission
// replicas on one database. Same contract as SqliteSubmissionStore
// (store.h); what differs is how it is kept when other processes write too.
//
// One writer at a time, across every replica: each group commit is one
// transaction that first takes a transaction-level advisory lock
// (pg_advisory_xact_lock(kWriteLockKey)), released by COMMIT/ROLLBACK. Under
// it the group reads what it decides on from the database itself (head
// sequence, next key id, year locks, the stored requests and the current
// revision of every key it touches: one query each, however many values),
// so idempotency, revisions and year locks are right whichever replica
// wrote before. Sequences are MAX(sequence)+1 under the lock: gapless, and
// because PostgreSQL makes a transaction visible before it releases its
// locks, the next writer's sequences are always committed after (visible
// after) the previous ones. A follower reading "sequence > N" can therefore
// never miss a late committer: there are no concurrent committers. The
// cost is that replicas' write transactions do not overlap (groups do grow
// with concurrency, as on SQLite); see docs/BENCHMARKS.md.
//
// Durability: COMMIT returns after the server flushed its WAL
// (synchronous_commit=on, set on the writer session); only then is any
// request answered. Acknowledged = committed.
//
// The head and the commit listener follow every replica: a commit NOTIFYs
// channel halfsky_changes with its head (delivered at COMMIT); a listener
// thread with its own connection LISTENs (and re-reads MAX(sequence) every
// Options::head_poll_interval and after a reconnect, in case a
// notification was lost), raising HeadSequence() and calling the listener.
//
// Reads use a pool of connections, one statement per read (one snapshot).
// A broken connection is re-opened on its next use. Errors are mapped by
// common/postgres (UNAVAILABLE when the server is unreachable, ...).
//
// Schema: versioned migrations (schema_version, common/postgres/migrations.h)
// at Open, under an advisory lock so replicas starting together migrate once.
// Version 1 is the SQLite schema's version 6 shape; the review tables are
// included (postgres_review_store.h).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock/clock.h"
#include "common/postgres/postgres.h"
#include "halfsky/v1/review.pb.h"
#include "services/submission/store.h"

namespace halfsky::submission {

// The advisory lock key every writer of the submission tables takes (the
// review store's transitions too, so approvals are ordered with writes).
inline constexpr int64_t kSubmissionWriteLockKey = 0x68616c66736b7901;  // "halfsky\x01"

class PostgresSubmissionStore final : public SubmissionStore {
 public:
  struct Options {
    // libpq URI / conninfo (no password in it).
    std::string conninfo;
    // "" = libpq's environment (PGPASSWORD / PGPASSFILE).
    std::string password;
    // Source of committed_at; not owned, must outlive the store.
    Clock* clock = nullptr;
    int read_connections = 4;
    int max_group_values = 50000;
    absl::Duration head_poll_interval = absl::Seconds(1);
    // Called on the committer thread, under the write lock, at the start of
    // every group whose transaction sees a review_epoch different from the
    // previous group's, with the keys (unit, area, year) of every approved
    // form: the write precondition's approval locks then follow approvals
    // made on any replica before the group. Must not call into the store.
    std::function<void(const std::vector<halfsky::v1::FormKey>& approved)> on_approvals;
  };

  // Connects, migrates, loads the head, starts the threads. Errors:
  // INVALID_ARGUMENT (no clock, password in the conninfo); UNAVAILABLE
  // (server unreachable); FAILED_PRECONDITION (schema newer than this code,
  // authentication); INTERNAL (a migration failed).
  static absl::StatusOr<std::unique_ptr<PostgresSubmissionStore>> Open(const Options& options);
  ~PostgresSubmissionStore() override;

  static int LatestSchemaVersion();

  void Write(WriteRequest request, WriteCallback done) override;
  absl::StatusOr<halfsky::v1::YearLock> SetYearLock(int year, bool locked,
                                                    const std::string& principal,
                                                    const std::string& reason) override;
  absl::StatusOr<YearLocks> ListYearLocks() override;
  absl::StatusOr<CurrentPage> ListCurrent(const CurrentFilter& filter, int64_t cursor,
                                          int limit) override;
  absl::StatusOr<std::vector<halfsky::v1::Revision>> History(
      const halfsky::v1::DataKey& key) override;
  absl::StatusOr<std::vector<halfsky::v1::Revision>> ReadChanges(int64_t after_sequence,
                                                                 int limit) override;
  int64_t HeadSequence() const override;
  void SetCommitListener(std::function<void(int64_t head)> listener) override;
  absl::StatusOr<std::vector<ReportingTimes>> ListReportingTimes(int year) override;

  int64_t commit_count() const;

 private:
  struct Op;
  class Group;
  class ReaderPool;

  explicit PostgresSubmissionStore(const Options& options);
  void CommitLoop();
  void CommitGroup(std::vector<std::unique_ptr<Op>>& group);
  void ListenLoop();
  // Raises the head to `head` (if higher) and calls the listener.
  void AdvanceHead(int64_t head);
  void Enqueue(std::unique_ptr<Op> op);

  const Options options_;
  postgres::Connection writer_;  // committer thread only
  int64_t review_epoch_ = -1;    // committer thread only
  std::unique_ptr<ReaderPool> readers_;

  mutable absl::Mutex queue_mu_;
  std::vector<std::unique_ptr<Op>> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool closing_ ABSL_GUARDED_BY(queue_mu_) = false;

  mutable absl::Mutex head_mu_;
  int64_t head_ ABSL_GUARDED_BY(head_mu_) = 0;
  int64_t commits_ ABSL_GUARDED_BY(head_mu_) = 0;
  std::function<void(int64_t)> listener_ ABSL_GUARDED_BY(head_mu_);
  bool listen_closing_ ABSL_GUARDED_BY(head_mu_) = false;

  std::thread committer_;
  std::thread listener_thread_;
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_POSTGRES_STORE_H_
