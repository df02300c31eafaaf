#ifndef HALFSKY_SERVICES_EXCHANGE_EXCHANGE_SERVICE_H_
#define HALFSKY_SERVICES_EXCHANGE_EXCHANGE_SERVICE_H_

// halfsky.v1.ExchangeService (exchange.proto): the exchange's status, its
// durable log and SyncNow, over the one server bootstrap (common/server).
// Reads: statistics, assessment, admin or service; SyncNow: statistics or
// admin; SubmitAreaReport: area:<the report's area>; anything else
// PERMISSION_DENIED. Status and SyncNow without an exchanger (an upper
// instance that reports nowhere): FAILED_PRECONDITION.
//
// Thread-safe. SyncNow runs a reconciliation on the handler's thread (a
// rare operator call; runs are serialized by the Exchanger).

#include "common/auth/authenticator.h"
#include "halfsky/v1/exchange.grpc.pb.h"
#include "services/exchange/exchanger.h"

namespace halfsky::exchange {

class ExchangeServiceImpl final : public halfsky::v1::ExchangeService::CallbackService {
 public:
  // `log` and `clock` (and `exchanger`, null at an upper instance that
  // reports nowhere) must outlive the service.
  ExchangeServiceImpl(Exchanger* exchanger, ExchangeLog* log, const Clock* clock,
                      auth::AuthenticateFn authenticate)
      : exchanger_(exchanger), log_(log), clock_(clock), authenticate_(std::move(authenticate)) {}

  grpc::ServerUnaryReactor* GetExchangeStatus(grpc::CallbackServerContext* ctx,
                                              const halfsky::v1::GetExchangeStatusRequest* request,
                                              halfsky::v1::ExchangeStatus* response) override;
  grpc::ServerUnaryReactor* ListExchangeLog(
      grpc::CallbackServerContext* ctx, const halfsky::v1::ListExchangeLogRequest* request,
      halfsky::v1::ListExchangeLogResponse* response) override;
  grpc::ServerUnaryReactor* SyncNow(grpc::CallbackServerContext* ctx,
                                    const halfsky::v1::SyncNowRequest* request,
                                    halfsky::v1::ExchangeRun* response) override;
  grpc::ServerUnaryReactor* SubmitAreaReport(grpc::CallbackServerContext* ctx,
                                             const halfsky::v1::SubmitAreaReportRequest* request,
                                             halfsky::v1::AreaReportReceipt* response) override;
  grpc::ServerUnaryReactor* ListAreaReports(
      grpc::CallbackServerContext* ctx, const halfsky::v1::ListAreaReportsRequest* request,
      halfsky::v1::ListAreaReportsResponse* response) override;

 private:
  Exchanger* exchanger_;
  ExchangeLog* log_;
  const Clock* clock_;
  auth::AuthenticateFn authenticate_;
};

}  // namespace halfsky::exchange

#endif  // HALFSKY_SERVICES_EXCHANGE_EXCHANGE_SERVICE_H_
