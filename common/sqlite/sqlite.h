#ifndef HALFSKY_COMMON_SQLITE_SQLITE_H_
#define HALFSKY_COMMON_SQLITE_SQLITE_H_

// The one SQLite layer every embedded store is built on: an owned
// connection (Database), a prepared statement (Statement), and the ONE
// mapping of SQLite result codes to absl::Status (ErrorStatus). Versioned
// schema migrations are in common/sqlite/migrations.h.
//
// Error mapping (on the primary result code, rc & 0xff):
//   SQLITE_FULL                      RESOURCE_EXHAUSTED, ErrorInfo reason
//                                    "STORAGE_FULL" (disk, quota or
//                                    max_page_count full: retrying does not
//                                    help until space is freed).
//   SQLITE_BUSY, SQLITE_LOCKED,      UNAVAILABLE (transient: another
//   SQLITE_IOERR, SQLITE_CANTOPEN,   connection holds a lock past the busy
//   SQLITE_PROTOCOL                  timeout, or the file system failed).
//   SQLITE_CORRUPT, SQLITE_NOTADB    DATA_LOSS (the file is damaged or not
//                                    a database).
//   anything else (SQLITE_CONSTRAINT INTERNAL (a statement the program
//   included: a store's constraints  should never have run this way).
//   guard its own invariants)
// Every message starts with a Chinese sentence, then "sqlite: <what>: <the
// connection's error message>".
//
// Thread-safety: a Database and its Statements are thread-compatible (one
// thread at a time; connections are opened with SQLITE_OPEN_NOMUTEX).
// ErrorStatus is a pure function.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace halfsky::sqlite {

// The status for SQLite result code `rc` (not SQLITE_OK/ROW/DONE) of the
// operation `what`; `db` (may be null) supplies the detailed message.
absl::Status ErrorStatus(sqlite3* db, int rc, absl::string_view what);

// An owned connection; closed (sqlite3_close_v2) on destruction. Movable.
class Database {
 public:
  struct Options {
    // Create the file if missing (its parent directory must exist).
    bool create = true;
    // PRAGMA query_only: every write fails (SQLITE_READONLY -> INTERNAL).
    bool query_only = false;
    // How long a statement waits for another connection's lock before it
    // fails with SQLITE_BUSY (UNAVAILABLE).
    absl::Duration busy_timeout = absl::Seconds(10);
  };

  Database() = default;
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Opens `path` read-write (SQLITE_OPEN_NOMUTEX). Errors as mapped above
  // (typically UNAVAILABLE for a file that cannot be opened).
  static absl::StatusOr<Database> Open(const std::string& path, const Options& options);
  static absl::StatusOr<Database> Open(const std::string& path) { return Open(path, Options()); }

  // The raw handle (owned by this object), for sqlite3_* calls this layer
  // does not wrap (hooks, functions, checkpoints). Null when not open.
  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }

  // Runs one or more statements that return no rows (sqlite3_exec).
  absl::Status Exec(absl::string_view sql);

  // The first column of the first row of `sql` as an integer (0 when NULL
  // or no row).
  absl::StatusOr<int64_t> QueryInt(absl::string_view sql);

  // ErrorStatus(get(), rc, what).
  absl::Status Error(int rc, absl::string_view what) const;

  // Closes now (no-op when not open).
  void Close();

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// BEGIN IMMEDIATE; `body`; COMMIT — or ROLLBACK when `body` or COMMIT
// fails (then its status is returned and nothing of it is committed).
template <typename Body>
absl::Status InTransaction(Database& db, Body body) {
  absl::Status status = db.Exec("BEGIN IMMEDIATE");
  if (!status.ok()) {
    return status;
  }
  status = body();
  if (status.ok()) {
    status = db.Exec("COMMIT");
  }
  if (!status.ok()) {
    db.Exec("ROLLBACK").IgnoreError();
  }
  return status;
}

// A prepared statement; finalized on destruction. Reset after each use by
// its user (Run() resets itself). Text and blob parameters are bound
// without copying (SQLITE_STATIC): the caller keeps the bytes alive until
// the statement has stepped and been reset, and binds every parameter
// before each step. Column accessors refer to the current row.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // `persistent`: the statement is kept for many uses (SQLite then
  // allocates it outside its lookaside memory). Errors: the mapped status
  // (a syntax error is INTERNAL).
  absl::Status Prepare(sqlite3* db, absl::string_view sql, bool persistent = false);
  absl::Status Prepare(const Database& db, absl::string_view sql, bool persistent = false) {
    return Prepare(db.get(), sql, persistent);
  }
  bool prepared() const { return stmt_ != nullptr; }

  void Reset();
  void Bind(int i, int64_t v);
  // A default (null) string_view binds "" (never NULL).
  void Bind(int i, absl::string_view v);
  // A zero-length blob is bound as an empty blob, never NULL.
  void BindBlob(int i, absl::string_view v);

  // SQLITE_ROW or SQLITE_DONE; the mapped error status otherwise.
  absl::StatusOr<int> Step();
  // Steps a statement that returns no rows, then resets it.
  absl::Status Run();

  int64_t Int(int col);
  bool IsNull(int col);
  // Valid until the next Step or Reset.
  absl::string_view View(int col);
  std::string Text(int col) { return std::string(View(col)); }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace halfsky::sqlite

#endif  // HALFSKY_COMMON_SQLITE_SQLITE_H_
