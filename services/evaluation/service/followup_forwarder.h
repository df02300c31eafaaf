#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_FORWARDER_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_FORWARDER_H_

// FollowUpService on a read replica: the records live on the primary, so
// every call is forwarded there, as PrimaryForwarder does for
// AcknowledgeWarning — the caller's `authorization` metadata copied
// unchanged (the primary authenticates and authorizes the real caller), the
// caller's deadline (capped at `max_deadline` for unary calls) and
// cancellation propagated, and the primary's status returned exactly.
// WatchFollowUps is relayed event by event (one read or write in flight at
// a time, so gRPC flow control reaches the primary); it ends with the
// primary's status, or is cancelled upstream when the caller goes away.
//
// Thread-safety: thread-safe.

#include <memory>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/evaluation.grpc.pb.h"

namespace halfsky::evaluation {

class FollowUpForwarder final : public halfsky::v1::FollowUpService::CallbackService {
 public:
  explicit FollowUpForwarder(std::shared_ptr<grpc::ChannelInterface> primary,
                             absl::Duration max_deadline = absl::Seconds(60));

  grpc::ServerUnaryReactor* ListFollowUps(grpc::CallbackServerContext* ctx,
                                          const halfsky::v1::ListFollowUpsRequest* request,
                                          halfsky::v1::ListFollowUpsResponse* response) override;
  grpc::ServerUnaryReactor* GetFollowUp(grpc::CallbackServerContext* ctx,
                                        const halfsky::v1::GetFollowUpRequest* request,
                                        halfsky::v1::FollowUp* response) override;
  grpc::ServerUnaryReactor* AssignFollowUp(grpc::CallbackServerContext* ctx,
                                           const halfsky::v1::AssignFollowUpRequest* request,
                                           halfsky::v1::FollowUp* response) override;
  grpc::ServerUnaryReactor* PlanFollowUp(grpc::CallbackServerContext* ctx,
                                         const halfsky::v1::PlanFollowUpRequest* request,
                                         halfsky::v1::FollowUp* response) override;
  grpc::ServerUnaryReactor* AddFollowUpNote(grpc::CallbackServerContext* ctx,
                                            const halfsky::v1::AddFollowUpNoteRequest* request,
                                            halfsky::v1::FollowUp* response) override;
  grpc::ServerUnaryReactor* CloseFollowUp(grpc::CallbackServerContext* ctx,
                                          const halfsky::v1::CloseFollowUpRequest* request,
                                          halfsky::v1::FollowUp* response) override;
  grpc::ServerUnaryReactor* SilenceFollowUp(grpc::CallbackServerContext* ctx,
                                            const halfsky::v1::SilenceFollowUpRequest* request,
                                            halfsky::v1::FollowUp* response) override;
  grpc::ServerWriteReactor<halfsky::v1::FollowUpEvent>* WatchFollowUps(
      grpc::CallbackServerContext* ctx, const halfsky::v1::WatchFollowUpsRequest* request) override;

 private:
  class Relay;
  using Async = halfsky::v1::FollowUpService::StubInterface::async_interface;
  template <typename Request, typename Response>
  using AsyncMethod = void (Async::*)(grpc::ClientContext*, const Request*, Response*,
                                      std::function<void(grpc::Status)>);
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Forward(AsyncMethod<Request, Response> method,
                                    grpc::CallbackServerContext* caller, const Request* request,
                                    Response* response);

  const std::unique_ptr<halfsky::v1::FollowUpService::Stub> stub_;
  const absl::Duration max_deadline_;
};

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_FORWARDER_H_
