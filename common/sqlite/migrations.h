#ifndef HALFSKY_COMMON_SQLITE_MIGRATIONS_H_
#define HALFSKY_COMMON_SQLITE_MIGRATIONS_H_

// Versioned schema migrations for an embedded SQLite store.
//
// A store lists its migrations once, in order, append-only (a released
// migration is never edited). The applied version is recorded in table
// schema_version (one row per applied migration); ApplyMigrations() brings a
// database from its recorded version to the newest one, applying each
// missing migration in its own transaction (BEGIN IMMEDIATE) together with
// its schema_version row, so a crash leaves the database at a whole
// version. A database whose recorded version is newer than the code's
// newest migration was written by a newer program and is refused.
//
// Thread-safety: as the Database it is given (one thread at a time).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/sqlite/sqlite.h"

namespace halfsky::sqlite {

struct Migration {
  // >= 1, strictly increasing through a store's list.
  int version;
  // One or more statements (run with Database::Exec).
  const char* sql;
};

// The version recorded in `db` (0 for a new database). Creates the
// schema_version table if it is missing. Errors: the mapped SQLite status.
absl::StatusOr<int> SchemaVersion(Database& db);

// Applies every migration of `migrations` newer than the recorded version,
// in order; returns the version after (the last migration's). `name` names
// the database in messages (e.g. "submission").
// Errors:
//   INVALID_ARGUMENT    `migrations` is empty or its versions are not
//                       strictly increasing from >= 1 (a programming error;
//                       nothing is changed).
//   FAILED_PRECONDITION the database's version is newer than the last of
//                       `migrations` (nothing is changed).
//   otherwise           the mapped SQLite status of the failed migration; it
//                       is rolled back, the ones before it stay applied.
absl::StatusOr<int> ApplyMigrations(Database& db, absl::Span<const Migration> migrations,
                                    absl::string_view name);

}  // namespace halfsky::sqlite

#endif  // HALFSKY_COMMON_SQLITE_MIGRATIONS_H_
