// halfsky-exchange: reports this instance's area (its catalog's root, e.g.
// a district) upward to the upper instance's submission service (e.g. its
// city's), and serves halfsky.v1.ExchangeService (status, log, SyncNow).
// The logic is in services/exchange/exchanger.h.
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/auth/credentials.h"
#include "common/clock/clock.h"
#include "common/server/server.h"
#include "grpcpp/grpcpp.h"
#include "services/exchange/exchange_log.h"
#include "services/exchange/exchange_service.h"
#include "services/exchange/exchanger.h"

ABSL_FLAG(std::string, aggregation, "127.0.0.1:7302",
          "This instance's aggregation service HOST:PORT (the figures sent up).");
ABSL_FLAG(std::string, aggregation_token_file, "",
          "Bearer token for this instance's aggregation service (a service role).");
ABSL_FLAG(std::string, upper_submission, "",
          "The upper instance's submission service HOST:PORT. Empty: this instance reports "
          "nowhere and only keeps the reports its lower instances send (SubmitAreaReport).");
ABSL_FLAG(std::string, evaluation, "",
          "This instance's evaluation service HOST:PORT, whose annual report of the root area "
          "travels with the figures (with --upper_exchange). Empty: no report is sent.");
ABSL_FLAG(std::string, upper_exchange, "",
          "The upper instance's halfsky-exchange HOST:PORT, which keeps the report.");
ABSL_FLAG(std::string, upper_token_file, "",
          "Bearer token for the upper instance: a principal holding area:<this root area>.");
ABSL_FLAG(std::string, database, "exchange.db", "SQLite file of the exchange log.");
ABSL_FLAG(std::string, approval, "approved",
          "approved: only figures whose every part is approved (已审核) go up; complete: every "
          "complete figure (a deployment without review).");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(60), "Time between reconciliations.");
ABSL_FLAG(absl::Duration, retry_min, absl::Seconds(30),
          "First retry delay of a refused or undelivered batch (doubling per attempt).");
ABSL_FLAG(absl::Duration, retry_max, absl::Hours(1), "Longest retry delay.");
ABSL_FLAG(absl::Duration, call_timeout, absl::Seconds(30), "Deadline of each call.");
ABSL_FLAG(int32_t, from_year, 0, "First year sent (0: the catalog's base year).");
ABSL_FLAG(int32_t, to_year, 0, "Last year sent (0: the catalog's final year).");

int main(int argc, char** argv) {
  halfsky::InitService(argc, argv, "halfsky-exchange");
  const halfsky::ServerOptions options = halfsky::ServerOptionsFromFlags("halfsky-exchange");
  auto catalog = halfsky::LoadCatalogFromFlags();
  auto authenticator = halfsky::auth::AuthenticatorFromFlags();  // --tokens_file
  if (!authenticator.ok()) {
    std::cerr << "halfsky-exchange: " << authenticator.status() << "\n";
    return 2;
  }
  halfsky::exchange::ExchangerOptions exchanger_options;
  exchanger_options.upper_address = absl::GetFlag(FLAGS_upper_submission);
  for (auto [flag, out] : {std::pair{&FLAGS_aggregation_token_file, &exchanger_options.lower_token},
                           std::pair{&FLAGS_upper_token_file, &exchanger_options.upper_token}}) {
    absl::StatusOr<std::string> token = halfsky::auth::ReadTokenFile(absl::GetFlag(*flag));
    if (!token.ok()) {
      std::cerr << "halfsky-exchange: " << token.status().message() << "\n";
      return 2;
    }
    *out = *std::move(token);
  }
  absl::StatusOr<halfsky::exchange::ApprovalRule> rule =
      halfsky::exchange::ParseApprovalRule(absl::GetFlag(FLAGS_approval));
  if (!rule.ok()) {
    std::cerr << "halfsky-exchange: " << rule.status().message() << "\n";
    return 2;
  }
  exchanger_options.approval = *rule;
  exchanger_options.interval = absl::GetFlag(FLAGS_interval);
  exchanger_options.retry_min = absl::GetFlag(FLAGS_retry_min);
  exchanger_options.retry_max = absl::GetFlag(FLAGS_retry_max);
  exchanger_options.call_timeout = absl::GetFlag(FLAGS_call_timeout);
  exchanger_options.from_year = absl::GetFlag(FLAGS_from_year);
  exchanger_options.to_year = absl::GetFlag(FLAGS_to_year);
  exchanger_options.metrics = &halfsky::ServiceMetrics();
  if (absl::Status st = halfsky::exchange::ValidateExchangerOptions(exchanger_options); !st.ok()) {
    std::cerr << "halfsky-exchange: " << st.message() << "\n";
    return 2;
  }

  auto log = halfsky::exchange::ExchangeLog::Open(absl::GetFlag(FLAGS_database));
  if (!log.ok()) {
    std::cerr << "halfsky-exchange: --database: " << log.status() << "\n";
    return 2;
  }
  auto credentials = halfsky::UpstreamCredentialsFromFlags();
  if (!absl::GetFlag(FLAGS_evaluation).empty() && !absl::GetFlag(FLAGS_upper_exchange).empty()) {
    exchanger_options.lower_evaluation =
        grpc::CreateChannel(absl::GetFlag(FLAGS_evaluation), credentials);
    exchanger_options.upper_exchange =
        grpc::CreateChannel(absl::GetFlag(FLAGS_upper_exchange), credentials);
  }
  std::unique_ptr<halfsky::exchange::Exchanger> exchanger;
  if (!exchanger_options.upper_address.empty()) {
    exchanger = std::make_unique<halfsky::exchange::Exchanger>(
        catalog, grpc::CreateChannel(absl::GetFlag(FLAGS_aggregation), credentials),
        grpc::CreateChannel(exchanger_options.upper_address, credentials), log->get(),
        halfsky::ClockFromFlags(), exchanger_options);
    if (absl::Status st = exchanger->LoadRetrySchedule(); !st.ok()) {
      std::cerr << "halfsky-exchange: " << st << "\n";
      return 2;
    }
  }
  halfsky::exchange::ExchangeServiceImpl service(
      exchanger.get(), log->get(), halfsky::ClockFromFlags(), (*authenticator)->AsFunction());
  halfsky::RunHooks hooks;
  hooks.after_start = [&exchanger](halfsky::RunningServer&) {
    if (exchanger != nullptr) {
      exchanger->Start();
    }
  };
  hooks.before_shutdown = [&exchanger] {
    if (exchanger != nullptr) {
      exchanger->Stop();
    }
  };
  return halfsky::RunServer(options, catalog, {&service}, hooks);
}
