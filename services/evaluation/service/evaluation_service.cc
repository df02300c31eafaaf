#include "services/evaluation/service/evaluation_service.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/roles.h"
#include "common/server/queued_write_reactor.h"
#include "common/server/unary_reply.h"
#include "common/status/parse_error.h"
#include "common/status/status.h"
#include "services/evaluation/service/request_checks.h"

namespace halfsky {
namespace {

using ::halfsky::v1::Warning;
using ::halfsky::v1::WarningEvent;

}  // namespace

// One WatchWarnings stream. Owned by gRPC: deletes itself in OnDone. The
// engine calls OnEvent/OnClose under its lock; they only queue (see
// common/server/queued_write_reactor.h).
class EvaluationServiceImpl::WatchReactor final : public server::QueuedWriteReactor<WarningEvent>,
                                                  public evaluation::WarningWatcher {
 public:
  WatchReactor(EvaluationServiceImpl* service, halfsky::v1::ListWarningsRequest filter,
               bool all_states)
      : QueuedWriteReactor(
            "预警订阅积压过多，请重新订阅 / watcher fell behind; watch again to resync"),
        service_(service),
        filter_(std::move(filter)),
        all_states_(all_states) {}

  // Subscribes (the initial set arrives through OnEvent) and starts writing.
  void Begin() {
    absl::Status st = service_->engine_->Subscribe(this, filter_, all_states_);
    if (!st.ok()) {
      Close(st);
      return;
    }
    StartWriting(service_->options_.max_watch_queue);
  }

  void OnEvent(const WarningEvent& event, const Warning* previous) override {
    if (event.type() != halfsky::v1::WARNING_EVENT_TYPE_CURRENT &&
        event.type() != halfsky::v1::WARNING_EVENT_TYPE_SYNCED) {
      const bool now_matches = evaluation::MatchesFilter(event.warning(), filter_, all_states_);
      const bool was_matching =
          previous != nullptr && evaluation::MatchesFilter(*previous, filter_, all_states_);
      if (!now_matches && !was_matching) {
        return;
      }
    }
    // Fell behind: the queue is freed and the stream ends; the client
    // watches again and gets the whole current set.
    if (Enqueue(event) == Queued::kFellBehind && service_->options_.metrics != nullptr) {
      service_->options_.metrics->WatcherFellBehind();
    }
  }

  void OnClose(const absl::Status& status) override { Close(status); }

  void OnDone() override {
    service_->engine_->Unsubscribe(this);
    service_->watchers_.fetch_sub(1);
    if (service_->options_.metrics != nullptr) {
      service_->options_.metrics->WatcherClosed();
    }
    delete this;
  }

 private:
  EvaluationServiceImpl* const service_;
  const halfsky::v1::ListWarningsRequest filter_;
  const bool all_states_;  // the replication stream: every state
};

EvaluationServiceImpl::EvaluationServiceImpl(std::shared_ptr<const CatalogIndex> catalog,
                                             evaluation::WarningEngine* engine,
                                             evaluation::Evaluator* evaluator,
                                             auth::AuthenticateFn authenticate,
                                             EvaluationServiceOptions options)
    : catalog_(std::move(catalog)),
      engine_(engine),
      evaluator_(evaluator),
      authenticate_(std::move(authenticate)),
      options_(options),
      list_cache_(options.list_cache_entries) {}

void EvaluationServiceImpl::Shutdown() {
  engine_->CloseWatchers(absl::UnavailableError("服务正在停止 / server shutting down"));
}

absl::Status EvaluationServiceImpl::CheckFilter(const halfsky::v1::ListWarningsRequest& f) const {
  return evaluation::CheckWarningsFilter(f, *catalog_);
}

absl::StatusOr<grpc::Slice> EvaluationServiceImpl::ListResponse(const evaluation::WarningSet& set,
                                                                const std::string& request_bytes) {
  if (std::optional<grpc::Slice> hit = list_cache_.Find(set.version(), request_bytes)) {
    return *std::move(hit);  // a new reference to the same bytes
  }
  halfsky::v1::ListWarningsRequest request;
  HALFSKY_RETURN_IF_ERROR(ParseRequest(request_bytes, &request));
  HALFSKY_RETURN_IF_ERROR(CheckFilter(request));
  evaluation::ExpandSubareas(*catalog_, &request);
  HALFSKY_ASSIGN_OR_RETURN(halfsky::v1::ListWarningsResponse response, set.List(request));
  grpc::Slice bytes(response.SerializeAsString());
  list_cache_.Insert(set.version(), request_bytes, bytes);
  return bytes;
}

grpc::ServerUnaryReactor* EvaluationServiceImpl::ListWarnings(grpc::CallbackServerContext* ctx,
                                                              const grpc::ByteBuffer* request,
                                                              grpc::ByteBuffer* response) {
  absl::StatusOr<halfsky::v1::Principal> who = authenticate_(*ctx);
  if (!who.ok()) {
    return server::FinishUnary(ctx, who.status());
  }
  grpc::Slice flat;
  if (!request->DumpToSingleSlice(&flat).ok()) {
    return server::FinishUnary(ctx,
                               absl::InvalidArgumentError("请求无法读取 / unreadable request"));
  }
  if (absl::Status available = engine_->availability(); !available.ok()) {
    return server::FinishUnary(ctx, available);  // a replica out of sync with its primary
  }
  const std::string request_bytes(reinterpret_cast<const char*>(flat.begin()), flat.size());
  absl::StatusOr<grpc::Slice> bytes = ListResponse(*engine_->Current(), request_bytes);
  if (!bytes.ok()) {
    return server::FinishUnary(ctx, bytes.status());
  }
  *response = grpc::ByteBuffer(&*bytes, 1);
  return server::FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerWriteReactor<WarningEvent>* EvaluationServiceImpl::WatchWarnings(
    grpc::CallbackServerContext* ctx, const halfsky::v1::WatchWarningsRequest* request) {
  halfsky::v1::ListWarningsRequest filter = request->filter();
  filter.clear_page_size();
  filter.clear_page_token();
  absl::Status st = authenticate_(*ctx).status();
  if (st.ok()) {
    st = CheckFilter(filter);
  }
  if (st.ok() && watchers_.fetch_add(1) >= options_.max_watchers) {
    watchers_.fetch_sub(1);
    st = absl::ResourceExhaustedError("预警订阅过多 / too many WatchWarnings streams");
  }
  if (!st.ok()) {
    class Rejected final : public grpc::ServerWriteReactor<WarningEvent> {
     public:
      explicit Rejected(const grpc::Status& s) { Finish(s); }
      void OnDone() override { delete this; }
    };
    return new Rejected(ToGrpcStatus(st));
  }
  if (options_.metrics != nullptr) {
    options_.metrics->WatcherOpened();
  }
  evaluation::ExpandSubareas(*catalog_, &filter);
  auto* reactor = new WatchReactor(this, std::move(filter), request->all_states());
  reactor->Begin();
  return reactor;
}

grpc::ServerUnaryReactor* EvaluationServiceImpl::AcknowledgeWarning(
    grpc::CallbackServerContext* ctx, const halfsky::v1::AcknowledgeWarningRequest* request,
    Warning* response) {
  if (options_.forward_to != nullptr) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    options_.forward_to->AcknowledgeWarning(
        ctx, request, response, [reactor](const grpc::Status& st) { reactor->Finish(st); });
    return reactor;
  }
  absl::StatusOr<halfsky::v1::Principal> who = authenticate_(*ctx);
  if (!who.ok()) {
    return server::FinishUnary(ctx, who.status());
  }
  absl::Status st =
      auth::RequireRole(*who, {halfsky::v1::ROLE_KIND_ASSESSMENT, halfsky::v1::ROLE_KIND_ADMIN});
  if (!st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  if (absl::Status checked = evaluation::CheckAcknowledgement(*request); !checked.ok()) {
    return server::FinishUnary(ctx, checked);
  }
  absl::StatusOr<Warning> acked =
      engine_->Acknowledge(request->warning_id(), who->name(), request->note());
  if (acked.ok()) {
    *response = std::move(*acked);
    return server::FinishUnary(ctx, absl::OkStatus());
  }
  return server::FinishUnary(ctx, acked.status());
}

grpc::ServerUnaryReactor* EvaluationServiceImpl::Evaluate(
    grpc::CallbackServerContext* ctx, const halfsky::v1::EvaluateRequest* request,
    halfsky::v1::EvaluateResponse* response) {
  if (options_.forward_to != nullptr) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    options_.forward_to->Evaluate(ctx, request, response,
                                  [reactor](const grpc::Status& st) { reactor->Finish(st); });
    return reactor;
  }
  absl::Status st = authenticate_(*ctx).status();
  if (st.ok()) {
    absl::StatusOr<halfsky::v1::EvaluateResponse> r = evaluator_->Evaluate(*request);
    if (r.ok()) {
      *response = std::move(*r);
    } else {
      st = r.status();
    }
  }
  return server::FinishUnary(ctx, st);
}

grpc::ServerUnaryReactor* EvaluationServiceImpl::GetEvaluationReport(
    grpc::CallbackServerContext* ctx, const halfsky::v1::GetEvaluationReportRequest* request,
    halfsky::v1::EvaluationReport* response) {
  if (options_.forward_to != nullptr) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    options_.forward_to->GetEvaluationReport(
        ctx, request, response, [reactor](const grpc::Status& st) { reactor->Finish(st); });
    return reactor;
  }
  absl::Status st = authenticate_(*ctx).status();
  if (st.ok()) {
    absl::StatusOr<halfsky::v1::EvaluationReport> r = evaluator_->Report(*request);
    if (r.ok() && options_.followups != nullptr) {
      st = options_.followups->AnnotateReport(&*r);
    }
    if (!r.ok()) {
      st = r.status();
    } else if (st.ok()) {
      *response = std::move(*r);
    }
  }
  return server::FinishUnary(ctx, st);
}

}  // namespace halfsky
