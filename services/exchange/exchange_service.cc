#include "services/exchange/exchange_service.h"

#include "absl/strings/str_cat.h"
#include "common/auth/roles.h"
#include "common/auth/token_store.h"
#include "common/server/unary_reply.h"
#include "common/status/status.h"
#include "google/protobuf/util/time_util.h"

namespace halfsky::exchange {
namespace {

namespace v1 = ::halfsky::v1;

absl::Status AuthorizeRead(const absl::StatusOr<v1::Principal>& principal) {
  if (!principal.ok()) {
    return principal.status();
  }
  return auth::RequireRole(*principal, {v1::ROLE_KIND_STATISTICS, v1::ROLE_KIND_ASSESSMENT,
                                        v1::ROLE_KIND_ADMIN, v1::ROLE_KIND_SERVICE});
}

absl::Status NoExchanger() {
  return absl::FailedPreconditionError(
      "本实例不向上级报送（未设 --upper_submission） / this instance reports to no upper "
      "instance (no --upper_submission)");
}

}  // namespace

grpc::ServerUnaryReactor* ExchangeServiceImpl::GetExchangeStatus(
    grpc::CallbackServerContext* ctx, const v1::GetExchangeStatusRequest* /*request*/,
    v1::ExchangeStatus* response) {
  if (absl::Status st = AuthorizeRead(authenticate_(*ctx)); !st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  if (exchanger_ == nullptr) {
    return server::FinishUnary(ctx, NoExchanger());
  }
  *response = exchanger_->Status();
  return server::FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* ExchangeServiceImpl::ListExchangeLog(
    grpc::CallbackServerContext* ctx, const v1::ListExchangeLogRequest* request,
    v1::ListExchangeLogResponse* response) {
  if (absl::Status st = AuthorizeRead(authenticate_(*ctx)); !st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  if (request->page_size() < 0 || request->page_size() > 1000 || request->before_id() < 0) {
    return server::FinishUnary(
        ctx,
        InvalidArgumentError("请求参数不正确 / invalid request",
                             {{request->before_id() < 0 ? "before_id" : "page_size",
                               request->before_id() < 0 ? "不能为负数 / must not be negative"
                                                        : "须在0到1000之间 / must be 0 to 1000"}}));
  }
  absl::StatusOr<std::vector<v1::ExchangeBatch>> rows =
      log_->List(request->before_id(), request->page_size() == 0 ? 100 : request->page_size());
  if (!rows.ok()) {
    return server::FinishUnary(ctx, rows.status());
  }
  for (v1::ExchangeBatch& b : *rows) {
    *response->add_batches() = std::move(b);
  }
  return server::FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* ExchangeServiceImpl::SyncNow(grpc::CallbackServerContext* ctx,
                                                       const v1::SyncNowRequest* request,
                                                       v1::ExchangeRun* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  if (absl::Status st =
          auth::RequireRole(*principal, {v1::ROLE_KIND_STATISTICS, v1::ROLE_KIND_ADMIN});
      !st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  if (exchanger_ == nullptr) {
    return server::FinishUnary(ctx, NoExchanger());
  }
  *response = exchanger_->RunOnce(request->retry_refused());
  return server::FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* ExchangeServiceImpl::SubmitAreaReport(
    grpc::CallbackServerContext* ctx, const v1::SubmitAreaReportRequest* request,
    v1::AreaReportReceipt* response) {
  absl::StatusOr<v1::Principal> principal = authenticate_(*ctx);
  if (!principal.ok()) {
    return server::FinishUnary(ctx, principal.status());
  }
  const v1::EvaluationReport& report = request->report();
  if (report.area_code().empty() || report.year() == 0) {
    return server::FinishUnary(
        ctx, InvalidArgumentError("报告缺少区域或年份 / the report names no area or year",
                                  {{report.area_code().empty() ? "report.area_code" : "report.year",
                                    "必填 / required"}}));
  }
  if (!auth::IsReportingArea(*principal, report.area_code())) {
    return server::FinishUnary(
        ctx, absl::PermissionDeniedError(absl::StrCat(
                 "权限不足：只能报送本区域的评估报告，需要角色 area:", report.area_code(),
                 " / permission denied: requires role area:", report.area_code(), " (principal \"",
                 principal->name(), "\")")));
  }
  v1::EvaluationReport stable = report;
  stable.clear_generated_at();
  v1::AreaReport stored;
  stored.set_area_code(report.area_code());
  stored.set_year(report.year());
  *stored.mutable_report() = report;
  *stored.mutable_received_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(clock_->Now()));
  stored.set_submitted_by(principal->name());
  stored.set_fingerprint(auth::HashToken(stable.SerializeAsString()));
  absl::StatusOr<bool> unchanged = log_->PutAreaReport(stored);
  if (!unchanged.ok()) {
    return server::FinishUnary(ctx, unchanged.status());
  }
  response->set_unchanged(*unchanged);
  *response->mutable_received_at() = stored.received_at();
  response->set_fingerprint(stored.fingerprint());
  return server::FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* ExchangeServiceImpl::ListAreaReports(
    grpc::CallbackServerContext* ctx, const v1::ListAreaReportsRequest* request,
    v1::ListAreaReportsResponse* response) {
  if (absl::Status st = AuthorizeRead(authenticate_(*ctx)); !st.ok()) {
    return server::FinishUnary(ctx, st);
  }
  absl::StatusOr<std::vector<v1::AreaReport>> reports = log_->ListAreaReports(request->area_code());
  if (!reports.ok()) {
    return server::FinishUnary(ctx, reports.status());
  }
  for (v1::AreaReport& r : *reports) {
    *response->add_reports() = std::move(r);
  }
  return server::FinishUnary(ctx, absl::OkStatus());
}

}  // namespace halfsky::exchange
