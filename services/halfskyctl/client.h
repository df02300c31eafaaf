#ifndef HALFSKY_SERVICES_HALFSKYCTL_CLIENT_H_
#define HALFSKY_SERVICES_HALFSKYCTL_CLIENT_H_

// Connection settings shared by every halfskyctl command that talks to a
// service: which server, which bearer token (attached with common/auth's
// AddBearerToken), TLS, deadline; and the RPCs every command shares. The
// only halfskyctl library besides the commands that makes RPCs.
// Thread-compatible.

#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/views/warnings_view.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/catalog.pb.h"
#include "services/halfskyctl/cli.h"

namespace halfsky {

// Which service a command talks to; picks the default address and the
// environment variable that overrides it.
enum class Target { kSubmission, kAggregation, kEvaluation, kExchange };

struct ClientOptions {
  std::string server;  // HOST:PORT
  std::string token;   // bearer token, "" = none
  std::string tls_ca;  // PEM file; "" = plaintext
  absl::Duration timeout = absl::Seconds(30);
  // Attempts per call when the server says "busy" (see CallWithRetries);
  // 1 = never retry. --max_attempts.
  int max_attempts = 5;
  // A RetryInfo delay longer than this is not waited for: the refusal is
  // reported instead.
  absl::Duration max_retry_delay = absl::Seconds(60);
};

// The settings from the environment alone: HALFSKY_SUBMISSION /
// HALFSKY_AGGREGATION / HALFSKY_EVALUATION / HALFSKY_EXCHANGE (per target),
// else HALFSKY_SERVER, else 127.0.0.1:7301 / 7302 / 7303 / 7305; HALFSKY_TOKEN;
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

// Help text for the flags above (and --max_attempts), for commands' --help.
const char* ClientFlagsHelp();

std::shared_ptr<grpc::Channel> Dial(const ClientOptions& options);

// Sets the deadline and the authorization metadata on `ctx`.
void PrepareContext(const ClientOptions& options, grpc::ClientContext* ctx);

// Whether a call may be sent again after a failure that may have come after
// the server acted on it.
enum class Idempotency {
  // Reads, and writes that carry a request id (the server answers a repeat
  // of the id with the first reply and writes nothing again): retried on
  // RESOURCE_EXHAUSTED with a google.rpc.RetryInfo and on UNAVAILABLE.
  kIdempotent,
  // Writes without a request id: retried only on RESOURCE_EXHAUSTED with a
  // RetryInfo, which the server's admission control (the per-principal
  // rate limit) answers before any handler runs, so nothing was done;
  // never on UNAVAILABLE, which may follow a write that happened.
  kNotIdempotent,
};

// The retry_delay of the google.rpc.RetryInfo detail of `status`; nullopt
// when it carries none.
std::optional<absl::Duration> RetryInfoDelay(const grpc::Status& status);

// Runs `call` with a fresh ClientContext prepared by PrepareContext, and
// again while it fails retryably (see Idempotency) and attempts are left
// (options.max_attempts in all): after RESOURCE_EXHAUSTED it waits the
// RetryInfo delay (refusing to wait longer than options.max_retry_delay),
// after UNAVAILABLE 1, 2, 4… s. Before each wait it tells the user on
// `err`: "服务繁忙，N 秒后重试（第 k/M 次）/ server busy (RESOURCE_EXHAUSTED),
// retrying in N s (attempt k of M)". Returns the last status.
grpc::Status CallWithRetries(const ClientOptions& options, Idempotency idempotency,
                             const std::function<grpc::Status(grpc::ClientContext*)>& call,
                             std::ostream& err = std::cerr);

// How long to wait before attempt `next_attempt` (2..) after `status`, or
// nullopt when `status` is not retried (or attempts / the delay bound are
// exhausted). Exposed for the streaming upload, which reopens its stream
// itself; prints the notice to `err` when it returns a delay.
std::optional<absl::Duration> RetryWait(const ClientOptions& options, Idempotency idempotency,
                                        const grpc::Status& status, int next_attempt,
                                        std::ostream& err);

// The catalog the server serves (every halfsky service serves
// CatalogService), for names of areas, units, domains and indicators.
// The RPC's status on failure.
grpc::Status FetchCatalog(const ClientOptions& options, halfsky::v1::Catalog* catalog);

// The catalog's names (areas, units, indicators) for labelling a command's
// output. Labels are optional: when the server refuses the catalog, `names`
// is left empty (the output shows codes) and the result is OK. When the
// server could not be reached (UNAVAILABLE after every attempt, or
// DEADLINE_EXCEEDED: no answer within --timeout, as from an address that
// drops packets) that status is returned: a command whose own call goes to
// the same server fails with it at once rather than wait as long again.
grpc::Status FetchNames(const ClientOptions& options, views::Names* names);

// FetchNames for output after the command's own call succeeded: the names,
// or none.
views::Names NamesOrNone(const ClientOptions& options);

// A readable, multi-line description of an RPC error for people: the code
// explained in Chinese and English, the message, and every BadRequest field
// violation on its own line.
std::string DescribeRpcError(const grpc::Status& status);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_CLIENT_H_
