#include "common/postgres/postgres.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace halfsky::postgres {

// ------------------------------------------------------------ ArrayParam

namespace {

void AppendQuoted(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
    }
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

void ArrayParam::AddInt(int64_t v) {
  if (size_++ > 0) body_.push_back(',');
  absl::StrAppend(&body_, v);
}

void ArrayParam::AddText(absl::string_view s) {
  if (size_++ > 0) body_.push_back(',');
  AppendQuoted(&body_, s);
}

void ArrayParam::AddBytes(absl::string_view b) {
  if (size_++ > 0) body_.push_back(',');
  // bytea's hex input form, "\x..." (the backslash escaped in the literal).
  absl::StrAppend(&body_, "\"\\\\x", absl::BytesToHexString(b), "\"");
}

void ArrayParam::AddBool(bool v) {
  if (size_++ > 0) body_.push_back(',');
  body_ += v ? "t" : "f";
}

Param ArrayParam::Build() const { return Param::Text(absl::StrCat("{", body_, "}")); }

// ---------------------------------------------------------------- Result

Result::Result(pg_result* r) : r_(r) {}
Result::~Result() {
  if (r_ != nullptr) PQclear(r_);
}
Result::Result(Result&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    if (r_ != nullptr) PQclear(r_);
    r_ = std::exchange(other.r_, nullptr);
  }
  return *this;
}
int Result::rows() const { return r_ == nullptr ? 0 : PQntuples(r_); }
int Result::columns() const { return r_ == nullptr ? 0 : PQnfields(r_); }
bool Result::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
absl::string_view Result::View(int row, int col) const {
  return absl::string_view(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}
int64_t Result::Int(int row, int col) const {
  int64_t v = 0;
  if (!absl::SimpleAtoi(View(row, col), &v)) {
    return 0;
  }
  return v;
}
std::string Result::Bytes(int row, int col) const {
  size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
  if (raw == nullptr) {
    return "";
  }
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

// ------------------------------------------------------------ error mapping

absl::StatusCode CodeForSqlState(absl::string_view state) {
  if (state == "53100") {
    return absl::StatusCode::kResourceExhausted;
  }
  if (state == "23505") {
    return absl::StatusCode::kAlreadyExists;
  }
  if (absl::StartsWith(state, "23")) {
    return absl::StatusCode::kFailedPrecondition;
  }
  if (absl::StartsWith(state, "08") ||  // connection exception
      absl::StartsWith(state, "40") ||  // serialization failure, deadlock
      absl::StartsWith(state, "53") ||  // insufficient resources (not disk_full)
      state == "55P03" ||               // lock_not_available
      state == "57P01" || state == "57P02" || state == "57P03" ||  // shutdown, cannot connect
      state == "57014") {                                          // query_canceled
    return absl::StatusCode::kUnavailable;
  }
  if (absl::StartsWith(state, "28") || state == "3D000" || state == "42501") {
    return absl::StatusCode::kFailedPrecondition;
  }
  return absl::StatusCode::kInternal;
}

absl::Status MapError(const pg_result* result, pg_conn* conn, absl::string_view what) {
  std::string message = result != nullptr ? PQresultErrorMessage(result) : "";
  if (message.empty() && conn != nullptr) {
    message = PQerrorMessage(conn);
  }
  absl::StripTrailingAsciiWhitespace(&message);
  const char* state_c = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  absl::StatusCode code;
  std::string state;
  if (state_c != nullptr) {
    state = state_c;
    code = CodeForSqlState(state);
  } else {
    // No SQLSTATE: the client failed (connection lost, out of memory).
    code = absl::StatusCode::kUnavailable;
  }
  absl::Status status(
      code, absl::StrCat("postgres: ", what, ": ", message, state.empty() ? "" : " [SQLSTATE ",
                         state, state.empty() ? "" : "]"));
  if (state == "53100") {
    return WithReason(
        absl::Status(code, absl::StrCat("数据库磁盘已满 / database disk full: ", status.message())),
        "STORAGE_FULL");
  }
  return status;
}

// ------------------------------------------------------------ Connection

absl::StatusOr<bool> ConninfoHasPassword(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    std::string message = err != nullptr ? err : "out of memory";
    if (err != nullptr) PQfreemem(err);
    absl::StripTrailingAsciiWhitespace(&message);
    return absl::InvalidArgumentError(
        absl::StrCat("数据库地址无法解析 / cannot parse the PostgreSQL address: ", message));
  }
  bool has = false;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == "password" && o->val != nullptr && o->val[0] != '\0') {
      has = true;
    }
  }
  PQconninfoFree(opts);
  return has;
}

absl::StatusOr<Connection> Connection::Open(const Options& options) {
  HALFSKY_ASSIGN_OR_RETURN(const bool has_password, ConninfoHasPassword(options.conninfo));
  if (has_password) {
    return absl::InvalidArgumentError(
        "数据库地址中不得含密码，请用密码文件或 PGPASSWORD / the PostgreSQL address must not "
        "carry a password (command lines are visible to every user): use --store_password_file "
        "or PGPASSWORD");
  }
  const std::string timeout =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(options.connect_timeout)));
  std::vector<const char*> keys = {"dbname", "fallback_application_name", "connect_timeout"};
  std::vector<const char*> values = {options.conninfo.c_str(), options.application_name.c_str(),
                                     timeout.c_str()};
  for (const auto& [key, value] : options.parameters) {
    if (key == "password") {
      return absl::InvalidArgumentError("postgres: the password is passed as Options::password");
    }
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  if (!options.password.empty()) {
    keys.push_back("password");
    values.push_back(options.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  pg_conn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) {
    return absl::ResourceExhaustedError("postgres: out of memory");
  }
  Connection c(conn);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    absl::StripTrailingAsciiWhitespace(&message);
    return absl::UnavailableError(
        absl::StrCat("无法连接数据库 / cannot connect to PostgreSQL: ", message));
  }
  // Text in UTF-8 whatever the server's default; NOTICEs (e.g. "already
  // exists, skipping") not printed.
  HALFSKY_RETURN_IF_ERROR(
      c.Exec("SET client_encoding = 'UTF8'; SET client_min_messages = warning"));
  return c;
}

Connection::~Connection() { Close(); }
Connection::Connection(Connection&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    Close();
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}
void Connection::Close() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

bool Connection::ok() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

absl::Status Connection::Reset() {
  if (conn_ == nullptr) {
    return absl::FailedPreconditionError("postgres: connection was never opened");
  }
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn_);
    absl::StripTrailingAsciiWhitespace(&message);
    return absl::UnavailableError(
        absl::StrCat("无法重新连接数据库 / cannot reconnect to PostgreSQL: ", message));
  }
  return absl::OkStatus();
}

int Connection::socket() const { return PQsocket(conn_); }

std::string Connection::Describe() const {
  if (conn_ == nullptr) return "(closed)";
  return absl::StrCat(PQhost(conn_), ":", PQport(conn_), "/", PQdb(conn_));
}

absl::Status Connection::Exec(absl::string_view sql) {
  const std::string s(sql);
  pg_result* r = PQexec(conn_, s.c_str());
  const ExecStatusType st = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  absl::Status status;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    status = MapError(r, conn_, s.substr(0, 60));
  }
  if (r != nullptr) PQclear(r);
  return status;
}

absl::StatusOr<Result> Connection::Query(absl::string_view sql, const std::vector<Param>& params) {
  const std::string s(sql);
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].null ? nullptr : params[i].value.data();
    lengths[i] = static_cast<int>(params[i].value.size());
    formats[i] = params[i].binary ? 1 : 0;
  }
  pg_result* r = PQexecParams(conn_, s.c_str(), static_cast<int>(params.size()), nullptr,
                              values.data(), lengths.data(), formats.data(), /*resultFormat=*/0);
  const ExecStatusType st = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    absl::Status status = MapError(r, conn_, s.substr(0, 60));
    if (r != nullptr) PQclear(r);
    return status;
  }
  return Result(r);
}

absl::StatusOr<int64_t> Connection::QueryInt(absl::string_view sql,
                                             const std::vector<Param>& params) {
  HALFSKY_ASSIGN_OR_RETURN(Result r, Query(sql, params));
  if (r.rows() == 0 || r.columns() == 0 || r.IsNull(0, 0)) {
    return 0;
  }
  return r.Int(0, 0);
}

absl::StatusOr<std::vector<std::string>> Connection::ConsumeNotifications() {
  if (PQconsumeInput(conn_) == 0) {
    std::string message = PQerrorMessage(conn_);
    absl::StripTrailingAsciiWhitespace(&message);
    return absl::UnavailableError(absl::StrCat("postgres: connection lost: ", message));
  }
  std::vector<std::string> out;
  while (PGnotify* n = PQnotifies(conn_)) {
    out.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return out;
}

absl::Status InTransaction(Connection& conn, const std::function<absl::Status()>& fn) {
  HALFSKY_RETURN_IF_ERROR(conn.Exec("BEGIN"));
  absl::Status st = fn();
  if (st.ok()) {
    st = conn.Exec("COMMIT");
    if (st.ok()) {
      return st;
    }
  }
  conn.Exec("ROLLBACK").IgnoreError();
  return st;
}

}  // namespace halfsky::postgres
