#ifndef HALFSKY_SERVICES_HALFSKYCTL_CLIENT_H_
#define HALFSKY_SERVICES_HALFSKYCTL_CLIENT_H_

// Connection settings shared by every halfskyctl command that talks to a
// service: which server, which bearer token, TLS, deadline.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace halfsky {

// Which service a command talks to; picks the default address and the
// environment variable that overrides it.
enum class Target { kSubmission, kAggregation, kEvaluation };

struct ClientOptions {
  std::string server;  // HOST:PORT
  std::string token;   // bearer token, "" = none
  std::string tls_ca;  // PEM file; "" = plaintext
  absl::Duration timeout = absl::Seconds(30);
};

// Removes --server, --token, --tls_ca and --timeout (with their values,
// as "--flag value" or "--flag=value") from `args` and returns them, with
// defaults from the environment: HALFSKY_SERVER (any target) or
// HALFSKY_SUBMISSION / HALFSKY_AGGREGATION / HALFSKY_EVALUATION, then
// 127.0.0.1:7301 / 7302 / 7303; HALFSKY_TOKEN; HALFSKY_TLS_CA.
// INVALID_ARGUMENT for a flag without value or a bad duration.
absl::StatusOr<ClientOptions> ExtractClientOptions(std::vector<std::string>* args, Target target);

// Help text for the flags above, for commands' --help.
const char* ClientFlagsHelp();

std::shared_ptr<grpc::Channel> Dial(const ClientOptions& options);

// Sets the deadline and the authorization metadata on `ctx`.
void PrepareContext(const ClientOptions& options, grpc::ClientContext* ctx);

// A readable, multi-line description of an RPC error for people: the code
// explained in Chinese and English, the message, and every BadRequest field
// violation on its own line.
std::string DescribeRpcError(const grpc::Status& status);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_CLIENT_H_
