#include "services/exchange/exchange_log.h"

#include <sqlite3.h>

#include <utility>

#include "common/sqlite/migrations.h"

namespace halfsky::exchange {
namespace {

namespace v1 = ::halfsky::v1;

// Append-only: a released migration is never edited.
constexpr sqlite::Migration kMigrations[] = {
    {1,
     "CREATE TABLE exchange_batch ("
     "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
     "  request_id TEXT NOT NULL,"
     "  outcome INTEGER NOT NULL,"
     "  batch BLOB NOT NULL);"  // ExchangeBatch, serialized (id not set)
     "CREATE INDEX exchange_batch_request ON exchange_batch(request_id, id);"},
    {2,
     "CREATE TABLE area_report ("
     "  area_code TEXT NOT NULL,"
     "  year INTEGER NOT NULL,"
     "  fingerprint TEXT NOT NULL,"
     "  report BLOB NOT NULL,"  // AreaReport, serialized
     "  PRIMARY KEY (area_code, year));"},
};

absl::StatusOr<v1::ExchangeBatch> Row(sqlite::Statement& stmt) {
  v1::ExchangeBatch batch;
  const absl::string_view blob = stmt.View(1);
  if (!batch.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
    return absl::DataLossError("交换日志记录无法解析 / exchange log row does not parse");
  }
  batch.set_id(stmt.Int(0));
  return batch;
}

absl::StatusOr<std::vector<v1::ExchangeBatch>> Rows(sqlite::Statement& stmt) {
  std::vector<v1::ExchangeBatch> out;
  while (true) {
    absl::StatusOr<int> rc = stmt.Step();
    if (!rc.ok()) {
      return rc.status();
    }
    if (*rc != SQLITE_ROW) {
      break;
    }
    absl::StatusOr<v1::ExchangeBatch> batch = Row(stmt);
    if (!batch.ok()) {
      return batch.status();
    }
    out.push_back(*std::move(batch));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExchangeLog>> ExchangeLog::Open(const std::string& path) {
  absl::StatusOr<sqlite::Database> db = sqlite::Database::Open(path);
  if (!db.ok()) {
    return db.status();
  }
  if (absl::Status st = db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !st.ok()) {
    return st;
  }
  if (absl::StatusOr<int> v = sqlite::ApplyMigrations(*db, kMigrations, "exchange"); !v.ok()) {
    return v.status();
  }
  return std::unique_ptr<ExchangeLog>(new ExchangeLog(*std::move(db)));
}

absl::StatusOr<int64_t> ExchangeLog::Append(const v1::ExchangeBatch& batch) {
  absl::MutexLock lock(&mu_);
  v1::ExchangeBatch copy = batch;
  copy.clear_id();
  const std::string blob = copy.SerializeAsString();
  sqlite::Statement stmt;
  if (absl::Status st =
          stmt.Prepare(db_, "INSERT INTO exchange_batch(request_id, outcome, batch) VALUES(?,?,?)");
      !st.ok()) {
    return st;
  }
  stmt.Bind(1, batch.request_id());
  stmt.Bind(2, static_cast<int64_t>(batch.outcome()));
  stmt.BindBlob(3, blob);
  if (absl::Status st = stmt.Run(); !st.ok()) {
    return st;
  }
  return db_.QueryInt("SELECT last_insert_rowid()");
}

absl::StatusOr<std::vector<v1::ExchangeBatch>> ExchangeLog::List(int64_t before_id, int limit) {
  absl::MutexLock lock(&mu_);
  sqlite::Statement stmt;
  if (absl::Status st = stmt.Prepare(
          db_, "SELECT id, batch FROM exchange_batch WHERE id < ? ORDER BY id DESC LIMIT ?");
      !st.ok()) {
    return st;
  }
  stmt.Bind(1, before_id > 0 ? before_id : INT64_MAX);
  stmt.Bind(2, static_cast<int64_t>(limit));
  return Rows(stmt);
}

absl::StatusOr<std::vector<v1::ExchangeBatch>> ExchangeLog::LatestUnsent() {
  absl::MutexLock lock(&mu_);
  sqlite::Statement stmt;
  if (absl::Status st = stmt.Prepare(
          db_,
          "SELECT b.id, b.batch FROM exchange_batch b JOIN (SELECT request_id, MAX(id) AS id FROM "
          "exchange_batch GROUP BY request_id) last ON b.id = last.id WHERE b.outcome IN (?, ?) "
          "ORDER BY b.id");
      !st.ok()) {
    return st;
  }
  stmt.Bind(1, static_cast<int64_t>(v1::EXCHANGE_OUTCOME_REFUSED));
  stmt.Bind(2, static_cast<int64_t>(v1::EXCHANGE_OUTCOME_FAILED));
  return Rows(stmt);
}

absl::StatusOr<int64_t> ExchangeLog::CountCommitted(const std::string& base_request_id) {
  absl::MutexLock lock(&mu_);
  sqlite::Statement stmt;
  // Request ids are "exchange-<area>-<year>-<s|w>-<hex>[-n]": no LIKE
  // wildcard can occur in them.
  if (absl::Status st = stmt.Prepare(db_,
                                     "SELECT COUNT(*) FROM exchange_batch WHERE (request_id = ?1 "
                                     "OR request_id LIKE ?1 || '-%') AND outcome IN (?2, ?3)");
      !st.ok()) {
    return st;
  }
  stmt.Bind(1, base_request_id);
  stmt.Bind(2, static_cast<int64_t>(v1::EXCHANGE_OUTCOME_SENT));
  stmt.Bind(3, static_cast<int64_t>(v1::EXCHANGE_OUTCOME_REPLAYED));
  absl::StatusOr<int> step = stmt.Step();
  if (!step.ok()) {
    return step.status();
  }
  return *step == SQLITE_ROW ? stmt.Int(0) : 0;
}

absl::StatusOr<bool> ExchangeLog::PutAreaReport(const v1::AreaReport& report) {
  absl::MutexLock lock(&mu_);
  {
    sqlite::Statement find;
    if (absl::Status st = find.Prepare(
            db_, "SELECT fingerprint FROM area_report WHERE area_code = ? AND year = ?");
        !st.ok()) {
      return st;
    }
    find.Bind(1, report.area_code());
    find.Bind(2, static_cast<int64_t>(report.year()));
    absl::StatusOr<int> rc = find.Step();
    if (!rc.ok()) {
      return rc.status();
    }
    if (*rc == SQLITE_ROW && find.View(0) == report.fingerprint()) {
      return true;
    }
  }
  const std::string blob = report.SerializeAsString();
  sqlite::Statement put;
  if (absl::Status st =
          put.Prepare(db_,
                      "INSERT OR REPLACE INTO area_report(area_code, year, fingerprint, report) "
                      "VALUES(?,?,?,?)");
      !st.ok()) {
    return st;
  }
  put.Bind(1, report.area_code());
  put.Bind(2, static_cast<int64_t>(report.year()));
  put.Bind(3, report.fingerprint());
  put.BindBlob(4, blob);
  if (absl::Status st = put.Run(); !st.ok()) {
    return st;
  }
  return false;
}

absl::StatusOr<std::vector<v1::AreaReport>> ExchangeLog::ListAreaReports(
    const std::string& area_code) {
  absl::MutexLock lock(&mu_);
  sqlite::Statement stmt;
  if (absl::Status st = stmt.Prepare(db_,
                                     "SELECT report FROM area_report WHERE ? = '' OR area_code = ? "
                                     "ORDER BY year DESC, area_code");
      !st.ok()) {
    return st;
  }
  stmt.Bind(1, area_code);
  stmt.Bind(2, area_code);
  std::vector<v1::AreaReport> out;
  while (true) {
    absl::StatusOr<int> rc = stmt.Step();
    if (!rc.ok()) {
      return rc.status();
    }
    if (*rc != SQLITE_ROW) {
      break;
    }
    const absl::string_view blob = stmt.View(0);
    v1::AreaReport report;
    if (!report.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      return absl::DataLossError("区域报告记录无法解析 / area report row does not parse");
    }
    out.push_back(std::move(report));
  }
  return out;
}

}  // namespace halfsky::exchange
