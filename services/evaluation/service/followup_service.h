#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_SERVICE_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_SERVICE_H_

// halfsky.v1.FollowUpService (gRPC callback API) over a FollowUpTracker:
// authentication (UNAUTHENTICATED without a valid token), then the
// tracker's permissions and errors (followup_tracker.h), converted once to
// grpc::Status. Served by the primary evaluation service only.
//
// WatchFollowUps: each stream has its own queue, filled by the tracker
// without blocking; one write in flight at a time. A stream whose queue
// passes `max_watch_queue` events is ended with ABORTED ("fell behind"; the
// client watches again). Shutdown() ends every stream with UNAVAILABLE.
//
// Thread-safety: thread-safe.

#include <atomic>
#include <memory>

#include "grpcpp/grpcpp.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "services/evaluation/service/evaluation_service.h"
#include "services/evaluation/service/followup_tracker.h"

namespace halfsky {

class FollowUpServiceImpl final : public halfsky::v1::FollowUpService::CallbackService {
 public:
  // `tracker` is not owned and must outlive the service.
  FollowUpServiceImpl(evaluation::FollowUpTracker* tracker, auth::AuthenticateFn authenticator,
                      size_t max_watch_queue = 1024);

  // Ends every WatchFollowUps stream (call before grpc::Server::Shutdown).
  void Shutdown();

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
  class WatchReactor;
  evaluation::FollowUpTracker* const tracker_;
  const auth::AuthenticateFn authenticate_;
  const size_t max_watch_queue_;
};

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_FOLLOWUP_SERVICE_H_
