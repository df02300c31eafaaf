#ifndef HALFSKY_SERVICES_HALFSKYCTL_CLIENT_H_
#define HALFSKY_SERVICES_HALFSKYCTL_CLIENT_H_

// Connection settings shared by every halfskyctl command that talks to a
// service: which server, which bearer token (attached with common/auth's
// AddBearerToken), TLS, deadline; and the RPCs every command shares. The
// only halfskyctl library besides the commands that makes RPCs.
// Thread-compatible.

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/catalog.pb.h"
#include "services/halfskyctl/cli.h"

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

// The settings from the environment alone: HALFSKY_SUBMISSION /
// HALFSKY_AGGREGATION / HALFSKY_EVALUATION (per target), else
// HALFSKY_SERVER, else 127.0.0.1:7301 / 7302 / 7303; HALFSKY_TOKEN;
// HALFSKY_TLS_CA; a 30 s timeout.
ClientOptions DefaultClientOptions(Target target);

// Parses the command line of a command that talks to `target` with
// cli::Args::Parse: the command's `value_flags` and `bool_flags` plus the
// connection flags --server, --token, --tls_ca and --timeout, which
// override DefaultClientOptions(target) in `*options`. The parser's errors,
// or INVALID_ARGUMENT for a bad --timeout duration.
absl::StatusOr<cli::Args> ParseWithClientFlags(const std::vector<std::string>& args, Target target,
                                               const std::set<std::string>& value_flags,
                                               const std::set<std::string>& bool_flags,
                                               ClientOptions* options);

// Help text for the flags above, for commands' --help.
const char* ClientFlagsHelp();

std::shared_ptr<grpc::Channel> Dial(const ClientOptions& options);

// Sets the deadline and the authorization metadata on `ctx`.
void PrepareContext(const ClientOptions& options, grpc::ClientContext* ctx);

// The catalog the server serves (every halfsky service serves
// CatalogService), for names of areas, units, domains and indicators.
// The RPC's status on failure.
grpc::Status FetchCatalog(const ClientOptions& options, halfsky::v1::Catalog* catalog);

// A readable, multi-line description of an RPC error for people: the code
// explained in Chinese and English, the message, and every BadRequest field
// violation on its own line.
std::string DescribeRpcError(const grpc::Status& status);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_CLIENT_H_
