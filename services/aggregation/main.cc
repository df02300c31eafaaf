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
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/auth/credentials.h"
#include "common/clock/clock.h"
#include "common/election/election_flags.h"
#include "common/redis/hiredis_client.h"
#include "common/redis/redis_flags.h"
#include "common/server/server.h"
#include "grpcpp/grpcpp.h"
#include "services/aggregation/aggregation_service.h"
#include "services/aggregation/follower.h"
#include "services/aggregation/leader_role.h"

ABSL_FLAG(std::string, submission, "127.0.0.1:7301", "Submission service address HOST:PORT.");
ABSL_FLAG(std::string, submission_token_file, "",
          "File holding the bearer token this service presents to the submission service "
          "(WatchChanges). Empty: no token (submission in no-auth mode).");

namespace {

// Exit status of a replica that lost the leadership (it is restarted as a
// standby by its supervisor).
constexpr int kExitLostLeadership = 3;

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

  absl::StatusOr<std::unique_ptr<halfsky::election::LeaderElector>> elector =
      halfsky::election::ElectorFromFlags("aggregation");
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
  role_options.leadership.lease = halfsky::election::LeaseFromFlags();
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
