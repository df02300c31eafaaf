#ifndef HALFSKY_SERVICES_SUBMISSION_SQLITE_STORE_H_
#define HALFSKY_SERVICES_SUBMISSION_SQLITE_STORE_H_

// SubmissionStore on an embedded SQLite file.
//
// Durability: WAL journal, synchronous=FULL; a reply is given only after
// COMMIT returned (the WAL is fsynced).
//
// Group commit: Write() enqueues. One committer thread takes everything
// queued (up to Options::max_group_values values), applies each request
// inside its own SAVEPOINT within one transaction (a failing request is
// rolled back to its savepoint and does not poison the others), commits once
// (one fsync), then calls every request's callback with its own result.
// Throughput therefore grows with concurrency instead of with weaker
// durability.
//
// Reads use a small pool of separate connections (WAL lets them read the
// last committed state while the committer writes).
//
// Schema: versioned migrations (schema_version table, migrations applied in
// order at Open, each in its own transaction). A database written by a newer
// version of this code is refused (FAILED_PRECONDITION).

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/clock/clock.h"
#include "services/submission/store.h"

struct sqlite3;

namespace halfsky::submission {

class SqliteSubmissionStore final : public SubmissionStore {
 public:
  struct Options {
    // File path; parent directory must exist. Created if missing.
    std::string path;
    // Source of committed_at; not owned, must outlive the store.
    Clock* clock = nullptr;
    int read_connections = 4;
    // A group stops growing once it holds this many values (bounds
    // transaction size and latency); a single larger request still commits.
    int max_group_values = 50000;
  };

  // Opens (creating and migrating as needed). Errors: INTERNAL/UNAVAILABLE
  // when the file cannot be opened or migrated, FAILED_PRECONDITION when the
  // schema is newer than this code.
  static absl::StatusOr<std::unique_ptr<SqliteSubmissionStore>> Open(const Options& options);

  // Commits what is queued, stops the committer, closes connections.
  ~SqliteSubmissionStore() override;

  // The newest schema version this code knows.
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

  // Number of group commits so far (tests and metrics).
  int64_t commit_count() const;

 private:
  struct Op;
  struct WriterStatements;
  class ReadConnection;

  explicit SqliteSubmissionStore(const Options& options);
  absl::Status Init();
  void CommitLoop();
  void CommitGroup(std::vector<std::unique_ptr<Op>>& group);
  absl::StatusOr<halfsky::v1::SubmitBatchResponse> ApplyWrite(const WriteRequest& request,
                                                              absl::Time now,
                                                              absl::flat_hash_map<int, bool>& locks);
  absl::StatusOr<halfsky::v1::YearLock> ApplyLock(const Op& op, absl::Time now,
                                                  absl::flat_hash_map<int, bool>& locks);
  std::unique_ptr<ReadConnection> AcquireReader();
  void ReleaseReader(std::unique_ptr<ReadConnection> reader);

  const Options options_;

  // Writer connection and statements: used by the committer thread only
  // (and by Init before it starts).
  sqlite3* writer_ = nullptr;
  std::unique_ptr<WriterStatements> stmts_;
  int64_t next_sequence_ = 1;                   // committer only
  absl::flat_hash_map<int, bool> locked_years_;  // committer only: committed state

  // Committer-only cache of each key's current state (key id, revision,
  // encoded DataValue), filled on first touch, so that a write needs no
  // lookup query. Changes of the group in flight live in `group_changes_`
  // (and of the request in flight in `request_changes_`) until COMMIT (or
  // RELEASE) succeeds; a rollback simply drops them. Memory is bounded by
  // the number of distinct keys, which the catalog bounds (indicators ×
  // areas × years × 3 sexes × 3 residences).
  struct CurrentState {
    int64_t key_id = 0;
    int64_t revision = 0;
    std::string encoded;
  };
  absl::flat_hash_map<std::string, CurrentState> current_;
  absl::flat_hash_map<std::string, CurrentState> group_changes_;
  absl::flat_hash_map<std::string, CurrentState> request_changes_;

  mutable absl::Mutex queue_mu_;
  absl::CondVar queue_cv_;
  std::deque<std::unique_ptr<Op>> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool closing_ ABSL_GUARDED_BY(queue_mu_) = false;

  mutable absl::Mutex head_mu_;
  int64_t head_ ABSL_GUARDED_BY(head_mu_) = 0;
  int64_t commits_ ABSL_GUARDED_BY(head_mu_) = 0;
  std::function<void(int64_t)> listener_ ABSL_GUARDED_BY(head_mu_);

  absl::Mutex readers_mu_;
  std::vector<std::unique_ptr<ReadConnection>> readers_ ABSL_GUARDED_BY(readers_mu_);

  std::thread committer_;
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_SQLITE_STORE_H_
