#ifndef HALFSKY_SERVICES_EXCHANGE_EXCHANGE_SERVICE_H_
#define HALFSKY_SERVICES_EXCHANGE_EXCHANGE_SERVICE_H_

// halfsky.v1.ExchangeService (exchange.proto): the exchange's status, its
// durable log and SyncNow, over the one server bootstrap (common/server).
// Reads: statistics, assessment, admin or service; SyncNow: statistics or
// admin; anything else PERMISSION_DENIED.
//
// Thread-safe. SyncNow runs a reconciliation on the handler's thread (a
// rare operator call; runs are serialized by the Exchanger).

#include "common/auth/authenticator.h"
#include "halfsky/v1/exchange.grpc.pb.h"
#include "services/exchange/exchanger.h"

namespace halfsky::exchange {

class ExchangeServiceImpl final : public halfsky::v1::ExchangeService::CallbackService {
 public:
  // `exchanger` must outlive the service.
  ExchangeServiceImpl(Exchanger* exchanger, auth::AuthenticateFn authenticate)
      : exchanger_(exchanger), authenticate_(std::move(authenticate)) {}

  grpc::ServerUnaryReactor* GetExchangeStatus(grpc::CallbackServerContext* ctx,
                                              const halfsky::v1::GetExchangeStatusRequest* request,
                                              halfsky::v1::ExchangeStatus* response) override;
  grpc::ServerUnaryReactor* ListExchangeLog(
      grpc::CallbackServerContext* ctx, const halfsky::v1::ListExchangeLogRequest* request,
      halfsky::v1::ListExchangeLogResponse* response) override;
  grpc::ServerUnaryReactor* SyncNow(grpc::CallbackServerContext* ctx,
                                    const halfsky::v1::SyncNowRequest* request,
                                    halfsky::v1::ExchangeRun* response) override;

 private:
  Exchanger* exchanger_;
  auth::AuthenticateFn authenticate_;
};

}  // namespace halfsky::exchange

#endif  // HALFSKY_SERVICES_EXCHANGE_EXCHANGE_SERVICE_H_
