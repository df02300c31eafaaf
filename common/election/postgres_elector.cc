#include "common/election/postgres_elector.h"

#include <algorithm>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status.h"

namespace halfsky::election {
namespace {

// The lock's two int4 keys: (hashtext('halfsky-leader'), hashtext(role)).
// In pg_locks an advisory lock taken with two int4 keys shows them as
// classid and objid (their bit patterns as oid) with objsubid 2.
constexpr char kTryLock[] = "SELECT pg_try_advisory_lock(hashtext('halfsky-leader'), hashtext($1))";
constexpr char kHeld[] =
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND objsubid = 2"
    " AND classid = (hashtext('halfsky-leader')::bigint & 4294967295)::oid"
    " AND objid = (hashtext($1)::bigint & 4294967295)::oid";
// Taken while the table is created and the epoch row written, so that
// several roles (several locks) never race on CREATE TABLE.
constexpr char kTableLock[] = "SELECT pg_advisory_xact_lock(hashtext('halfsky-leader'), 0)";
constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS halfsky_leader ("
    " role text PRIMARY KEY,"
    " epoch bigint NOT NULL,"
    " holder text NOT NULL,"
    " since timestamptz NOT NULL)";
constexpr char kNextEpoch[] =
    "INSERT INTO halfsky_leader (role, epoch, holder, since) VALUES ($1, 1, $2, now())"
    " ON CONFLICT (role) DO UPDATE SET epoch = halfsky_leader.epoch + 1,"
    " holder = EXCLUDED.holder, since = EXCLUDED.since"
    " RETURNING epoch";

}  // namespace

PostgresLeaderElector::PostgresLeaderElector(PostgresElectorOptions options)
    : options_([&] {
        options.lease = std::max(options.lease, absl::Seconds(2));
        options.retry = std::max(options.retry, absl::Milliseconds(10));
        if (options.connection.application_name == "halfsky") {
          options.connection.application_name = "halfsky-" + options.role + "-election";
        }
        const int64_t lease_ms = absl::ToInt64Milliseconds(options.lease);
        // A broken network ends the client's side within the lease too.
        for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
                 {"keepalives", "1"},
                 {"keepalives_idle", "1"},
                 {"keepalives_interval", "1"},
                 {"keepalives_count", absl::StrCat(std::max<int64_t>(1, lease_ms / 1000))},
                 {"tcp_user_timeout", absl::StrCat(lease_ms)}}) {
          options.connection.parameters.emplace_back(k, v);
        }
        return std::move(options);
      }()) {}

PostgresLeaderElector::~PostgresLeaderElector() { Release(); }

absl::Status PostgresLeaderElector::Connect() {
  held_ = false;
  conn_.reset();
  HALFSKY_ASSIGN_OR_RETURN(postgres::Connection conn,
                           postgres::Connection::Open(options_.connection));
  const int64_t lease_ms = absl::ToInt64Milliseconds(options_.lease);
  const int64_t keepalive_count = std::max<int64_t>(1, lease_ms / 1000);
  // The server ends a session silent for the lease (a stopped or hung
  // leader), or whose peer stopped answering keepalives; either releases
  // the lock. No statement may wait longer than the lease.
  HALFSKY_RETURN_IF_ERROR(conn.Exec(
      absl::StrCat("SET idle_session_timeout = ", lease_ms, "; SET statement_timeout = ", lease_ms,
                   "; SET tcp_keepalives_idle = 1; SET tcp_keepalives_interval = 1;"
                   " SET tcp_keepalives_count = ",
                   keepalive_count)));
  conn_ = std::move(conn);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int64_t>> PostgresLeaderElector::TryLock() {
  if (!conn_ || !conn_->ok()) {
    HALFSKY_RETURN_IF_ERROR(Connect());
  }
  HALFSKY_ASSIGN_OR_RETURN(postgres::Result got,
                           conn_->Query(kTryLock, {postgres::Param::Text(options_.role)}));
  if (got.rows() != 1 || !got.Bool(0, 0)) {
    return std::optional<int64_t>();
  }
  held_ = true;
  int64_t epoch = 0;
  absl::Status st = postgres::InTransaction(*conn_, [&]() -> absl::Status {
    HALFSKY_RETURN_IF_ERROR(conn_->Query(kTableLock).status());
    HALFSKY_RETURN_IF_ERROR(conn_->Exec(kCreateTable));
    HALFSKY_ASSIGN_OR_RETURN(epoch,
                             conn_->QueryInt(kNextEpoch, {postgres::Param::Text(options_.role),
                                                          postgres::Param::Text(options_.holder)}));
    return absl::OkStatus();
  });
  if (!st.ok() || epoch <= 0) {
    // Never lead without a committed epoch.
    Release();
    return st.ok() ? absl::InternalError("halfsky_leader returned no epoch") : st;
  }
  return std::optional<int64_t>(epoch);
}

absl::StatusOr<int64_t> PostgresLeaderElector::Acquire(const std::function<bool()>& stopping) {
  std::string last_error;
  while (!stopping()) {
    absl::StatusOr<std::optional<int64_t>> got = TryLock();
    if (got.ok() && got->has_value()) {
      if (!last_error.empty()) {
        std::cerr << "halfsky: leader election: PostgreSQL reachable again\n";
      }
      return **got;
    }
    if (!got.ok()) {
      if (absl::IsFailedPrecondition(got.status()) || absl::IsInvalidArgument(got.status())) {
        conn_.reset();
        return got.status();
      }
      const std::string message(got.status().message());
      if (message != last_error) {
        std::cerr << "halfsky: leader election: " << got.status() << "; retrying every "
                  << options_.retry << "\n";
        last_error = message;
      }
      conn_.reset();
    }
    // Wait, watching `stopping` every 100 ms.
    const absl::Time until = absl::Now() + options_.retry;
    while (!stopping() && absl::Now() < until) {
      absl::SleepFor(std::min(absl::Milliseconds(100), until - absl::Now()));
    }
  }
  return absl::CancelledError("leader election stopped");
}

absl::Status PostgresLeaderElector::Renew() {
  if (!held_ || !conn_) {
    return absl::FailedPreconditionError("the leadership is not held");
  }
  absl::StatusOr<int64_t> n = conn_->QueryInt(kHeld, {postgres::Param::Text(options_.role)});
  if (!n.ok()) {
    held_ = false;
    return n.status();
  }
  if (*n < 1) {
    held_ = false;
    return absl::FailedPreconditionError("the advisory lock is no longer held by this session");
  }
  return absl::OkStatus();
}

void PostgresLeaderElector::Release() {
  if (conn_ && conn_->ok() && held_) {
    (void)conn_->Query("SELECT pg_advisory_unlock_all()");
  }
  held_ = false;
  conn_.reset();
}

}  // namespace halfsky::election
