#include "services/aggregation/aggregation_service.h"

#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "common/auth/roles.h"
#include "common/server/unary_reply.h"
#include "common/status/parse_error.h"
#include "common/status/status.h"
#include "services/aggregation/reports.h"

namespace halfsky {

using aggregation::Aggregator;

namespace {
constexpr size_t kChunkBytes = 64 * 1024;

}  // namespace

AggregationServiceImpl::AggregationServiceImpl(std::shared_ptr<const CatalogIndex> catalog,
                                               aggregation::AggregationState* state,
                                               aggregation::Follower* follower, Clock* clock,
                                               auth::AuthenticateFn authenticate,
                                               size_t series_cache_entries)
    : catalog_(std::move(catalog)),
      state_(state),
      follower_(follower),
      clock_(clock),
      authenticate_(std::move(authenticate)),
      series_cache_(series_cache_entries) {}

absl::Status AggregationServiceImpl::CheckRead(const grpc::CallbackServerContext& ctx) const {
  HALFSKY_RETURN_IF_ERROR(authenticate_(ctx).status());
  if (!state_->ready()) {
    return absl::UnavailableError(
        "汇总数据尚未完成首次构建 / aggregates are still being built from the change feed");
  }
  return absl::OkStatus();
}

absl::StatusOr<grpc::Slice> AggregationServiceImpl::BuildSeriesResponse(
    const halfsky::v1::GetSeriesRequest& request, absl::string_view request_bytes) {
  int64_t version = 0;
  absl::StatusOr<halfsky::v1::GetSeriesResponse> built =
      state_->ReadVersioned([&](const Aggregator& agg, int64_t v) {
        version = v;
        return aggregation::BuildSeries(agg, request);
      });
  if (!built.ok()) {
    return built.status();
  }
  grpc::Slice bytes(built->SerializeAsString());
  series_cache_.Insert(version, request_bytes, bytes);
  return bytes;
}

grpc::ServerUnaryReactor* AggregationServiceImpl::GetSeries(grpc::CallbackServerContext* ctx,
                                                            const grpc::ByteBuffer* request,
                                                            grpc::ByteBuffer* response) {
  grpc::Slice flat;
  if (request->Length() > 0 && !request->DumpToSingleSlice(&flat).ok()) {
    return server::FinishUnary(ctx,
                               absl::InvalidArgumentError("请求无法读取 / unreadable request"));
  }
  const absl::string_view bytes(reinterpret_cast<const char*>(flat.begin()), flat.size());
  // A hit means these bytes parsed before, into a request that was answered
  // at this version. Bytes protobuf refuses are INVALID_ARGUMENT before
  // anything else, as the server's parse of a typed method answers
  // (common/server/request_parse.h).
  std::optional<grpc::Slice> out = series_cache_.Find(state_->version(), bytes);
  halfsky::v1::GetSeriesRequest parsed;
  if (!out.has_value()) {
    if (absl::Status st = ParseRequest(bytes, &parsed); !st.ok()) {
      return server::FinishUnary(ctx, st);
    }
  }
  if (absl::Status st = CheckRead(*ctx); !st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  if (!out.has_value()) {
    absl::StatusOr<grpc::Slice> built = BuildSeriesResponse(parsed, bytes);
    if (!built.ok()) {
      return server::FinishUnary(ctx, built.status());
    }
    out = *std::move(built);
  }
  *response = grpc::ByteBuffer(&*out, 1);
  return server::FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* AggregationServiceImpl::GetAnnualReport(
    grpc::CallbackServerContext* ctx, const halfsky::v1::GetAnnualReportRequest* request,
    halfsky::v1::AnnualReport* response) {
  absl::Status st = CheckRead(*ctx);
  if (st.ok()) {
    const absl::Time now = clock_->Now();
    auto built = state_->Read(
        [&](const Aggregator& agg) { return aggregation::BuildAnnualReport(agg, *request, now); });
    if (built.ok()) {
      *response = std::move(built).value();
    } else {
      st = built.status();
    }
  }
  return server::FinishUnary(ctx, st);
}

class AggregationServiceImpl::ExportReactor final
    : public grpc::ServerWriteReactor<halfsky::v1::ExportChunk> {
 public:
  ExportReactor(aggregation::AggregationState* state, aggregation::ExportPlan plan)
      : state_(state), plan_(std::move(plan)) {
    Enqueue(aggregation::ExportHeader(plan_.format));
    WriteNext();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void Enqueue(const std::string& text) {
    size_t i = 0;
    while (i < text.size()) {
      // Cut at a line end when possible so that chunks hold whole rows.
      size_t end = std::min(text.size(), i + kChunkBytes);
      if (end < text.size()) {
        const size_t nl = text.rfind('\n', end - 1);
        if (nl != std::string::npos && nl >= i) {
          end = nl + 1;
        }
      }
      pieces_.push_back(text.substr(i, end - i));
      i = end;
    }
  }
  void WriteNext() {
    while (pieces_.empty() && next_ < plan_.indicators.size()) {
      const size_t index = next_++;
      Enqueue(state_->Read([&](const Aggregator& agg) {
        return aggregation::ExportIndicatorRows(agg, plan_, index);
      }));
    }
    if (pieces_.empty()) {
      Finish(grpc::Status::OK);
      return;
    }
    chunk_.set_data(std::move(pieces_.front()));
    pieces_.pop_front();
    StartWrite(&chunk_);
  }

  aggregation::AggregationState* const state_;
  const aggregation::ExportPlan plan_;
  size_t next_ = 0;
  std::deque<std::string> pieces_;
  halfsky::v1::ExportChunk chunk_;
};

grpc::ServerWriteReactor<halfsky::v1::ExportChunk>* AggregationServiceImpl::Export(
    grpc::CallbackServerContext* ctx, const halfsky::v1::ExportRequest* request) {
  // (A StatusOr must not be built from an OK status: that aborts.)
  absl::Status st = CheckRead(*ctx);
  absl::StatusOr<aggregation::ExportPlan> plan =
      st.ok() ? state_->Read(
                    [&](const Aggregator& agg) { return aggregation::PlanExport(agg, *request); })
              : absl::StatusOr<aggregation::ExportPlan>(st);
  if (!plan.ok()) {
    class Failed final : public grpc::ServerWriteReactor<halfsky::v1::ExportChunk> {
     public:
      explicit Failed(const absl::Status& st) { Finish(ToGrpcStatus(st)); }
      void OnDone() override { delete this; }
    };
    return new Failed(plan.status());
  }
  return new ExportReactor(state_, std::move(plan).value());
}

grpc::ServerUnaryReactor* AggregationServiceImpl::Rebuild(
    grpc::CallbackServerContext* ctx, const halfsky::v1::RebuildRequest* request,
    halfsky::v1::RebuildResponse* response) {
  auto principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  // Statistics or admin; never a service principal (read-only).
  if (absl::Status allowed = auth::RequireRole(
          *principal, {halfsky::v1::ROLE_KIND_STATISTICS, halfsky::v1::ROLE_KIND_ADMIN});
      !allowed.ok()) {
    return server::FinishUnary(ctx, allowed);
  }
  if (follower_ == nullptr) {
    return server::FinishUnary(
        ctx, absl::UnavailableError("没有变更流跟随器 / no change-feed follower"));
  }
  auto* reactor = ctx->DefaultReactor();
  follower_->RequestRebuild(
      [reactor, response](absl::StatusOr<halfsky::v1::RebuildResponse> result) {
        if (result.ok()) {
          *response = std::move(result).value();
        }
        reactor->Finish(ToGrpcStatus(result.status()));
      });
  return reactor;
}

}  // namespace halfsky
