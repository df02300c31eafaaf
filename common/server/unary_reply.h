#ifndef HALFSKY_COMMON_SERVER_UNARY_REPLY_H_
#define HALFSKY_COMMON_SERVER_UNARY_REPLY_H_

// The edge of every unary callback handler: finish the call with
// `status`, converted once by ToGrpcStatus (common/status). Returns the
// context's default reactor, for the handler to return. Thread-safe (one
// call per RPC).

#include "absl/status/status.h"
#include "common/status/status.h"
#include "grpcpp/grpcpp.h"

namespace halfsky::server {

inline grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx,
                                             const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace halfsky::server

#endif  // HALFSKY_COMMON_SERVER_UNARY_REPLY_H_
