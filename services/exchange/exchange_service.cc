#include "services/exchange/exchange_service.h"

#include "absl/strings/str_cat.h"
#include "common/auth/roles.h"
#include "common/server/unary_reply.h"
#include "common/status/status.h"

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

}  // namespace

grpc::ServerUnaryReactor* ExchangeServiceImpl::GetExchangeStatus(
    grpc::CallbackServerContext* ctx, const v1::GetExchangeStatusRequest* /*request*/,
    v1::ExchangeStatus* response) {
  if (absl::Status st = AuthorizeRead(authenticate_(*ctx)); !st.ok()) {
    return server::FinishUnary(ctx, st);
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
  absl::StatusOr<std::vector<v1::ExchangeBatch>> rows = exchanger_->log()->List(
      request->before_id(), request->page_size() == 0 ? 100 : request->page_size());
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
  *response = exchanger_->RunOnce(request->retry_refused());
  return server::FinishUnary(ctx, absl::OkStatus());
}

}  // namespace halfsky::exchange
