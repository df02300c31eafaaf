#ifndef HALFSKY_SERVICES_AGGREGATION_AGGREGATION_SERVICE_H_
#define HALFSKY_SERVICES_AGGREGATION_AGGREGATION_SERVICE_H_

// halfsky.v1.AggregationService (callback API) over the in-memory
// aggregates kept by the Follower.
//
//   GetSeries, GetAnnualReport, Export: any authenticated principal
//     (UNAUTHENTICATED otherwise). Answered from the in-memory state, which
//     is always at least as new as the Redis cache; UNAVAILABLE until the
//     first build from the change feed has completed. Errors as in
//     reports.h (NOT_FOUND, INVALID_ARGUMENT with BadRequest).
//   Export streams one chunk (<= 64 KiB) at a time, generated indicator by
//     indicator under a short shared lock, so memory stays small.
//   Rebuild: statistics or admin role (PERMISSION_DENIED otherwise); asks
//     the follower for a full recompute from sequence 0 and a rewrite of the
//     cache; replies when done (UNAVAILABLE if the change feed cannot be
//     read or the service is stopping).
//
// GetSeries is the hot read (dashboards and the web console ask for the
// same series again and again): a raw method whose serialized response is
// kept per (AggregationState::version(), request bytes) in a bounded
// common/server VersionedResponseCache (`series_cache_entries`), so a
// repeated request costs neither a parse, nor ~80 lookups, nor a
// serialization until the aggregates change. Its answer does not depend on
// the caller (any authenticated principal reads every series); errors are
// never cached. Clients see the ordinary typed method.
//
// Thread-safety: thread-safe (gRPC calls methods concurrently).

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/authenticator.h"
#include "common/catalog/catalog.h"
#include "common/clock/clock.h"
#include "common/server/response_cache.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "halfsky/v1/common.pb.h"
#include "services/aggregation/follower.h"

namespace halfsky {

class AggregationServiceImpl final
    : public halfsky::v1::AggregationService::WithRawCallbackMethod_GetSeries<
          halfsky::v1::AggregationService::CallbackService> {
 public:
  // `state` and `follower` are not owned and must outlive the service;
  // `follower` may be null (Rebuild then answers UNAVAILABLE).
  // series_cache_entries == 0 turns GetSeries' response cache off.
  AggregationServiceImpl(std::shared_ptr<const CatalogIndex> catalog,
                         aggregation::AggregationState* state, aggregation::Follower* follower,
                         Clock* clock, auth::AuthenticateFn authenticate,
                         size_t series_cache_entries = 256);

  // A GetSeriesRequest's bytes in, a GetSeriesResponse's bytes out.
  grpc::ServerUnaryReactor* GetSeries(grpc::CallbackServerContext* ctx,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetAnnualReport(grpc::CallbackServerContext* ctx,
                                            const halfsky::v1::GetAnnualReportRequest* request,
                                            halfsky::v1::AnnualReport* response) override;
  grpc::ServerWriteReactor<halfsky::v1::ExportChunk>* Export(
      grpc::CallbackServerContext* ctx, const halfsky::v1::ExportRequest* request) override;
  grpc::ServerUnaryReactor* Rebuild(grpc::CallbackServerContext* ctx,
                                    const halfsky::v1::RebuildRequest* request,
                                    halfsky::v1::RebuildResponse* response) override;

 private:
  class ExportReactor;
  // OK when the caller is authenticated and the state is ready.
  absl::Status CheckRead(const grpc::CallbackServerContext& ctx) const;
  // The serialized GetSeriesResponse for `request` (parsed from
  // `request_bytes`), built from the current aggregates and cached.
  absl::StatusOr<grpc::Slice> BuildSeriesResponse(const halfsky::v1::GetSeriesRequest& request,
                                                  absl::string_view request_bytes);

  const std::shared_ptr<const CatalogIndex> catalog_;
  aggregation::AggregationState* const state_;
  aggregation::Follower* const follower_;
  Clock* const clock_;
  const auth::AuthenticateFn authenticate_;
  server::VersionedResponseCache series_cache_;
};

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_AGGREGATION_AGGREGATION_SERVICE_H_
