#include "common/postgres/migrations.h"

#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace halfsky::postgres {

absl::StatusOr<int> SchemaVersion(Connection& conn) {
  HALFSKY_RETURN_IF_ERROR(
      conn.Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL PRIMARY KEY)"));
  HALFSKY_ASSIGN_OR_RETURN(const int64_t version,
                           conn.QueryInt("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  return static_cast<int>(version);
}

absl::StatusOr<int> ApplyMigrations(Connection& conn, absl::Span<const Migration> migrations,
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
  const std::vector<Param> lock_key = {Param::Text(absl::StrCat("halfsky-migrate-", name))};
  HALFSKY_RETURN_IF_ERROR(
      conn.Query("SELECT pg_advisory_lock(hashtextextended($1, 0))", lock_key).status());
  auto run = [&]() -> absl::StatusOr<int> {
    HALFSKY_ASSIGN_OR_RETURN(const int current, SchemaVersion(conn));
    if (current > latest) {
      return absl::FailedPreconditionError(
          absl::StrCat("数据库版本比本程序新，拒绝打开 / the ", name, " database ", conn.Describe(),
                       " has schema version ", current, ", newer than this program's ", latest));
    }
    for (const Migration& m : migrations) {
      if (m.version <= current) {
        continue;
      }
      HALFSKY_RETURN_IF_ERROR(InTransaction(conn, [&] {
        HALFSKY_RETURN_IF_ERROR(conn.Exec(m.sql));
        return conn.Query("INSERT INTO schema_version(version) VALUES($1)", {Param::Int(m.version)})
            .status();
      }));
    }
    return latest;
  };
  absl::StatusOr<int> result = run();
  conn.Query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", lock_key).IgnoreError();
  return result;
}

}  // namespace halfsky::postgres
