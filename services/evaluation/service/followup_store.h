#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_STORE_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_STORE_H_

// Follow-up records (督办) in the evaluation service's SQLite database: one
// row per record (table follow_ups, the record as a serialized
// halfsky.v1.FollowUp without its steps) and the append-only history
// (table follow_up_steps). The tables are created by the WarningStore's
// migration kFollowUpSchemaMigration (one numbered step of the same
// schema_version sequence), so WarningStore::Open(path) must have run on
// the file first.
//
// Durability: its own connection to the file, WAL, synchronous=FULL; every
// Write is one transaction committed before it returns (a failed write
// changes nothing).
//
// Thread-safety: thread-compatible (the FollowUpTracker serializes calls).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/sqlite/sqlite.h"
#include "halfsky/v1/evaluation.pb.h"

namespace halfsky::evaluation {

// The migration creating follow_ups and follow_up_steps (listed in
// warning_store.cc's migrations).
extern const char kFollowUpSchemaMigration[];

class FollowUpStore {
 public:
  // Opens `path` (already migrated by WarningStore::Open; the file must
  // exist). UNAVAILABLE when it cannot be opened; FAILED_PRECONDITION when the follow-up tables are
  // missing (the file was not migrated).
  static absl::StatusOr<std::unique_ptr<FollowUpStore>> Open(const std::string& path);
  ~FollowUpStore();
  FollowUpStore(const FollowUpStore&) = delete;
  FollowUpStore& operator=(const FollowUpStore&) = delete;

  // Every record (steps empty). DATA_LOSS for a row that does not parse.
  absl::StatusOr<std::vector<halfsky::v1::FollowUp>> LoadAll();

  // In one transaction: replaces each of `records` (by warning_id; their
  // steps are not stored from here) and appends each (warning_id, step).
  // A SQLite error is mapped by common/sqlite (SQLITE_BUSY UNAVAILABLE, a
  // full disk RESOURCE_EXHAUSTED, ...); nothing is written then.
  absl::Status Write(const std::vector<halfsky::v1::FollowUp>& records,
                     const std::vector<std::pair<std::string, halfsky::v1::FollowUpStep>>& steps);

  // Every step of `warning_id`, oldest first.
  absl::StatusOr<std::vector<halfsky::v1::FollowUpStep>> Steps(const std::string& warning_id);

 private:
  explicit FollowUpStore(sqlite::Database db) : db_(std::move(db)) {}

  sqlite::Database db_;
};

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_STORE_H_
