// halfsky-aggregation: the statistics bureau's aggregation service. Follows
// the submission service's change feed, keeps the aggregates in memory and in
// Redis (common/cache/cache_layout.h), and serves
// halfsky.v1.AggregationService.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/auth/credentials.h"
#include "common/clock/clock.h"
#include "common/election/postgres_elector.h"
#include "common/redis/hiredis_client.h"
#include "common/redis/redis_flags.h"
#include "common/redis/secret_file.h"
#include "common/server/server.h"
#include "grpcpp/grpcpp.h"
#include "services/aggregation/aggregation_service.h"
#include "services/aggregation/follower.h"
#include "services/aggregation/leader_role.h"

ABSL_FLAG(std::string, submission, "127.0.0.1:7301", "Submission service address HOST:PORT.");
ABSL_FLAG(std::string, submission_token_file, "",
          "File holding the bearer token this service presents to the submission service "
          "(WatchChanges). Empty: no token (submission in no-auth mode).");
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

namespace {

// Exit status of a replica that lost the leadership (it is restarted as a
// standby by its supervisor).
constexpr int kExitLostLeadership = 3;

absl::StatusOr<std::unique_ptr<halfsky::election::LeaderElector>> ElectorFromFlags() {
  std::string flag = absl::GetFlag(FLAGS_leader_election);
  if (flag.empty()) {
    return nullptr;
  }
  absl::string_view conninfo = flag;
  if (!absl::ConsumePrefix(&conninfo, "postgres:")) {
    return absl::InvalidArgumentError(
        "--leader_election: expected postgres:CONNINFO (or empty for a single aggregator)");
  }
  halfsky::election::PostgresElectorOptions options;
  options.connection.conninfo = std::string(conninfo);
  if (const std::string file = absl::GetFlag(FLAGS_leader_election_password_file); !file.empty()) {
    absl::StatusOr<std::string> password = halfsky::ReadSecretFile(file);
    if (!password.ok()) {
      return password.status();
    }
    options.connection.password = *std::move(password);
  }
  absl::StatusOr<bool> has_password =
      halfsky::postgres::ConninfoHasPassword(options.connection.conninfo);
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
  return std::make_unique<halfsky::election::PostgresLeaderElector>(std::move(options));
}

}  // namespace

int main(int argc, char** argv) {
  halfsky::InitService(argc, argv, "halfsky-aggregation");
  const halfsky::ServerOptions options = halfsky::ServerOptionsFromFlags("halfsky-aggregation");
  auto catalog = halfsky::LoadCatalogFromFlags();
  auto authenticator = halfsky::auth::AuthenticatorFromFlags();  // --tokens_file
  if (!authenticator.ok()) {
    std::cerr << "halfsky-aggregation: " << authenticator.status() << "\n";
    return 2;
  }
  absl::StatusOr<halfsky::CacheConnection> cache = halfsky::CacheConnectionFromFlags();
  if (!cache.ok()) {
    std::cerr << "halfsky-aggregation: " << cache.status() << "\n";
    return 2;
  }
  const halfsky::HiredisOptions& redis_options = cache->redis;
  halfsky::aggregation::FollowerOptions follower_options;
  follower_options.cache_mac_key = cache->cache_mac_key;
  if (follower_options.cache_mac_key.empty()) {
    std::cerr << "halfsky-aggregation: warning: no --cache_mac_key_file: cached values are "
                 "not authenticated\n";
  }
  follower_options.metrics = &halfsky::ServiceMetrics();
  if (absl::StatusOr<std::string> token =
          halfsky::auth::ReadTokenFile(absl::GetFlag(FLAGS_submission_token_file));
      token.ok()) {
    follower_options.submission_token = *std::move(token);
  } else {
    std::cerr << "halfsky-aggregation: --submission_token_file: " << token.status().message()
              << "\n";
    return 2;
  }

  absl::StatusOr<std::unique_ptr<halfsky::election::LeaderElector>> elector = ElectorFromFlags();
  if (!elector.ok()) {
    std::cerr << "halfsky-aggregation: " << elector.status() << "\n";
    return 2;
  }
  // Set before the first signal can arrive (the role's callbacks).
  static std::atomic<bool> lost_leadership{false};
  halfsky::aggregation::LeaderRole* role_ptr = nullptr;
  follower_options.on_superseded = [&role_ptr](const absl::Status& why) {
    if (role_ptr != nullptr) {
      role_ptr->Lost(why);
    }
  };

  halfsky::HiredisClient redis(redis_options);
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_submission), halfsky::UpstreamCredentialsFromFlags());
  halfsky::aggregation::AggregationState state(catalog);
  halfsky::aggregation::Follower follower(catalog, channel, &redis, &state, follower_options);
  halfsky::AggregationServiceImpl service(catalog, &state, &follower, halfsky::ClockFromFlags(),
                                          (*authenticator)->AsFunction());
  halfsky::aggregation::LeaderRole::Options role_options;
  role_options.leadership.lease = absl::GetFlag(FLAGS_leader_election_lease);
  role_options.metrics = &halfsky::ServiceMetrics();
  role_options.on_lost = [](const absl::Status&) {
    lost_leadership = true;
    ::kill(::getpid(), SIGTERM);  // drain and exit; restarted as a standby
  };
  halfsky::aggregation::LeaderRole role(*std::move(elector), &follower, &state, role_options);
  role_ptr = &role;
  halfsky::RunHooks hooks;
  hooks.after_start = [&role](halfsky::RunningServer& server) {
    role.AttachServer(server.server());
    role.Start();
  };
  hooks.before_shutdown = [&role] { role.Stop(); };
  const int rc = halfsky::RunServer(options, catalog, {&service}, hooks);
  role_ptr = nullptr;
  return lost_leadership ? kExitLostLeadership : rc;
}
