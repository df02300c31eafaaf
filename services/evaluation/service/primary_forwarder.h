#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_PRIMARY_FORWARDER_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_PRIMARY_FORWARDER_H_

// What a read replica cannot answer from its mirrored warning set, it asks
// the primary: AcknowledgeWarning (the primary owns the store), Evaluate and
// GetEvaluationReport (they read the series from Redis / aggregation, which
// a replica does not reach).
//
// Each call is an asynchronous call to the primary with
//   - the caller's `authorization` metadata copied unchanged (every value),
//     so the primary authenticates and authorizes the real caller; the
//     replica itself adds no credentials;
//   - the caller's deadline and cancellation propagated
//     (ClientContext::FromCallbackServerContext), capped at `max_deadline`;
// and `done` receives the primary's grpc::Status exactly as it came (code,
// message, error details), to finish the caller's RPC with. An unreachable
// primary is UNAVAILABLE from gRPC itself.
//
// Thread-safety: thread-safe. `done` runs on a gRPC thread, once.
// Lifetime: the server context, request and response must stay valid until
// `done` runs (they do while the caller's RPC is unfinished).

#include <functional>
#include <memory>
#include <optional>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/evaluation.grpc.pb.h"

namespace halfsky::evaluation {

// A client context for forwarding `caller`'s RPC to the primary: the
// caller's `authorization` metadata copied unchanged (every value), its
// deadline and cancellation propagated, the deadline capped at
// `max_deadline` when one is given (a watch stream forwards uncapped).
std::shared_ptr<grpc::ClientContext> ForwardedContext(const grpc::CallbackServerContext& caller,
                                                      std::optional<absl::Duration> max_deadline);

class PrimaryForwarder final {
 public:
  using Done = std::function<void(const grpc::Status&)>;

  PrimaryForwarder(std::shared_ptr<grpc::ChannelInterface> primary,
                   absl::Duration max_deadline = absl::Seconds(60));

  void AcknowledgeWarning(grpc::CallbackServerContext* caller,
                          const halfsky::v1::AcknowledgeWarningRequest* request,
                          halfsky::v1::Warning* response, Done done);
  void Evaluate(grpc::CallbackServerContext* caller, const halfsky::v1::EvaluateRequest* request,
                halfsky::v1::EvaluateResponse* response, Done done);
  void GetEvaluationReport(grpc::CallbackServerContext* caller,
                           const halfsky::v1::GetEvaluationReportRequest* request,
                           halfsky::v1::EvaluationReport* response, Done done);

 private:
  using Async = halfsky::v1::EvaluationService::StubInterface::async_interface;
  template <typename Request, typename Response>
  using AsyncMethod = void (Async::*)(grpc::ClientContext*, const Request*, Response*,
                                      std::function<void(grpc::Status)>);
  // Calls `method` of the async stub with ForwardedContext(*caller, max_deadline_); `done` gets
  // the primary's status.
  template <typename Request, typename Response>
  void Forward(AsyncMethod<Request, Response> method, grpc::CallbackServerContext* caller,
               const Request* request, Response* response, Done done);

  const std::unique_ptr<halfsky::v1::EvaluationService::Stub> stub_;
  const absl::Duration max_deadline_;
};

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_PRIMARY_FORWARDER_H_
