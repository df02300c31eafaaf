#include "common/election/election_flags.h"

#include <unistd.h>

#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/election/postgres_elector.h"
#include "common/redis/secret_file.h"

ABSL_FLAG(std::string, leader_election, "",
          "Several aggregation replicas, one active: postgres:CONNINFO elects the leader with a "
          "PostgreSQL advisory lock (a libpq URI or key=value conninfo; host, port, database and "
          "user may come from PGHOST, PGPORT, PGDATABASE, PGUSER; the password from "
          "--leader_election_password_file or PGPASSWORD, never here). The others stand by. "
          "Empty: this process is the only aggregator.");
ABSL_FLAG(std::string, leader_election_password_file, "",
          "File holding the password of --leader_election's database user.");
ABSL_FLAG(absl::Duration, leader_election_lease, absl::Seconds(5),
          "A leader silent for this long loses the leadership (the database ends its session; "
          "it stops itself); a standby takes over within about this plus one second.");

namespace halfsky::election {

absl::Duration LeaseFromFlags() { return absl::GetFlag(FLAGS_leader_election_lease); }

absl::StatusOr<std::unique_ptr<LeaderElector>> ElectorFromFlags(const std::string& role) {
  std::string flag = absl::GetFlag(FLAGS_leader_election);
  if (flag.empty()) {
    return nullptr;
  }
  absl::string_view conninfo = flag;
  if (!absl::ConsumePrefix(&conninfo, "postgres:")) {
    return absl::InvalidArgumentError(
        "--leader_election: expected postgres:CONNINFO (or empty for a single aggregator)");
  }
  PostgresElectorOptions options;
  options.role = role;
  options.connection.conninfo = std::string(conninfo);
  if (const std::string file = absl::GetFlag(FLAGS_leader_election_password_file); !file.empty()) {
    absl::StatusOr<std::string> password = ReadSecretFile(file);
    if (!password.ok()) {
      return password.status();
    }
    options.connection.password = *std::move(password);
  }
  absl::StatusOr<bool> has_password = postgres::ConninfoHasPassword(options.connection.conninfo);
  if (!has_password.ok()) {
    return has_password.status();
  }
  if (*has_password) {
    return absl::InvalidArgumentError(
        "--leader_election must not carry a password (command lines are visible to every "
        "user): use --leader_election_password_file or PGPASSWORD");
  }
  char host[256] = {};
  (void)gethostname(host, sizeof(host) - 1);
  options.holder = absl::StrCat(host, " pid ", getpid());
  options.lease = absl::GetFlag(FLAGS_leader_election_lease);
  if (options.lease < absl::Seconds(2)) {
    return absl::InvalidArgumentError("--leader_election_lease must be at least 2s");
  }
  return std::make_unique<PostgresLeaderElector>(std::move(options));
}

}  // namespace halfsky::election
