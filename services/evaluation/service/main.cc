// halfsky-evaluation: the assessment group's evaluation service. Reads the
// aggregates from Redis (falling back to the aggregation service), the
// reporting status from the submission service, and serves warnings.
// With --follow=HOST:PORT it is a read replica of the evaluation service
// there instead (services/evaluation/service/replica.h): no store, no
// evaluation; --db, --redis, --submission, --aggregation and their token
// files are then ignored.
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "common/auth/authenticator.h"
#include "common/auth/credentials.h"
#include "common/clock/clock.h"
#include "common/redis/hiredis_client.h"
#include "common/redis/redis_flags.h"
#include "common/server/server.h"
#include "services/evaluation/service/evaluation_service.h"
#include "services/evaluation/service/evaluator.h"
#include "services/evaluation/service/followup_service.h"
#include "services/evaluation/service/followup_store.h"
#include "services/evaluation/service/followup_tracker.h"
#include "services/evaluation/service/replica.h"
#include "services/evaluation/service/series_source.h"
#include "services/evaluation/service/service_metrics.h"
#include "services/evaluation/service/warning_engine.h"
#include "services/evaluation/service/warning_store.h"

ABSL_FLAG(std::string, submission, "127.0.0.1:7301", "Submission service address HOST:PORT.");
ABSL_FLAG(std::string, aggregation, "127.0.0.1:7302", "Aggregation service address HOST:PORT.");
ABSL_FLAG(std::string, db, "var/evaluation.db",
          "SQLite file for warning lifecycle and acknowledgements.");
ABSL_FLAG(absl::Duration, reevaluate_interval, absl::Minutes(5),
          "Period of the full re-evaluation (catches lost update messages and due dates).");
ABSL_FLAG(absl::Duration, late_data_interval, absl::Seconds(15),
          "Re-check late data (reporting status only) this often between full passes: a write "
          "that changes no aggregate (a narrative) publishes no update message.");
ABSL_FLAG(int, area_depth, 1,
          "Areas evaluated: 0 = the root area only, 1 = also its children (a district's "
          "towns/subdistricts, a province's cities), N = every area up to N levels below the "
          "root (an area below the root is judged against its parent: it warns only where "
          "its data is as complete as its parent's, never on fluctuation, and on a target of "
          "its parent's plan only where it is worse than the parent, so a county-wide problem "
          "is one warning, not one per town).");
ABSL_FLAG(int, first_reporting_year, 0,
          "First data year whose late data warns: the year monitoring started in this "
          "deployment. 0 = the catalog's base year.");
ABSL_FLAG(int, late_orange_after_days, 90,
          "Late data: yellow from the due date, orange from this many days past it.");
ABSL_FLAG(int, late_red_after_days, 180, "Late data: red from this many days past the due date.");
ABSL_FLAG(bool, approved_only, false,
          "Evaluate approved data only (审核通过的数据): figures containing unapproved data "
          "(含未审核数据) are left out and the sentences say which years (数据不完整); "
          "off: they are used and marked 含未审核数据.");
ABSL_FLAG(std::string, submission_token_file, "",
          "File holding the bearer token presented to the submission service "
          "(GetReportingStatus). Empty: no token.");
ABSL_FLAG(std::string, aggregation_token_file, "",
          "File holding the bearer token presented to the aggregation service (GetSeries "
          "fallback). Empty: no token.");
ABSL_FLAG(int, max_watch_queue, 1024,
          "Events queued per WatchWarnings stream before it is dropped.");
ABSL_FLAG(std::string, follow, "",
          "Run as a read replica of the primary evaluation service at HOST:PORT (TLS with "
          "--upstream_tls_ca). Empty: this is the primary.");
ABSL_FLAG(std::string, follow_token_file, "",
          "File holding the bearer token the replica presents to the primary for its "
          "WatchWarnings stream (forwarded calls carry the caller's). Empty: no token.");

ABSL_FLAG(std::string, followup_plan_days, "red=7,orange=14,yellow=30",
          "Follow-up (督办): days after a warning fires by which its record needs a plan "
          "(整改措施), per severity; past them it escalates.");
ABSL_FLAG(absl::Duration, followup_check_interval, absl::Minutes(1),
          "Follow-up: how often records are checked for escalations and expired silences "
          "(also on every warning change and every follow-up call).");

int main(int argc, char** argv) {
  halfsky::InitService(argc, argv, "halfsky-evaluation");
  const halfsky::ServerOptions options = halfsky::ServerOptionsFromFlags("halfsky-evaluation");
  auto catalog = halfsky::LoadCatalogFromFlags();
  halfsky::Clock* clock = halfsky::ClockFromFlags();
  auto authenticator = halfsky::auth::AuthenticatorFromFlags();
  if (!authenticator.ok()) {
    std::cerr << "halfsky-evaluation: " << authenticator.status() << "\n";
    return 2;
  }
  std::string submission_token;
  std::string aggregation_token;
  std::string follow_token;
  for (auto [flag, out] :
       {std::pair{absl::GetFlag(FLAGS_submission_token_file), &submission_token},
        std::pair{absl::GetFlag(FLAGS_aggregation_token_file), &aggregation_token},
        std::pair{absl::GetFlag(FLAGS_follow_token_file), &follow_token}}) {
    absl::StatusOr<std::string> token = halfsky::auth::ReadTokenFile(flag);
    if (!token.ok()) {
      std::cerr << "halfsky-evaluation: " << token.status().message() << "\n";
      return 2;
    }
    *out = *std::move(token);
  }
  if (const std::string primary = absl::GetFlag(FLAGS_follow); !primary.empty()) {
    halfsky::evaluation::ReplicaConfig replica;
    replica.server = options;
    replica.primary = primary;
    replica.primary_credentials = halfsky::UpstreamCredentialsFromFlags();
    replica.primary_token = follow_token;
    replica.service.max_watch_queue = static_cast<size_t>(absl::GetFlag(FLAGS_max_watch_queue));
    return halfsky::evaluation::RunReplica(replica, catalog, (*authenticator)->AsFunction(), clock);
  }
  absl::StatusOr<halfsky::CacheConnection> connection = halfsky::CacheConnectionFromFlags();
  if (!connection.ok()) {
    std::cerr << "halfsky-evaluation: " << connection.status() << "\n";
    return 2;
  }
  const halfsky::HiredisOptions& redis_options = connection->redis;
  const std::string cache_mac_key = connection->cache_mac_key;
  auto store = halfsky::evaluation::WarningStore::Open(absl::GetFlag(FLAGS_db));
  if (!store.ok()) {
    std::cerr << "halfsky-evaluation: " << store.status() << "\n";
    return 1;
  }
  auto engine = halfsky::evaluation::WarningEngine::Create(store->get(), clock);
  if (!engine.ok()) {
    std::cerr << "halfsky-evaluation: " << engine.status() << "\n";
    return 1;
  }
  halfsky::evaluation::EvaluationMetrics metrics(&halfsky::ServiceMetrics());
  (*engine)->SetObserver(
      [&metrics](const halfsky::evaluation::WarningSet& set) { metrics.UpdateWarnings(set); });
  metrics.SetLastFullPass(absl::InfinitePast());
  halfsky::HiredisClient redis(redis_options);
  halfsky::evaluation::RedisSeriesSource cache(
      &redis, cache_mac_key,
      metrics.registry()->GetCounter("halfsky_evaluation_cache_rejected_total",
                                     "Cached series values refused because their "
                                     "authentication tag did not match (read from the "
                                     "aggregation service instead)."));
  halfsky::evaluation::InstrumentedSeriesSource counted_cache(&cache, metrics.registry(), "redis",
                                                              /*fallback=*/false);
  halfsky::evaluation::GrpcSeriesSource aggregation(
      grpc::CreateChannel(absl::GetFlag(FLAGS_aggregation),
                          halfsky::UpstreamCredentialsFromFlags()),
      aggregation_token);
  halfsky::evaluation::InstrumentedSeriesSource counted_aggregation(
      &aggregation, metrics.registry(), "aggregation", /*fallback=*/true);
  halfsky::evaluation::FallbackSeriesSource series(&counted_cache, &counted_aggregation);
  halfsky::evaluation::GrpcReportingSource reporting(
      grpc::CreateChannel(absl::GetFlag(FLAGS_submission), halfsky::UpstreamCredentialsFromFlags()),
      submission_token);
  halfsky::evaluation::EvaluatorOptions evaluator_options;
  evaluator_options.full_pass_interval = absl::GetFlag(FLAGS_reevaluate_interval);
  evaluator_options.late_data_interval = absl::GetFlag(FLAGS_late_data_interval);
  evaluator_options.area_depth = absl::GetFlag(FLAGS_area_depth);
  evaluator_options.first_reporting_year = absl::GetFlag(FLAGS_first_reporting_year);
  evaluator_options.method.late_orange_after_days = absl::GetFlag(FLAGS_late_orange_after_days);
  evaluator_options.method.late_red_after_days = absl::GetFlag(FLAGS_late_red_after_days);
  evaluator_options.method.approved_only = absl::GetFlag(FLAGS_approved_only);
  if (!(evaluator_options.method.late_orange_after_days > 0 &&
        evaluator_options.method.late_red_after_days >
            evaluator_options.method.late_orange_after_days)) {
    std::cerr << "halfsky-evaluation: --late_orange_after_days and --late_red_after_days must "
                 "be 0 < orange < red\n";
    return 2;
  }
  if (evaluator_options.first_reporting_year < 0 || evaluator_options.area_depth < 0) {
    std::cerr << "halfsky-evaluation: --first_reporting_year and --area_depth must be >= 0\n";
    return 2;
  }
  evaluator_options.metrics = &metrics;
  halfsky::evaluation::Evaluator evaluator(catalog, &series, &reporting, engine->get(), clock,
                                           evaluator_options);
  auto plan_days =
      halfsky::evaluation::ParseEscalationSettings(absl::GetFlag(FLAGS_followup_plan_days));
  if (!plan_days.ok()) {
    std::cerr << "halfsky-evaluation: --followup_plan_days: " << plan_days.status() << "\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_followup_check_interval) <= absl::ZeroDuration()) {
    std::cerr << "halfsky-evaluation: --followup_check_interval must be positive\n";
    return 2;
  }
  auto followup_store = halfsky::evaluation::FollowUpStore::Open(absl::GetFlag(FLAGS_db));
  if (!followup_store.ok()) {
    std::cerr << "halfsky-evaluation: " << followup_store.status() << "\n";
    return 1;
  }
  auto followups = halfsky::evaluation::FollowUpTracker::Create(
      catalog, engine->get(), followup_store->get(), clock, *plan_days);
  if (!followups.ok()) {
    std::cerr << "halfsky-evaluation: " << followups.status() << "\n";
    return 1;
  }
  halfsky::EvaluationServiceOptions service_options;
  service_options.max_watch_queue = static_cast<size_t>(absl::GetFlag(FLAGS_max_watch_queue));
  service_options.metrics = &metrics;
  service_options.followups = followups->get();
  halfsky::EvaluationServiceImpl service(catalog, engine->get(), &evaluator,
                                         (*authenticator)->AsFunction(), service_options);
  halfsky::FollowUpServiceImpl followup_service(followups->get(), (*authenticator)->AsFunction(),
                                                service_options.max_watch_queue);
  if (auto st = evaluator.Start(&redis); !st.ok()) {
    std::cerr << "halfsky-evaluation: " << st << "\n";
    return 1;
  }
  (*followups)->Start(absl::GetFlag(FLAGS_followup_check_interval));
  halfsky::RunHooks hooks;
  hooks.before_shutdown = [&] {
    followup_service.Shutdown();
    service.Shutdown();
    evaluator.Stop();
    (*followups)->Stop();
  };
  const int code = halfsky::RunServer(options, catalog, {&service, &followup_service}, hooks);
  (*engine)->SetObserver(nullptr);  // `metrics` goes first
  return code;
}
