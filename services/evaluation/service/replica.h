#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_REPLICA_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_REPLICA_H_

// halfsky-evaluation as a read replica (--follow=HOST:PORT): no store, no
// evaluation, no Redis. A mirror WarningEngine kept in sync by a
// WarningFollower serves ListWarnings and WatchWarnings; a PrimaryForwarder
// sends AcknowledgeWarning, Evaluate and GetEvaluationReport to the primary
// (see evaluation_service.h, warning_follower.h, primary_forwarder.h).
//
// Health: the common bootstrap reports SERVING as soon as it listens; the
// replica turns that to NOT_SERVING right away (a window of microseconds,
// before any probe can connect in practice) and to SERVING on each sync with
// the primary, NOT_SERVING again whenever the stream to it is down.
//
// Shutdown (SIGTERM/SIGINT): the follower stops (the set stays as it is and
// is still served during the drain), then the bootstrap's drain sequence
// runs, closing the replica's watchers before the gRPC server shuts down.

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/catalog/catalog.h"
#include "common/clock/clock.h"
#include "common/server/server.h"
#include "grpcpp/grpcpp.h"
#include "services/evaluation/service/evaluation_service.h"

namespace halfsky::evaluation {

struct ReplicaConfig {
  ServerOptions server;
  // The primary's gRPC address and the credentials of the channel to it.
  std::string primary;
  std::shared_ptr<grpc::ChannelCredentials> primary_credentials;
  // Bearer token the replica presents on its own WatchWarnings stream
  // (forwarded calls carry the caller's instead). Empty: none.
  std::string primary_token;
  absl::Duration max_backoff = absl::Seconds(3);
  // Watch limits and caches of the replica's own service; `metrics` and
  // `forward_to` are set by RunReplica.
  EvaluationServiceOptions service;
};

// Serves until SIGTERM/SIGINT; returns the process exit code (as
// RunServer). `clock` is not owned.
int RunReplica(const ReplicaConfig& config, std::shared_ptr<const CatalogIndex> catalog,
               auth::AuthenticateFn authenticator, Clock* clock);

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_REPLICA_H_
