#include "services/evaluation/service/followup_service.h"

#include <deque>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/server/queued_write_reactor.h"
#include "common/server/unary_reply.h"
#include "common/status/status.h"

namespace halfsky {
namespace {

using ::halfsky::v1::FollowUp;
using ::halfsky::v1::FollowUpEvent;

template <typename T>
grpc::ServerUnaryReactor* ReplyWith(grpc::CallbackServerContext* ctx, absl::StatusOr<T> result,
                                    T* response) {
  if (result.ok()) {
    *response = std::move(*result);
    return server::FinishUnary(ctx, absl::OkStatus());
  }
  return server::FinishUnary(ctx, result.status());
}

}  // namespace

// One WatchFollowUps stream; owned by gRPC, deletes itself in OnDone. The
// tracker calls OnEvent/OnClose under its lock: they only queue (see
// common/server/queued_write_reactor.h).
class FollowUpServiceImpl::WatchReactor final : public server::QueuedWriteReactor<FollowUpEvent>,
                                                public evaluation::FollowUpWatcher {
 public:
  WatchReactor(FollowUpServiceImpl* service, halfsky::v1::Principal who, bool escalations_only)
      : QueuedWriteReactor(
            "督办订阅积压过多，请重新订阅 / watcher fell behind; watch again to resync"),
        service_(service),
        who_(std::move(who)),
        escalations_only_(escalations_only) {}

  void Begin() {
    absl::Status st = service_->tracker_->Subscribe(this, who_, escalations_only_);
    if (!st.ok()) {
      Close(st);
      return;
    }
    StartWriting(service_->max_watch_queue_);
  }

  void OnEvent(const FollowUpEvent& event) override { Enqueue(event); }

  void OnClose(const absl::Status& status) override { Close(status); }

  void OnDone() override {
    service_->tracker_->Unsubscribe(this);
    delete this;
  }

 private:
  FollowUpServiceImpl* const service_;
  const halfsky::v1::Principal who_;
  const bool escalations_only_;
};

FollowUpServiceImpl::FollowUpServiceImpl(evaluation::FollowUpTracker* tracker,
                                         auth::AuthenticateFn authenticator, size_t max_watch_queue)
    : tracker_(tracker),
      authenticate_(std::move(authenticator)),
      max_watch_queue_(max_watch_queue) {}

void FollowUpServiceImpl::Shutdown() {
  tracker_->CloseWatchers(absl::UnavailableError("服务正在停止 / server shutting down"));
}

grpc::ServerUnaryReactor* FollowUpServiceImpl::ListFollowUps(
    grpc::CallbackServerContext* ctx, const halfsky::v1::ListFollowUpsRequest* request,
    halfsky::v1::ListFollowUpsResponse* response) {
  absl::StatusOr<halfsky::v1::Principal> who = authenticate_(*ctx);
  if (!who.ok()) {
    return server::FinishUnary(ctx, who.status());
  }
  return ReplyWith(ctx, tracker_->List(*who, *request), response);
}

grpc::ServerUnaryReactor* FollowUpServiceImpl::GetFollowUp(
    grpc::CallbackServerContext* ctx, const halfsky::v1::GetFollowUpRequest* request,
    FollowUp* response) {
  absl::StatusOr<halfsky::v1::Principal> who = authenticate_(*ctx);
  if (!who.ok()) {
    return server::FinishUnary(ctx, who.status());
  }
  if (request->warning_id().empty()) {
    return server::FinishUnary(ctx, InvalidArgumentError("缺少预警编号 / warning_id is required",
                                                         {{"warning_id", "不能为空 / required"}}));
  }
  return ReplyWith(ctx, tracker_->Get(*who, request->warning_id()), response);
}

grpc::ServerUnaryReactor* FollowUpServiceImpl::AssignFollowUp(
    grpc::CallbackServerContext* ctx, const halfsky::v1::AssignFollowUpRequest* request,
    FollowUp* response) {
  absl::StatusOr<halfsky::v1::Principal> who = authenticate_(*ctx);
  if (!who.ok()) {
    return server::FinishUnary(ctx, who.status());
  }
  return ReplyWith(ctx, tracker_->Assign(*who, *request), response);
}

grpc::ServerUnaryReactor* FollowUpServiceImpl::PlanFollowUp(
    grpc::CallbackServerContext* ctx, const halfsky::v1::PlanFollowUpRequest* request,
    FollowUp* response) {
  absl::StatusOr<halfsky::v1::Principal> who = authenticate_(*ctx);
  if (!who.ok()) {
    return server::FinishUnary(ctx, who.status());
  }
  return ReplyWith(ctx, tracker_->Plan(*who, *request), response);
}

grpc::ServerUnaryReactor* FollowUpServiceImpl::AddFollowUpNote(
    grpc::CallbackServerContext* ctx, const halfsky::v1::AddFollowUpNoteRequest* request,
    FollowUp* response) {
  absl::StatusOr<halfsky::v1::Principal> who = authenticate_(*ctx);
  if (!who.ok()) {
    return server::FinishUnary(ctx, who.status());
  }
  return ReplyWith(ctx, tracker_->Note(*who, *request), response);
}

grpc::ServerUnaryReactor* FollowUpServiceImpl::CloseFollowUp(
    grpc::CallbackServerContext* ctx, const halfsky::v1::CloseFollowUpRequest* request,
    FollowUp* response) {
  absl::StatusOr<halfsky::v1::Principal> who = authenticate_(*ctx);
  if (!who.ok()) {
    return server::FinishUnary(ctx, who.status());
  }
  return ReplyWith(ctx, tracker_->Close(*who, *request), response);
}

grpc::ServerUnaryReactor* FollowUpServiceImpl::SilenceFollowUp(
    grpc::CallbackServerContext* ctx, const halfsky::v1::SilenceFollowUpRequest* request,
    FollowUp* response) {
  absl::StatusOr<halfsky::v1::Principal> who = authenticate_(*ctx);
  if (!who.ok()) {
    return server::FinishUnary(ctx, who.status());
  }
  return ReplyWith(ctx, tracker_->Silence(*who, *request), response);
}

grpc::ServerWriteReactor<FollowUpEvent>* FollowUpServiceImpl::WatchFollowUps(
    grpc::CallbackServerContext* ctx, const halfsky::v1::WatchFollowUpsRequest* request) {
  absl::StatusOr<halfsky::v1::Principal> who = authenticate_(*ctx);
  if (!who.ok()) {
    class Rejected final : public grpc::ServerWriteReactor<FollowUpEvent> {
     public:
      explicit Rejected(const grpc::Status& s) { Finish(s); }
      void OnDone() override { delete this; }
    };
    return new Rejected(ToGrpcStatus(who.status()));
  }
  auto* reactor = new WatchReactor(this, *who, request->escalations_only());
  reactor->Begin();
  return reactor;
}

}  // namespace halfsky
