#ifndef HALFSKY_SERVICES_SUBMISSION_SQLITE_READERS_H_
#define HALFSKY_SERVICES_SUBMISSION_SQLITE_READERS_H_

// The read side of the SQLite submission store: a small pool of separate
// query-only connections (WAL lets each read the last committed state while
// the committer writes) and the queries behind SubmissionStore's reads.
// Each call takes a connection from the pool for its duration (waiting
// while all are busy) and sees one committed state.
//
// Errors of every read: the mapped SQLite status (common/sqlite: e.g.
// UNAVAILABLE when busy, DATA_LOSS for a damaged file), DATA_LOSS when a
// stored value does not parse.
//
// Thread-safety: thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/sqlite/sqlite.h"
#include "services/submission/store.h"

namespace halfsky::submission {

class SqliteReaders {
 public:
  // Opens `connections` (at least 1) query-only connections to `path`,
  // which must hold a migrated submission database. Errors: the mapped
  // SQLite status.
  static absl::StatusOr<std::unique_ptr<SqliteReaders>> Open(const std::string& path,
                                                             int connections);

  // As the SubmissionStore methods of the same names.
  absl::StatusOr<YearLocks> ListYearLocks();
  absl::StatusOr<CurrentPage> ListCurrent(const CurrentFilter& filter, int64_t cursor, int limit);
  absl::StatusOr<std::vector<halfsky::v1::Revision>> History(const halfsky::v1::DataKey& key);
  absl::StatusOr<std::vector<halfsky::v1::Revision>> ReadChanges(int64_t after_sequence, int limit);
  // The same revisions, built on `arena` (not null; it owns them), within
  // `max_bytes` as SubmissionStore::ReadChangesOnArena says.
  absl::StatusOr<std::vector<halfsky::v1::Revision*>> ReadChangesOnArena(
      int64_t after_sequence, int limit, size_t max_bytes, google::protobuf::Arena* arena);
  absl::StatusOr<std::vector<ReportingTimes>> ListReportingTimes(int year);

 private:
  // The change feed's query: fills new_revision() (a Revision* to fill,
  // called once per row) from each row, in sequence order, until `limit`
  // rows or the `max_bytes` of ReadChangesOnArena.
  template <typename NewRevision>
  absl::Status ScanChanges(int64_t after_sequence, int limit, size_t max_bytes,
                           NewRevision new_revision);
  class Lease;

  SqliteReaders() = default;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<sqlite::Database>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_SQLITE_READERS_H_
