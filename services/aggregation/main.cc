// halfsky-aggregation: the statistics bureau's aggregation service. Follows
// the submission service's change feed, keeps the aggregates in memory and in
// Redis (common/cache/cache_layout.h), and serves
// halfsky.v1.AggregationService.
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "common/auth/authenticator.h"
#include "common/auth/credentials.h"
#include "common/clock/clock.h"
#include "common/redis/hiredis_client.h"
#include "common/redis/redis_flags.h"
#include "common/server/server.h"
#include "grpcpp/grpcpp.h"
#include "services/aggregation/aggregation_service.h"
#include "services/aggregation/follower.h"

ABSL_FLAG(std::string, submission, "127.0.0.1:7301", "Submission service address HOST:PORT.");
ABSL_FLAG(std::string, submission_token_file, "",
          "File holding the bearer token this service presents to the submission service "
          "(WatchChanges). Empty: no token (submission in no-auth mode).");
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

  halfsky::HiredisClient redis(redis_options);
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_submission), halfsky::UpstreamCredentialsFromFlags());
  halfsky::aggregation::AggregationState state(catalog);
  halfsky::aggregation::Follower follower(catalog, channel, &redis, &state, follower_options);
  halfsky::AggregationServiceImpl service(catalog, &state, &follower, halfsky::ClockFromFlags(),
                                          (*authenticator)->AsFunction());
  follower.Start();
  halfsky::RunHooks hooks;
  hooks.before_shutdown = [&follower] { follower.Stop(); };
  return halfsky::RunServer(options, catalog, {&service}, hooks);
}
