#ifndef HALFSKY_SERVICES_SUBMISSION_SQLITE_SCHEMA_H_
#define HALFSKY_SERVICES_SUBMISSION_SQLITE_SCHEMA_H_

// The SQLite submission store's schema, its migrations, and how its rows
// read back as protos (shared by the committer, the key directory and the
// readers; see sqlite_store.h for the store itself).
//
// Schema (version 6): data_keys (one write-once row per key; a key is
// (indicator, area, year, sex, residence, unit_code), unit_code naming the
// unit whose narrative it is, '' for figures), revisions (append-only, by
// sequence; each names its key's previous revision in prev_sequence, so a
// key's history is a chain), key_heads (each key's current revision,
// rewritten in place), requests (idempotency and stored replies),
// year_locks and year_lock_history, reporting_times. Version 5 added
// revisions.withdrawn and revisions.change_reason; version 6 the review
// workflow's review_forms and review_events (review_store.h).
//
// Thread-safety: pure functions on the connection or statement they are
// given (thread-compatible).

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/sqlite/sqlite.h"
#include "google/protobuf/message_lite.h"
#include "google/protobuf/timestamp.pb.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky::submission {

// The newest schema version this code knows.
int LatestSubmissionSchemaVersion();

// Registers the SQL functions the migrations use on `db`, then applies the
// missing migrations (common/sqlite/migrations.h; each in its own
// transaction). Errors: FAILED_PRECONDITION when the database's schema is
// newer than this code; the mapped SQLite status of a failed migration
// (rolled back; the earlier ones stay).
absl::Status MigrateSubmissionSchema(sqlite::Database& db);

// Joins data_keys k to the current revision r of each key (through its
// key_heads row h): append to "SELECT ...".
extern const char kCurrentRevisionJoin[];

// Revision columns (of alias r) in the order RevisionFromRow reads them.
extern const char kRevisionColumns[];
inline constexpr int kRevisionColumnCount = 9;

// The revision in columns [first_col, first_col + kRevisionColumnCount) of
// the current row (kRevisionColumns). DATA_LOSS when the stored value does
// not parse.
absl::StatusOr<halfsky::v1::Revision> RevisionFromRow(sqlite::Statement& s, int first_col);
// The same, into `*rev` (a cleared message, on any arena); on error `*rev`
// is left partly filled.
absl::Status FillRevisionFromRow(sqlite::Statement& s, int first_col, halfsky::v1::Revision* rev);

// A key's unit comes from data_keys (migration 4 did not rewrite the
// DataValues stored before it, whose keys carry no unit_code).
void SetKeyUnit(absl::string_view unit_code, halfsky::v1::Revision* rev);

// The stored encoding of a key's current value as a new write of it would
// encode it: a narrative stored before migration 4 lacks its key's
// unit_code, so it is re-encoded with it (only narrative keys pay this, at
// load), and an identical resubmission stays UNCHANGED.
std::string EncodedWithUnit(std::string encoded, absl::string_view unit_code);

// A year_locks / year_lock_history row: year, locked, changed_by,
// changed_at_us, reason (columns 0..4).
halfsky::v1::YearLock LockFromRow(sqlite::Statement& s);

// Times are stored as Unix microseconds.
int64_t ToMicros(absl::Time t);
absl::Time FromMicros(int64_t us);

}  // namespace halfsky::submission

#endif  // HALFSKY_SERVICES_SUBMISSION_SQLITE_SCHEMA_H_
