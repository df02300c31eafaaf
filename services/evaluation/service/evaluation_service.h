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
//   Replication: a WatchWarnings call with `all_states` ignores the
//     filter's state: its initial set is every warning, FIRING and RESOLVED,
//     and it gets every change (what a read replica follows; see
//     warning_follower.h). Same authentication as any watch.
//
// Read replica (options.forward_to set, engine a mirror fed by a
// WarningFollower):
//   ListWarnings, WatchWarnings: served here, from the mirrored set, with
//     the same authentication, filters, paging and cache; UNAVAILABLE while
//     the mirror is not in sync with the primary (engine availability()).
//   AcknowledgeWarning, Evaluate, GetEvaluationReport: forwarded to the
//     primary with the caller's authorization metadata and deadline
//     (PrimaryForwarder); the primary's status is returned unchanged, so
//     the primary authenticates and authorizes the real caller. `evaluator`
//     may be null then.
//
// Performance (ListWarnings is the hot read):
//   - ListWarnings is a raw method: the response is serialized once per
//     (published warning set version, request bytes) and kept as a
//     ref-counted slice in a bounded cache (`list_cache_entries`;
//     common/server/response_cache.h: emptied whenever the set changes or
//     it is full); repeated requests
//     get the same bytes without copying or serializing a warning. Reads
//     use the engine's published WarningSet and never wait for the engine's
//     writers.
//   - Authentication goes through common/auth's Authenticator, whose
//     bounded cache makes a repeated token a hash-map lookup (see
//     authenticator.h; Reload() empties it).
//
// Thread-safety: thread-safe.

#include <atomic>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/catalog/catalog.h"
#include "common/server/response_cache.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "services/evaluation/service/evaluator.h"
#include "services/evaluation/service/followup_tracker.h"
#include "services/evaluation/service/primary_forwarder.h"
#include "services/evaluation/service/service_metrics.h"
#include "services/evaluation/service/warning_engine.h"

namespace halfsky {

struct EvaluationServiceOptions {
  size_t max_watch_queue = 1024;
  int max_watchers = 256;
  // ListWarnings response cache (see above).
  size_t list_cache_entries = 256;
  // Not owned; may be null. Watcher gauges and drop counters.
  evaluation::EvaluationMetrics* metrics = nullptr;
  // Not owned; may be null. Set on a read replica: see above.
  evaluation::PrimaryForwarder* forward_to = nullptr;
  // Not owned; may be null. When set, GetEvaluationReport adds the
  // follow-up records (督办) of the report's warnings and their summary
  // (FollowUpTracker::AnnotateReport).
  evaluation::FollowUpTracker* followups = nullptr;
};

// ListWarnings is served raw (pre-serialized bytes, see above); clients see
// the ordinary typed method.
class EvaluationServiceImpl final
    : public halfsky::v1::EvaluationService::WithRawCallbackMethod_ListWarnings<
          halfsky::v1::EvaluationService::CallbackService> {
 public:
  // `engine` and `evaluator` are not owned and must outlive the service;
  // `evaluator` may be null when options.forward_to is set.
  EvaluationServiceImpl(std::shared_ptr<const CatalogIndex> catalog,
                        evaluation::WarningEngine* engine, evaluation::Evaluator* evaluator,
                        auth::AuthenticateFn authenticate, EvaluationServiceOptions options = {});

  // Ends every WatchWarnings stream with UNAVAILABLE and refuses new ones
  // (call before grpc::Server::Shutdown so it need not wait for them).
  void Shutdown();
  int active_watchers() const { return watchers_.load(); }

  // The request and response are a serialized ListWarningsRequest and
  // ListWarningsResponse; INVALID_ARGUMENT when the request does not parse.
  grpc::ServerUnaryReactor* ListWarnings(grpc::CallbackServerContext* ctx,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<halfsky::v1::WarningEvent>* WatchWarnings(
      grpc::CallbackServerContext* ctx, const halfsky::v1::WatchWarningsRequest* request) override;
  grpc::ServerUnaryReactor* AcknowledgeWarning(
      grpc::CallbackServerContext* ctx, const halfsky::v1::AcknowledgeWarningRequest* request,
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
  // The serialized response for `request_bytes`, from the cache or built
  // from `set` (and cached).
  absl::StatusOr<grpc::Slice> ListResponse(const evaluation::WarningSet& set,
                                           const std::string& request_bytes);

  const std::shared_ptr<const CatalogIndex> catalog_;
  evaluation::WarningEngine* const engine_;
  evaluation::Evaluator* const evaluator_;
  const auth::AuthenticateFn authenticate_;
  const EvaluationServiceOptions options_;
  std::atomic<int> watchers_{0};

  server::VersionedResponseCache list_cache_;
};

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_EVALUATION_SERVICE_H_
