#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_EVALUATION_SERVICE_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_EVALUATION_SERVICE_H_

// halfsky.v1.EvaluationService (gRPC callback API).
//
//   ListWarnings, WatchWarnings, Evaluate, GetEvaluationReport: any
//     authenticated principal (UNAUTHENTICATED otherwise). Filters naming an
//     unknown domain, indicator, area or unit are INVALID_ARGUMENT (a typo
//     must not look like "no warnings").
//   AcknowledgeWarning: role `assessment` or `admin` (PERMISSION_DENIED
//     otherwise); `by` is the authenticated principal's name; INVALID_ARGUMENT
//     without a warning id or a note (对策建议), or a note over 4 000 bytes;
//     NOT_FOUND for an unknown id. Durable before the reply.
//   WatchWarnings: CURRENT events for the matching set, one SYNCED, then
//     every change (FIRED / UPDATED / RESOLVED / ACKNOWLEDGED) of a warning
//     that matches the filter before or after the change. Each stream has
//     its own queue, filled by the engine without blocking; one write is in
//     flight at a time (gRPC flow control). A watcher whose queue grows
//     beyond `max_watch_queue` events (after the initial set) is dropped:
//     its queue is freed and the stream ends with ABORTED ("fell behind"),
//     and the client watches again (it gets the full current set). So a slow
//     watcher never blocks the engine and memory stays bounded. More than
//     `max_watchers` streams: RESOURCE_EXHAUSTED. Shutdown() ends every
//     stream with UNAVAILABLE and refuses new ones.
//   Evaluate / GetEvaluationReport read aggregates synchronously (Redis, or
//     the aggregation service): UNAVAILABLE when neither answers.
//
// Thread-safety: thread-safe.

#include <atomic>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "common/catalog/catalog.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "services/evaluation/service/evaluator.h"
#include "services/evaluation/service/warning_engine.h"

namespace halfsky {

// Who is calling: the principal, or UNAUTHENTICATED. Thread-safe.
using EvaluationAuthenticator =
    std::function<absl::StatusOr<halfsky::v1::Principal>(const grpc::CallbackServerContext&)>;

struct EvaluationServiceOptions {
  size_t max_watch_queue = 1024;
  int max_watchers = 256;
};

class EvaluationServiceImpl final : public halfsky::v1::EvaluationService::CallbackService {
 public:
  // `engine` and `evaluator` are not owned and must outlive the service.
  EvaluationServiceImpl(std::shared_ptr<const CatalogIndex> catalog,
                        evaluation::WarningEngine* engine, evaluation::Evaluator* evaluator,
                        EvaluationAuthenticator authenticator,
                        EvaluationServiceOptions options = {});

  // Ends every WatchWarnings stream with UNAVAILABLE and refuses new ones
  // (call before grpc::Server::Shutdown so it need not wait for them).
  void Shutdown();
  int active_watchers() const { return watchers_.load(); }

  grpc::ServerUnaryReactor* ListWarnings(grpc::CallbackServerContext* ctx,
                                         const halfsky::v1::ListWarningsRequest* request,
                                         halfsky::v1::ListWarningsResponse* response) override;
  grpc::ServerWriteReactor<halfsky::v1::WarningEvent>* WatchWarnings(
      grpc::CallbackServerContext* ctx, const halfsky::v1::WatchWarningsRequest* request) override;
  grpc::ServerUnaryReactor* AcknowledgeWarning(grpc::CallbackServerContext* ctx,
                                               const halfsky::v1::AcknowledgeWarningRequest* request,
                                               halfsky::v1::Warning* response) override;
  grpc::ServerUnaryReactor* Evaluate(grpc::CallbackServerContext* ctx,
                                     const halfsky::v1::EvaluateRequest* request,
                                     halfsky::v1::EvaluateResponse* response) override;
  grpc::ServerUnaryReactor* GetEvaluationReport(
      grpc::CallbackServerContext* ctx, const halfsky::v1::GetEvaluationReportRequest* request,
      halfsky::v1::EvaluationReport* response) override;

 private:
  class WatchReactor;
  absl::Status CheckFilter(const halfsky::v1::ListWarningsRequest& filter) const;

  const std::shared_ptr<const CatalogIndex> catalog_;
  evaluation::WarningEngine* const engine_;
  evaluation::Evaluator* const evaluator_;
  const EvaluationAuthenticator authenticate_;
  const EvaluationServiceOptions options_;
  std::atomic<int> watchers_{0};
};

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_EVALUATION_SERVICE_H_
