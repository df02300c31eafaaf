#include "common/sqlite/sqlite.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace halfsky::sqlite {

absl::Status ErrorStatus(sqlite3* db, int rc, absl::string_view what) {
  // sqlite3_errmsg describes the connection's last error; without a
  // connection (or when it has none) the code's own description.
  const char* detail =
      db != nullptr && sqlite3_errcode(db) != SQLITE_OK ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const std::string message = absl::StrCat("sqlite: ", what, ": ", detail);
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return WithReason(
          absl::ResourceExhaustedError(absl::StrCat(
              "存储空间已满，数据未写入 / storage full, nothing was written (", message, ")")),
          "STORAGE_FULL");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return absl::UnavailableError(absl::StrCat(
          "数据库暂时不可用，请稍后重试 / database temporarily unavailable, retry later (", message,
          ")"));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(absl::StrCat(
          "数据库文件已损坏 / the database file is damaged or not a database (", message, ")"));
    default:
      return absl::InternalError(
          absl::StrCat("数据库内部错误 / internal database error (", message, ")"));
  }
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    Close();
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Database::~Database() { Close(); }

void Database::Close() {
  if (db_ != nullptr) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

absl::StatusOr<Database> Database::Open(const std::string& path, const Options& options) {
  Database db;
  db.path_ = path;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) {
    flags |= SQLITE_OPEN_CREATE;
  }
  // Even a failed open allocates a handle (for its message); `db` closes it.
  const int rc = sqlite3_open_v2(path.c_str(), &db.db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    return ErrorStatus(db.db_, rc, absl::StrCat("open ", path));
  }
  sqlite3_busy_timeout(db.db_, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  if (options.query_only) {
    if (absl::Status st = db.Exec("PRAGMA query_only=1"); !st.ok()) {
      return st;
    }
  }
  return db;
}

absl::Status Database::Exec(absl::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    // The statement, cut to keep the message short (a migration is long).
    std::string what = text.size() > 120 ? absl::StrCat(text.substr(0, 120), "…") : text;
    if (err != nullptr) {
      absl::StrAppend(&what, " (", err, ")");
    }
    sqlite3_free(err);
    return Error(rc, what);
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Database::QueryInt(absl::string_view sql) {
  Statement s;
  if (absl::Status st = s.Prepare(db_, sql); !st.ok()) {
    return st;
  }
  absl::StatusOr<int> step = s.Step();
  if (!step.ok()) {
    return step.status();
  }
  return *step == SQLITE_ROW ? s.Int(0) : 0;
}

absl::Status Database::Error(int rc, absl::string_view what) const {
  return ErrorStatus(db_, rc, what);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

absl::Status Statement::Prepare(sqlite3* db, absl::string_view sql, bool persistent) {
  sqlite3_finalize(stmt_);
  stmt_ = nullptr;
  db_ = db;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    return ErrorStatus(db, rc, absl::StrCat("prepare ", sql));
  }
  return absl::OkStatus();
}

void Statement::Reset() { sqlite3_reset(stmt_); }

void Statement::Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }

void Statement::Bind(int i, absl::string_view v) {
  // A default string_view has no data(); that would bind NULL.
  sqlite3_bind_text(stmt_, i, v.data() == nullptr ? "" : v.data(), static_cast<int>(v.size()),
                    SQLITE_STATIC);
}

void Statement::BindBlob(int i, absl::string_view v) {
  // A zero-length blob must not be bound as NULL (columns are NOT NULL).
  sqlite3_bind_blob(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

absl::StatusOr<int> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
    return rc;
  }
  const char* sql = stmt_ != nullptr ? sqlite3_sql(stmt_) : nullptr;
  return ErrorStatus(db_, rc, sql != nullptr ? sql : "step");
}

absl::Status Statement::Run() {
  absl::StatusOr<int> rc = Step();
  Reset();
  return rc.status();
}

int64_t Statement::Int(int col) { return sqlite3_column_int64(stmt_, col); }

bool Statement::IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

absl::string_view Statement::View(int col) {
  const auto* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? absl::string_view() : absl::string_view(static_cast<const char*>(p), n);
}

}  // namespace halfsky::sqlite
