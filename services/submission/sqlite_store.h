#ifndef HALFSKY_SERVICES_SUBMISSION_SQLITE_STORE_H_
#define HALFSKY_SERVICES_SUBMISSION_SQLITE_STORE_H_

// SubmissionStore on an embedded SQLite file, assembled from parts with
// one concern each (all built on common/sqlite):
//   sqlite_schema.h    the schema, its versioned migrations, row decoding;
//   key_directory.h    the committer's in-memory directory of every key;
//   group_committer.h  the committer thread: group commit, completions,
//                      WAL checkpoints;
//   sqlite_readers.h   a pool of read connections and the read queries.
//
// Durability: WAL journal, synchronous=FULL; a reply is given only after
// COMMIT returned (the WAL is fsynced).
//
// Group commit: Write() enqueues. One committer thread takes everything
// queued (up to Options::max_group_values values) into one transaction and
// commits once (one fsync); then every request's callback gets its own
// result, in queue order (on the committer or a completion thread: see
// group_committer.h). Throughput therefore grows with concurrency instead
// of with weaker durability. A request refused for a logical reason
// (reused request id, locked year) writes nothing and does not disturb the
// others; a storage failure (I/O error, disk full) anywhere in the group
// rolls the whole group back and fails every request in it
// (UNAVAILABLE/INTERNAL): nothing of it is committed.
//
// Reads use a small pool of separate connections (WAL lets them read the
// last committed state while the committer writes).
//
// A full disk (SQLITE_FULL: no space, or the file size limit) fails the
// group with RESOURCE_EXHAUSTED, reason STORAGE_FULL; every SQLite error is
// mapped by common/sqlite's one mapping (SQLITE_BUSY is UNAVAILABLE).
//
// Schema: versioned migrations (schema_version table, migrations applied in
// order at Open, each in its own transaction; see sqlite_schema.h). A
// database written by a newer version of this code is refused
// (FAILED_PRECONDITION).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock/clock.h"
#include "services/submission/store.h"

namespace halfsky::submission {

class GroupCommitter;
class SqliteReaders;

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
    // WAL size (pages) at which the checkpointer thread copies the WAL
    // into the database (PASSIVE checkpoint).
    int checkpoint_pages = 4000;
    // WAL size (pages) at which the committer runs a blocking RESTART
    // checkpoint itself after a commit, so that the WAL file cannot grow
    // without bound under a write load that never pauses.
    int max_wal_pages = 65536;
    // A group of at most this many values is answered on the committer
    // itself when no earlier group waits for the completion thread.
    int inline_completion_values = 256;
    // The writer connection's page cache (PRAGMA cache_size), MiB. The
    // database is append-only, so under a steady write load the process
    // grows by the pages written until this bound is reached; it then
    // stays flat (tests/bench/soak_bench.cc). At least 1.
    int cache_mib = 64;
  };

  // Opens (creating and migrating as needed). Errors (common/sqlite's
  // mapping): UNAVAILABLE when the file cannot be opened or stays locked by
  // another connection, DATA_LOSS when it is not a database, INTERNAL when a
  // migration fails otherwise; FAILED_PRECONDITION when the schema is newer
  // than this code; INVALID_ARGUMENT without a clock.
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
  // Built on the arena directly (SqliteReaders::ReadChangesOnArena).
  absl::StatusOr<std::vector<halfsky::v1::Revision*>> ReadChangesOnArena(
      int64_t after_sequence, int limit, size_t max_bytes, google::protobuf::Arena* arena) override;
  int64_t HeadSequence() const override;
  void SetCommitListener(std::function<void(int64_t head)> listener) override;
  absl::StatusOr<std::vector<ReportingTimes>> ListReportingTimes(int year) override;

  // Number of group commits so far (tests and metrics).
  int64_t commit_count() const;

 private:
  SqliteSubmissionStore() = default;

  // Destroyed committer first (it commits what is queued), then readers.
  std::unique_ptr<SqliteReaders> readers_;
  std::unique_ptr<GroupCommitter> committer_;
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_SQLITE_STORE_H_
