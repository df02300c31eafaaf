#include "common/sqlite/migrations.h"

#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace halfsky::sqlite {

absl::StatusOr<int> SchemaVersion(Database& db) {
  HALFSKY_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
  HALFSKY_ASSIGN_OR_RETURN(const int64_t version,
                           db.QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  return static_cast<int>(version);
}

absl::StatusOr<int> ApplyMigrations(Database& db, absl::Span<const Migration> migrations,
                                    absl::string_view name) {
  if (migrations.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": no schema migrations"));
  }
  int previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= previous) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": schema migration ", m.version, " does not follow ", previous));
    }
    previous = m.version;
  }
  const int latest = migrations.back().version;
  HALFSKY_ASSIGN_OR_RETURN(const int current, SchemaVersion(db));
  if (current > latest) {
    return absl::FailedPreconditionError(
        absl::StrCat("数据库版本比本程序新，拒绝打开 / the ", name, " database ", db.path(),
                     " has schema version ", current, ", newer than this program's ", latest));
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) {
      continue;
    }
    HALFSKY_RETURN_IF_ERROR(InTransaction(db, [&] {
      HALFSKY_RETURN_IF_ERROR(db.Exec(m.sql));
      return db.Exec(absl::StrCat("INSERT INTO schema_version(version) VALUES(", m.version, ")"));
    }));
  }
  return latest;
}

}  // namespace halfsky::sqlite
