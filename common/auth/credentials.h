#ifndef HALFSKY_COMMON_AUTH_CREDENTIALS_H_
#define HALFSKY_COMMON_AUTH_CREDENTIALS_H_

// Client side of bearer-token authentication: the one way halfsky's own
// clients (halfskyctl, the aggregation follower, the evaluation service's
// upstream calls and read replica, tests) present a token, and read it from
// a file (a Kubernetes Secret mount, --*_token_file flags).
//
// Two ways to attach a token:
//   - AddBearerToken(&context, token): adds the metadata to one call. Works
//     on every channel, plaintext included. halfskyctl and the followers use
//     this.
//   - BearerTokenCredentials(token): grpc::CallCredentials for
//     grpc::CompositeChannelCredentials on a TLS channel (every call on the
//     channel carries the token). gRPC refuses to send call credentials on
//     an insecure channel, so do not use it with InsecureChannelCredentials.
// Tokens travel in clear text on a plaintext channel: use TLS wherever the
// network is not trusted.
//
// Thread-safety: thread-safe (pure functions; the credentials object is
// immutable).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"

namespace halfsky::auth {

// Adds "authorization: Bearer <token>" to `context` (before the call). An
// empty `token` adds nothing (the call goes out unauthenticated).
void AddBearerToken(grpc::ClientContext* context, absl::string_view token);

// Call credentials that add "authorization: Bearer <token>" to every call.
std::shared_ptr<grpc::CallCredentials> BearerTokenCredentials(const std::string& token);

// The bearer token stored in the file at `path`: its content without
// leading and trailing ASCII whitespace (a trailing newline is usual). ""
// for an empty `path` (no token) or an empty file. NOT_FOUND /
// PERMISSION_DENIED, naming the path, when the file cannot be read.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace halfsky::auth

#endif  // HALFSKY_COMMON_AUTH_CREDENTIALS_H_
