#include "services/evaluation/service/followup_forwarder.h"

#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/evaluation/service/primary_forwarder.h"

namespace halfsky::evaluation {

using ::halfsky::v1::FollowUpEvent;

// One relayed WatchFollowUps: the caller's stream (server side) and the
// primary's (client side) in one object, deleted once both are done. One
// buffer: a read from the primary, then its write to the caller, then the
// next read.
class FollowUpForwarder::Relay final : public grpc::ServerWriteReactor<FollowUpEvent>,
                                       public grpc::ClientReadReactor<FollowUpEvent> {
 public:
  Relay(std::shared_ptr<grpc::ClientContext> upstream, halfsky::v1::WatchFollowUpsRequest request)
      : upstream_(std::move(upstream)), request_(std::move(request)) {}

  void Begin(halfsky::v1::FollowUpService::Stub* stub) {
    stub->async()->WatchFollowUps(upstream_.get(), &request_, this);
    grpc::ClientReadReactor<FollowUpEvent>::StartRead(&event_);
    grpc::ClientReadReactor<FollowUpEvent>::StartCall();
  }

  // Primary → relay.
  void OnReadDone(bool ok) override {
    if (!ok) {
      return;  // the upstream OnDone follows with its status
    }
    {
      absl::MutexLock lock(&mu_);
      writing_ = true;
    }
    grpc::ServerWriteReactor<FollowUpEvent>::StartWrite(&event_);
  }
  void OnDone(const grpc::Status& status) override {
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      upstream_done_ = true;
      status_ = status;
      finish = !writing_;
    }
    if (finish) {
      grpc::ServerWriteReactor<FollowUpEvent>::Finish(status);
    }
    MaybeDelete();
  }

  // Relay → caller.
  void OnWriteDone(bool ok) override {
    bool finish = false;
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      finish = upstream_done_;
      status = status_;
    }
    if (finish) {
      grpc::ServerWriteReactor<FollowUpEvent>::Finish(status);
    } else if (ok) {
      grpc::ClientReadReactor<FollowUpEvent>::StartRead(&event_);
    } else {
      upstream_->TryCancel();
    }
  }
  void OnCancel() override { upstream_->TryCancel(); }
  void OnDone() override {
    {
      absl::MutexLock lock(&mu_);
      caller_done_ = true;
    }
    MaybeDelete();
  }

 private:
  void MaybeDelete() {
    bool both;
    {
      absl::MutexLock lock(&mu_);
      both = caller_done_ && upstream_done_;
    }
    if (both) {
      delete this;
    }
  }

  const std::shared_ptr<grpc::ClientContext> upstream_;
  const halfsky::v1::WatchFollowUpsRequest request_;
  FollowUpEvent event_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool upstream_done_ ABSL_GUARDED_BY(mu_) = false;
  bool caller_done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
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
