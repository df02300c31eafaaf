#include "services/evaluation/service/primary_forwarder.h"

#include <string>
#include <utility>

#include "absl/time/clock.h"

namespace halfsky::evaluation {

PrimaryForwarder::PrimaryForwarder(std::shared_ptr<grpc::ChannelInterface> primary,
                                   absl::Duration max_deadline)
    : stub_(halfsky::v1::EvaluationService::NewStub(std::move(primary))),
      max_deadline_(max_deadline) {}

std::shared_ptr<grpc::ClientContext> ForwardedContext(const grpc::CallbackServerContext& caller,
                                                      std::optional<absl::Duration> max_deadline) {
  // Propagates the caller's deadline (the earlier of it and ours wins) and
  // its cancellation.
  std::shared_ptr<grpc::ClientContext> ctx = grpc::ClientContext::FromCallbackServerContext(caller);
  if (max_deadline.has_value()) {
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + *max_deadline));
  }
  auto range = caller.client_metadata().equal_range("authorization");
  for (auto it = range.first; it != range.second; ++it) {
    ctx->AddMetadata("authorization", std::string(it->second.data(), it->second.size()));
  }
  return ctx;
}

template <typename Request, typename Response>
void PrimaryForwarder::Forward(AsyncMethod<Request, Response> method,
                               grpc::CallbackServerContext* caller, const Request* request,
                               Response* response, Done done) {
  std::shared_ptr<grpc::ClientContext> ctx = ForwardedContext(*caller, max_deadline_);
  // `ctx` lives until the primary answered.
  (stub_->async()->*method)(ctx.get(), request, response,
                            [ctx, done = std::move(done)](grpc::Status status) { done(status); });
}

void PrimaryForwarder::AcknowledgeWarning(grpc::CallbackServerContext* caller,
                                          const halfsky::v1::AcknowledgeWarningRequest* request,
                                          halfsky::v1::Warning* response, Done done) {
  Forward<halfsky::v1::AcknowledgeWarningRequest, halfsky::v1::Warning>(
      &Async::AcknowledgeWarning, caller, request, response, std::move(done));
}

void PrimaryForwarder::Evaluate(grpc::CallbackServerContext* caller,
                                const halfsky::v1::EvaluateRequest* request,
                                halfsky::v1::EvaluateResponse* response, Done done) {
  Forward<halfsky::v1::EvaluateRequest, halfsky::v1::EvaluateResponse>(
      &Async::Evaluate, caller, request, response, std::move(done));
}

void PrimaryForwarder::GetEvaluationReport(grpc::CallbackServerContext* caller,
                                           const halfsky::v1::GetEvaluationReportRequest* request,
                                           halfsky::v1::EvaluationReport* response, Done done) {
  Forward<halfsky::v1::GetEvaluationReportRequest, halfsky::v1::EvaluationReport>(
      &Async::GetEvaluationReport, caller, request, response, std::move(done));
}

}  // namespace halfsky::evaluation
