#ifndef HALFSKY_COMMON_POSTGRES_POSTGRES_H_
#define HALFSKY_COMMON_POSTGRES_POSTGRES_H_

// The one PostgreSQL layer (libpq): RAII connections and results,
// parameterised statements (never SQL built from values), transactions,
// and the one mapping of PostgreSQL errors to absl::Status.
//
// Error mapping (SQLSTATE, see MapError):
//   connection lost / refused, admin shutdown, serialization failure,
//   deadlock, lock not available, too many connections ... UNAVAILABLE
//     (transient: retrying may help; nothing of a failed transaction was
//     committed);
//   53100 disk_full ... RESOURCE_EXHAUSTED, ErrorInfo reason STORAGE_FULL;
//   23505 unique_violation ... ALREADY_EXISTS;
//   other integrity violations (class 23) ... FAILED_PRECONDITION;
//   28xxx (authentication), 3D000 (no such database) ... FAILED_PRECONDITION
//     (configuration; retrying does not help);
//   everything else ... INTERNAL.
//
// Credentials: a connection URI / conninfo never carries a password
// (Connection::Open refuses one: command lines are visible to every user
// of the machine); the password comes from Open's `password` argument (read
// from a file by the caller) or libpq's environment (PGPASSWORD,
// PGPASSFILE).
//
// Thread-safety: a Connection is used by one thread at a time (libpq);
// Result is immutable once made.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct pg_conn;
struct pg_result;

namespace halfsky::postgres {

// One statement parameter: text (PostgreSQL parses it as the parameter's
// type), binary bytes (for bytea) or NULL.
struct Param {
  std::string value;
  bool binary = false;
  bool null = false;

  static Param Text(absl::string_view s) { return Param{std::string(s), false, false}; }
  static Param Int(int64_t v) { return Param{std::to_string(v), false, false}; }
  static Param Bool(bool v) { return Param{v ? "true" : "false", false, false}; }
  static Param Bytes(absl::string_view b) { return Param{std::string(b), true, false}; }
  static Param Null() { return Param{"", false, true}; }
};

// A PostgreSQL array literal ("{...}") built element by element, passed as
// one text parameter (cast in SQL: $1::bigint[], $2::text[], $3::bytea[]):
// many rows in one statement (INSERT ... SELECT * FROM unnest(...)).
class ArrayParam {
 public:
  void AddInt(int64_t v);
  void AddText(absl::string_view s);
  // Bytes of a bytea element (hex encoded into the literal).
  void AddBytes(absl::string_view b);
  void AddBool(bool v);
  size_t size() const { return size_; }
  // The literal as one text parameter.
  Param Build() const;

 private:
  std::string body_;
  size_t size_ = 0;
};

// The rows of one statement (text format; bytea columns via Bytes()).
class Result {
 public:
  Result() = default;
  explicit Result(pg_result* r);
  ~Result();
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  int columns() const;
  bool IsNull(int row, int col) const;
  absl::string_view View(int row, int col) const;
  std::string Text(int row, int col) const { return std::string(View(row, col)); }
  // 0 when NULL or not a number.
  int64_t Int(int row, int col) const;
  // "t" / "f".
  bool Bool(int row, int col) const { return View(row, col) == "t"; }
  // A bytea column (decoded from its text form).
  std::string Bytes(int row, int col) const;

 private:
  pg_result* r_ = nullptr;
};

class Connection {
 public:
  struct Options {
    // libpq URI ("postgresql://user@host:port/db?sslmode=...") or
    // key=value conninfo; must not contain a password.
    std::string conninfo;
    // From a file or the environment; "" lets libpq use PGPASSWORD /
    // PGPASSFILE.
    std::string password;
    // Shown in pg_stat_activity.
    std::string application_name = "halfsky";
    absl::Duration connect_timeout = absl::Seconds(10);
    // Further libpq connection parameters (keepalives, tcp_user_timeout,
    // ...); they override the same keywords in `conninfo`.
    std::vector<std::pair<std::string, std::string>> parameters;
  };

  // Connects. Errors: INVALID_ARGUMENT when the conninfo does not parse or
  // carries a password; UNAVAILABLE when the server cannot be reached or
  // refuses (the message names the address, never the password).
  static absl::StatusOr<Connection> Open(const Options& options);

  Connection() = default;
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One or more statements without parameters (e.g. a migration).
  absl::Status Exec(absl::string_view sql);
  // One statement with $1.. parameters; returns its rows (empty for
  // commands). Errors: MapError.
  absl::StatusOr<Result> Query(absl::string_view sql, const std::vector<Param>& params = {});
  // Query of a single integer cell (row 0, column 0); 0 when no row.
  absl::StatusOr<int64_t> QueryInt(absl::string_view sql, const std::vector<Param>& params = {});

  // True when the connection is usable (not broken).
  bool ok() const;
  // Reconnects a broken connection. Errors: as Open.
  absl::Status Reset();
  // The socket (for LISTEN: poll it, then ConsumeNotifications).
  int socket() const;
  // Reads what arrived and returns the payloads of pending notifications
  // (LISTEN). Errors: UNAVAILABLE when the connection broke.
  absl::StatusOr<std::vector<std::string>> ConsumeNotifications();

  pg_conn* get() const { return conn_; }
  // Where it is connected ("host:port/db"), for messages.
  std::string Describe() const;

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  void Close();
  pg_conn* conn_ = nullptr;
};

// Runs `fn` inside BEGIN ... COMMIT; ROLLBACK when `fn` or COMMIT fails.
// COMMIT returning OK means the transaction is durably committed (with the
// server's default synchronous_commit=on). Returns fn's error or COMMIT's.
absl::Status InTransaction(Connection& conn, const std::function<absl::Status()>& fn);

// The status for a failed result (nullptr: out of memory / connection
// lost): see the mapping above. `what` prefixes the message.
absl::Status MapError(const pg_result* result, pg_conn* conn, absl::string_view what);
// The mapping of one SQLSTATE (exposed for tests).
absl::StatusCode CodeForSqlState(absl::string_view sqlstate);

// True when `conninfo` (URI or key=value) names a password.
absl::StatusOr<bool> ConninfoHasPassword(const std::string& conninfo);

}  // namespace halfsky::postgres

#endif  // HALFSKY_COMMON_POSTGRES_POSTGRES_H_
