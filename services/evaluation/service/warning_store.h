#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_WARNING_STORE_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_WARNING_STORE_H_

// The evaluation service's own embedded store (SQLite): the lifecycle of
// every warning identity (its current episode, as a serialized
// halfsky.v1.Warning) and every acknowledgement ever made (append-only).
//
// Durability: WAL, synchronous=FULL; every write is one transaction that is
// committed before the call returns. Schema changes are numbered migrations
// recorded in table schema_version; Open() applies the missing ones in
// order, each in its own transaction. A database written by a newer
// version (higher schema_version than this code knows) is refused with
// FAILED_PRECONDITION.
//
// Errors of every method follow common/sqlite's one mapping: UNAVAILABLE
// (SQLITE_BUSY: another connection holds the lock past the busy timeout;
// retry), RESOURCE_EXHAUSTED with reason STORAGE_FULL (disk full), DATA_LOSS
// (a damaged file or row), INTERNAL otherwise. A failed write changes
// nothing.
//
// Thread-safety: thread-compatible (the WarningEngine serializes calls).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sqlite/sqlite.h"
#include "halfsky/v1/evaluation.pb.h"

namespace halfsky::evaluation {

class WarningStore {
 public:
  // Opens (creating if missing) the database at `path`; creates its parent
  // directory. Errors (common/sqlite's mapping): UNAVAILABLE when the file
  // cannot be opened or is locked by another connection past the busy
  // timeout, DATA_LOSS when it is not a database, FAILED_PRECONDITION when
  // its schema is newer than this code, INTERNAL otherwise.
  static absl::StatusOr<std::unique_ptr<WarningStore>> Open(const std::string& path);
  ~WarningStore();
  WarningStore(const WarningStore&) = delete;
  WarningStore& operator=(const WarningStore&) = delete;

  // Schema version after Open() (the highest migration applied).
  int schema_version() const { return schema_version_; }
  static int LatestSchemaVersion();

  // Every stored warning (current episode per identity), with the latest
  // acknowledgement of that episode attached (if any).
  absl::StatusOr<std::vector<halfsky::v1::Warning>> LoadAll();

  // Inserts or replaces each warning by id, all in one transaction. The
  // `acknowledgement` field is not stored here (see Acknowledge).

  absl::Status Upsert(const std::vector<halfsky::v1::Warning>& warnings);

  // Appends an acknowledgement of (warning_id, episode).
  absl::Status Acknowledge(const std::string& warning_id, int64_t episode,
                           const halfsky::v1::Acknowledgement& ack);

  // Every acknowledgement of `warning_id`, oldest first (all episodes).
  absl::StatusOr<std::vector<halfsky::v1::Acknowledgement>> AcknowledgementHistory(
      const std::string& warning_id);

 private:
  explicit WarningStore(sqlite::Database db) : db_(std::move(db)) {}
  absl::Status Exec(const std::string& sql) { return db_.Exec(sql); }
  absl::Status Migrate();

  sqlite::Database db_;
  int schema_version_ = 0;
};

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_WARNING_STORE_H_
