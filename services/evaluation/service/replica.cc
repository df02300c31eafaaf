#include "services/evaluation/service/replica.h"

#include <iostream>
#include <utility>

#include "services/evaluation/service/followup_forwarder.h"
#include "services/evaluation/service/primary_forwarder.h"
#include "services/evaluation/service/service_metrics.h"
#include "services/evaluation/service/warning_engine.h"
#include "services/evaluation/service/warning_follower.h"

namespace halfsky::evaluation {

int RunReplica(const ReplicaConfig& config, std::shared_ptr<const CatalogIndex> catalog,
               auth::AuthenticateFn authenticator, Clock* clock) {
  const std::string& name = config.server.name;
  std::unique_ptr<WarningEngine> mirror = WarningEngine::CreateMirror(
      clock, absl::UnavailableError("尚未与主服务同步 / not yet in sync with the primary"));
  EvaluationMetrics metrics(&ServiceMetrics());
  FollowMetrics follow_metrics(&ServiceMetrics());
  mirror->SetObserver([&metrics](const WarningSet& set) { metrics.UpdateWarnings(set); });

  std::shared_ptr<grpc::Channel> channel =
      MakePrimaryChannel(config.primary, config.primary_credentials, config.max_backoff);
  PrimaryForwarder forwarder(channel);
  EvaluationServiceOptions service_options = config.service;
  service_options.metrics = &metrics;
  service_options.forward_to = &forwarder;
  EvaluationServiceImpl service(catalog, mirror.get(), /*evaluator=*/nullptr,
                                std::move(authenticator), service_options);

  FollowUpForwarder followups(channel);  // follow-up records live on the primary

  auto server = RunningServer::Start(config.server, catalog, {&service, &followups});
  if (!server.ok()) {
    std::cerr << name << ": " << server.status().message() << "\n";
    mirror->SetObserver(nullptr);
    return 1;
  }
  RunningServer* running = server->get();
  running->SetServing(false);  // until the first SYNCED
  WarningFollowerOptions follow_options;
  follow_options.token = config.primary_token;
  follow_options.max_backoff = config.max_backoff;
  follow_options.metrics = &follow_metrics;
  follow_options.on_serving = [running](bool serving) { running->SetServing(serving); };
  WarningFollower follower(channel, mirror.get(), follow_options);
  follower.Start();
  std::cerr << name << ": read replica of " << config.primary << "\n";

  WaitForTerminationSignal(name);
  follower.Stop();
  running->Shutdown([&service] { service.Shutdown(); });
  server->reset();
  mirror->SetObserver(nullptr);  // `metrics` goes first
  std::cerr << name << ": stopped\n";
  return 0;
}

}  // namespace halfsky::evaluation
