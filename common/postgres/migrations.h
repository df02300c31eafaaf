#ifndef HALFSKY_COMMON_POSTGRES_MIGRATIONS_H_
#define HALFSKY_COMMON_POSTGRES_MIGRATIONS_H_

// Versioned schema migrations for a PostgreSQL store, as
// common/sqlite/migrations.h for SQLite: a store lists its migrations once,
// in order, append-only; table schema_version records each applied one;
// ApplyMigrations brings the database to the newest version, each missing
// migration in its own transaction with its schema_version row, and
// refuses a database whose version is newer than the code.
//
// Several processes (replicas) may start at once on one database: the
// whole run holds a session-level advisory lock (pg_advisory_lock on a key
// derived from `name`), so exactly one applies each migration and the
// others then see it recorded.
//
// Thread-safety: as the Connection it is given.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/postgres/postgres.h"

namespace halfsky::postgres {

struct Migration {
  // >= 1, strictly increasing through a store's list.
  int version;
  // One or more statements (Connection::Exec).
  const char* sql;
};

// The version recorded (0 for a new database); creates schema_version if
// missing. Errors: MapError.
absl::StatusOr<int> SchemaVersion(Connection& conn);

// Errors: INVALID_ARGUMENT (empty or not increasing list: nothing changed);
// FAILED_PRECONDITION when the database is newer than the last migration
// (nothing changed); otherwise the mapped status of the failed migration (it
// is rolled back, the earlier ones stay).
absl::StatusOr<int> ApplyMigrations(Connection& conn, absl::Span<const Migration> migrations,
                                    absl::string_view name);

}  // namespace halfsky::postgres

#endif  // HALFSKY_COMMON_POSTGRES_MIGRATIONS_H_
