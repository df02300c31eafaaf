#ifndef HALFSKY_COMMON_ELECTION_POSTGRES_ELECTOR_H_
#define HALFSKY_COMMON_ELECTION_POSTGRES_ELECTOR_H_

// A LeaderElector on PostgreSQL (the database of the submission store when
// it runs on PostgreSQL): the leader holds a SESSION advisory lock on a
// connection of its own.
//
//   Acquire: every `retry` interval, pg_try_advisory_lock on the role's key
//     (hashtext('halfsky-leader'), hashtext(role)). Once held, the epoch is
//     taken from table halfsky_leader (created if missing; one row per
//     role: epoch, holder, since): UPDATE ... SET epoch = epoch + 1
//     RETURNING epoch, committed before Acquire returns. Only the lock
//     holder writes that row, so epochs are strictly increasing and two
//     replicas never get the same one.
//   Renew: one round trip that finds the lock in pg_locks for this
//     session.
//   Release: pg_advisory_unlock_all, then the connection is closed.
//
// The lock is released by the server when the session ends: the process
// exits or is killed (its socket closes), the connection breaks (TCP
// keepalives every second, tcp_user_timeout = lease), or the session stays
// idle for `lease` (idle_session_timeout, set on the session: a stopped or
// hung leader is ended by the server). A standby therefore takes over
// within about lease + retry of the leader's last renewal; Leadership
// declares the old leader lost after the same lease, and the epoch fences
// whatever it still tries to write.
//
// Errors: Acquire retries UNAVAILABLE (server down, restarting) itself and
// logs it once per outage; FAILED_PRECONDITION (authentication, missing
// database) is returned. Renew returns the connection's error.
//
// Thread-compatible.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/election/leader_elector.h"
#include "common/postgres/postgres.h"

namespace halfsky::election {

struct PostgresElectorOptions {
  // conninfo without password; the password from the environment
  // (PGPASSWORD, PGPASSFILE) or `connection.password`.
  postgres::Connection::Options connection;
  // The role elected ("aggregation"): names the lock and the epoch row.
  std::string role = "aggregation";
  // Who asks (host name, pod name): recorded in halfsky_leader.holder.
  std::string holder;
  // A silent session is ended (and its lock released) after this; >= 2 s.
  absl::Duration lease = absl::Seconds(5);
  // A standby tries to take the lock this often.
  absl::Duration retry = absl::Seconds(1);
};

class PostgresLeaderElector final : public LeaderElector {
 public:
  explicit PostgresLeaderElector(PostgresElectorOptions options);
  ~PostgresLeaderElector() override;

  absl::StatusOr<int64_t> Acquire(const std::function<bool()>& stopping) override;
  absl::Status Renew() override;
  void Release() override;

 private:
  // Connects and configures the session (timeouts, keepalives).
  absl::Status Connect();
  // Takes the lock if free: the epoch, or nullopt when another holds it.
  absl::StatusOr<std::optional<int64_t>> TryLock();

  const PostgresElectorOptions options_;
  std::optional<postgres::Connection> conn_;
  bool held_ = false;
};

}  // namespace halfsky::election

#endif  // HALFSKY_COMMON_ELECTION_POSTGRES_ELECTOR_H_
