#ifndef HALFSKY_COMMON_SERVER_REQUEST_PARSE_H_
#define HALFSKY_COMMON_SERVER_REQUEST_PARSE_H_

// Requests that gRPC could not parse answer INVALID_ARGUMENT, for every RPC
// of every service a RunningServer serves.
//
// Why an interceptor: gRPC 1.51's C++ server parses a request before any
// service code runs; when protobuf refuses it (invalid UTF-8 in a proto3
// `string` field, or bytes that are no message at all), a unary or
// server-streaming callback method answers UNIMPLEMENTED with an empty
// message, and a streaming read looks like the client's end of stream.
// This interceptor sees every call: at POST_RECV_MESSAGE a missing message
// on a unary/server-streaming method means the parse failed; protobuf names
// the refused string field ("halfsky.v1.DataKey.area_code") in its log
// line, which a protobuf log handler records for the parsing thread (the
// same thread runs the interceptor right after the parse). At
// PRE_SEND_STATUS the status is replaced by INVALID_ARGUMENT with a
// google.rpc.BadRequest naming the field as a path from the request type
// ("data_values[].key.area_code", the index is unknown: the parser stops
// before it says which element) and the proto field's full name. The
// service never saw the request, so nothing changed.
//
// Limits: a streaming read of bytes that are not a message at all (no
// UTF-8 log line) is still seen by the service as the end of the stream.

#include <memory>

#include "grpcpp/support/server_interceptor.h"

namespace halfsky {

// Installs the protobuf log handler (once per process; other log lines
// still reach protobuf's previous handler) and returns the factory.
// Thread-safe.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRequestParseInterceptorFactory();

}  // namespace halfsky

#endif  // HALFSKY_COMMON_SERVER_REQUEST_PARSE_H_
