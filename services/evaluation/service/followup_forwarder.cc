#include "services/evaluation/service/followup_forwarder.h"

#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include "services/evaluation/service/primary_forwarder.h"

namespace halfsky::evaluation {

using ::halfsky::v1::FollowUpEvent;

// One relayed WatchFollowUps: the caller's stream (server side) and the
// primary's (client side) in one object. One buffer: a read from the
// primary, then its write to the caller, then the next read.
//
// The read flow is started from the caller's side (OnWriteDone), so it holds
// the upstream call open (AddHold) until it ends: a read that comes back not
// ok, or a write to the caller that fails. The upstream OnDone therefore
// comes only when neither a read nor a write is pending, and it finishes the
// caller's stream with the primary's status.
//
// Lifetime: the two OnDones run on different threads, and the upstream
// OnDone's Finish can bring the caller's OnDone before the upstream one has
// returned. Each drops one of two references as its very last touch of the
// object; the second one deletes it.
class FollowUpForwarder::Relay final : public grpc::ServerWriteReactor<FollowUpEvent>,
                                       public grpc::ClientReadReactor<FollowUpEvent> {
 public:
  Relay(std::shared_ptr<grpc::ClientContext> upstream, halfsky::v1::WatchFollowUpsRequest request)
      : upstream_(std::move(upstream)), request_(std::move(request)) {}

  void Begin(halfsky::v1::FollowUpService::Stub* stub) {
    stub->async()->WatchFollowUps(upstream_.get(), &request_, this);
    grpc::ClientReadReactor<FollowUpEvent>::AddHold();  // the read flow
    grpc::ClientReadReactor<FollowUpEvent>::StartRead(&event_);
    grpc::ClientReadReactor<FollowUpEvent>::StartCall();
  }

  // Primary -> relay.
  void OnReadDone(bool ok) override {
    if (!ok) {
      grpc::ClientReadReactor<FollowUpEvent>::RemoveHold();  // OnDone follows with the status
      return;
    }
    grpc::ServerWriteReactor<FollowUpEvent>::StartWrite(&event_);
  }
  void OnDone(const grpc::Status& status) override {
    grpc::ServerWriteReactor<FollowUpEvent>::Finish(status);
    Unref();  // `this` may be gone from here on
  }

  // Relay -> caller.
  void OnWriteDone(bool ok) override {
    if (ok) {
      grpc::ClientReadReactor<FollowUpEvent>::StartRead(&event_);
      return;
    }
    upstream_->TryCancel();  // the caller is gone
    grpc::ClientReadReactor<FollowUpEvent>::RemoveHold();
  }
  void OnCancel() override { upstream_->TryCancel(); }
  void OnDone() override { Unref(); }

 private:
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete this;
    }
  }

  const std::shared_ptr<grpc::ClientContext> upstream_;
  const halfsky::v1::WatchFollowUpsRequest request_;
  FollowUpEvent event_;
  std::atomic<int> refs_{2};  // the caller's side and the primary's
};

FollowUpForwarder::FollowUpForwarder(std::shared_ptr<grpc::ChannelInterface> primary,
                                     absl::Duration max_deadline)
    : stub_(halfsky::v1::FollowUpService::NewStub(std::move(primary))),
      max_deadline_(max_deadline) {}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* FollowUpForwarder::Forward(AsyncMethod<Request, Response> method,
                                                     grpc::CallbackServerContext* caller,
                                                     const Request* request, Response* response) {
  grpc::ServerUnaryReactor* reactor = caller->DefaultReactor();
  std::shared_ptr<grpc::ClientContext> ctx = ForwardedContext(*caller, max_deadline_);
  (stub_->async()->*method)(ctx.get(), request, response,
                            [ctx, reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

grpc::ServerUnaryReactor* FollowUpForwarder::ListFollowUps(
    grpc::CallbackServerContext* ctx, const halfsky::v1::ListFollowUpsRequest* request,
    halfsky::v1::ListFollowUpsResponse* response) {
  return Forward(&Async::ListFollowUps, ctx, request, response);
}
grpc::ServerUnaryReactor* FollowUpForwarder::GetFollowUp(
    grpc::CallbackServerContext* ctx, const halfsky::v1::GetFollowUpRequest* request,
    halfsky::v1::FollowUp* response) {
  return Forward(&Async::GetFollowUp, ctx, request, response);
}
grpc::ServerUnaryReactor* FollowUpForwarder::AssignFollowUp(
    grpc::CallbackServerContext* ctx, const halfsky::v1::AssignFollowUpRequest* request,
    halfsky::v1::FollowUp* response) {
  return Forward(&Async::AssignFollowUp, ctx, request, response);
}
grpc::ServerUnaryReactor* FollowUpForwarder::PlanFollowUp(
    grpc::CallbackServerContext* ctx, const halfsky::v1::PlanFollowUpRequest* request,
    halfsky::v1::FollowUp* response) {
  return Forward(&Async::PlanFollowUp, ctx, request, response);
}
grpc::ServerUnaryReactor* FollowUpForwarder::AddFollowUpNote(
    grpc::CallbackServerContext* ctx, const halfsky::v1::AddFollowUpNoteRequest* request,
    halfsky::v1::FollowUp* response) {
  return Forward(&Async::AddFollowUpNote, ctx, request, response);
}
grpc::ServerUnaryReactor* FollowUpForwarder::CloseFollowUp(
    grpc::CallbackServerContext* ctx, const halfsky::v1::CloseFollowUpRequest* request,
    halfsky::v1::FollowUp* response) {
  return Forward(&Async::CloseFollowUp, ctx, request, response);
}
grpc::ServerUnaryReactor* FollowUpForwarder::SilenceFollowUp(
    grpc::CallbackServerContext* ctx, const halfsky::v1::SilenceFollowUpRequest* request,
    halfsky::v1::FollowUp* response) {
  return Forward(&Async::SilenceFollowUp, ctx, request, response);
}

grpc::ServerWriteReactor<FollowUpEvent>* FollowUpForwarder::WatchFollowUps(
    grpc::CallbackServerContext* ctx, const halfsky::v1::WatchFollowUpsRequest* request) {
  auto* relay = new Relay(ForwardedContext(*ctx, std::nullopt), *request);
  relay->Begin(stub_.get());
  return relay;
}

}  // namespace halfsky::evaluation
