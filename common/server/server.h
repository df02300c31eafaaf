#ifndef HALFSKY_COMMON_SERVER_SERVER_H_
#define HALFSKY_COMMON_SERVER_SERVER_H_

// The one server bootstrap every halfsky service uses: a gRPC server with
// the service's own services, CatalogService, grpc.health.v1, reflection,
// per-method metrics, a Prometheus /metrics HTTP endpoint on its own port,
// and graceful shutdown: on SIGTERM/SIGINT, health turns NOT_SERVING, new
// RPCs keep being served for `drain_delay` (so load balancers move away),
// then the server shuts down, cancelling what is still running after
// `grace_period`.
//
// Typical main.cc:
//
//   int main(int argc, char** argv) {
//     halfsky::InitService(argc, argv, "halfsky-submission");   // flags, signals
//     auto options = halfsky::ServerOptionsFromFlags();          // --listen, --metrics_listen, ...
//     auto catalog = halfsky::LoadCatalogFromFlags();            // --catalog, exits on error
//     ... build the service's dependencies ...
//     MyServiceImpl service(deps...);
//     return halfsky::RunServer(options, catalog, {&service}, {/*on_shutdown*/});
//   }

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/catalog/catalog.h"
#include "common/metrics/metrics.h"
#include "grpcpp/grpcpp.h"

namespace halfsky {

struct ServerOptions {
  // gRPC listen address, e.g. "0.0.0.0:7301" or "127.0.0.1:0" (port chosen
  // at run time; the chosen address is logged and written to
  // `address_file` if set).
  std::string listen = "127.0.0.1:0";
  // HTTP address for /metrics, e.g. "0.0.0.0:9301"; "" disables it.
  std::string metrics_listen;
  // When non-empty, "grpc=HOST:PORT metrics=HOST:PORT\n" is written here
  // once listening (tests and run.sh use it to find ports chosen at run time).
  std::string address_file;
  absl::Duration drain_delay = absl::Seconds(1);
  absl::Duration grace_period = absl::Seconds(10);
  // Name for logs and metrics, e.g. "halfsky-submission".
  std::string name;
  // TLS: PEM files; empty = plaintext. With client_ca_file, clients must
  // present a certificate signed by it (mTLS).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Largest accepted request message, bytes (--max_receive_message_bytes).
  // A larger one is refused by gRPC with RESOURCE_EXHAUSTED before any
  // service code runs. It applies to every peer: gRPC 1.51 cannot know who
  // a peer is before its message is read (see docs/OPERATIONS.md,
  // "Admission control").
  int max_receive_message_bytes = 16 << 20;
  // Refuses unauthenticated calls before their message is read, with TLS
  // only (a grpc::AuthMetadataProcessor; gRPC 1.51 aborts the process if
  // one is set on plaintext credentials): the call answers UNAUTHENTICATED
  // from its metadata. Health, reflection and CatalogService stay open, as
  // their handlers are. nullptr = auth::FlagsAuthenticator() (what main()
  // made); none, or one in no-auth mode, = no early refusal. Must outlive
  // the server. Handlers authenticate as before.
  const auth::Authenticator* authenticator = nullptr;
  // Memory gRPC may use for this server's connections and calls, bytes
  // (--grpc_memory_quota_bytes; a grpc::ResourceQuota). It bounds what
  // gRPC buffers for requests in flight (read buffers and received
  // messages): near it gRPC shrinks flow-control windows and refuses calls
  // (RESOURCE_EXHAUSTED or UNAVAILABLE). It does not bound what service
  // code allocates. Measured peak ≈ quota + 60 MiB (docs/OPERATIONS.md).
  // 0 = unbounded.
  int64_t memory_quota_bytes = int64_t{256} << 20;
};

// Parses flags (absl), sets the program name for usage, and blocks
// SIGTERM/SIGINT/SIGHUP in every thread so that RunServer's signal thread
// receives them. Call first in main().
void InitService(int argc, char** argv, const std::string& name);

// --listen, --metrics_listen, --address_file, --drain_delay, --grace_period,
// --tls_cert, --tls_key, --tls_client_ca, --max_receive_message_bytes,
// --grpc_memory_quota_bytes.
ServerOptions ServerOptionsFromFlags(const std::string& name);

// --catalog (comma-separated files or directories). Prints every problem
// and exits with status 2 if the catalog does not load.
std::shared_ptr<const CatalogIndex> LoadCatalogFromFlags();

// Credentials for this service's calls to other halfsky services:
// TLS when --upstream_tls_ca is set (with --upstream_tls_cert and
// --upstream_tls_key for mTLS), plaintext otherwise. Exits with status 2 if
// a named file cannot be read.
std::shared_ptr<grpc::ChannelCredentials> UpstreamCredentialsFromFlags();

// The process-wide metrics registry every service and library records into.
MetricsRegistry& ServiceMetrics();

class RunningServer;

struct RunHooks {
  // Called once the server is serving, before waiting for a signal (e.g.
  // hand a service the server's health status to change).
  std::function<void(RunningServer& server)> after_start;
  // Called after health turns NOT_SERVING and the drain delay, before the
  // gRPC server shuts down (e.g. close watch streams so Shutdown need not
  // wait for them).
  std::function<void()> before_shutdown;
  // Called after the gRPC server has shut down (flush stores, etc.).
  std::function<void()> after_shutdown;
};

// Builds and starts the server, serves until SIGTERM/SIGINT, then drains
// and shuts down. Returns the process exit code: 0 after a clean shutdown,
// 1 if the server could not start (reason on stderr).
int RunServer(const ServerOptions& options, std::shared_ptr<const CatalogIndex> catalog,
              const std::vector<grpc::Service*>& services, const RunHooks& hooks = {});

// Blocks until SIGTERM or SIGINT (which InitService blocked in every thread,
// so only this sigwait receives them), then logs "NAME: received SIGTERM,
// draining". For a main that starts its servers itself (RunServer calls it).
void WaitForTerminationSignal(const std::string& name);

// In-process variant for tests: starts the server and returns; Shutdown()
// runs the same drain sequence as a signal. Thread-compatible.
class RunningServer {
 public:
  static absl::StatusOr<std::unique_ptr<RunningServer>> Start(
      const ServerOptions& options, std::shared_ptr<const CatalogIndex> catalog,
      const std::vector<grpc::Service*>& services);
  ~RunningServer();
  // "127.0.0.1:PORT" actually bound.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  int metrics_port() const;
  grpc::Server* server() { return server_.get(); }
  void SetServing(bool serving);
  // NOT_SERVING, wait the drain delay, run `before_server_shutdown` (if
  // any), then shut the gRPC server down within the grace period and stop
  // the metrics endpoint. Idempotent; the destructor calls it.
  void Shutdown(const std::function<void()>& before_server_shutdown = {});

 private:
  RunningServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  int port_ = 0;
};

}  // namespace halfsky

#endif  // HALFSKY_COMMON_SERVER_SERVER_H_
