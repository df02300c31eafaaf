#include "common/server/server.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/catalog/catalog_service.h"
#include "common/server/request_parse.h"
#include "common/status/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/auth_metadata_processor.h"
#include "grpcpp/support/server_interceptor.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "gRPC listen address HOST:PORT (port 0 picks a free port).");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:0",
          "Prometheus /metrics HTTP address HOST:PORT; empty disables it.");
ABSL_FLAG(std::string, address_file, "",
          "Write 'grpc=HOST:PORT metrics=HOST:PORT' here once listening.");
ABSL_FLAG(absl::Duration, drain_delay, absl::Seconds(1),
          "After SIGTERM: report NOT_SERVING and keep serving this long before shutting down.");
ABSL_FLAG(absl::Duration, grace_period, absl::Seconds(10),
          "After the drain delay: how long running RPCs may finish before they are cancelled.");
ABSL_FLAG(bool, mutex_deadlock_detection, false,
          "Abseil's mutex deadlock detection (a debugging aid that records the lock order on "
          "every lock; aborts on a lock-order cycle). Off by default: it costs every call.");
ABSL_FLAG(std::string, tls_cert, "", "PEM server certificate chain; empty = plaintext.");
ABSL_FLAG(std::string, tls_key, "", "PEM server private key.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle; when set, clients must present a certificate it signed (mTLS).");
ABSL_FLAG(std::string, upstream_tls_ca, "",
          "PEM CA bundle to verify other halfsky services this one calls; empty = plaintext.");
ABSL_FLAG(std::string, upstream_tls_cert, "",
          "PEM client certificate presented to other halfsky services (mTLS).");
ABSL_FLAG(std::string, upstream_tls_key, "", "PEM private key of --upstream_tls_cert.");
ABSL_FLAG(int, max_receive_message_bytes, 16 << 20,
          "Largest request message accepted, bytes; larger ones are refused with "
          "RESOURCE_EXHAUSTED before any service code runs.");
ABSL_FLAG(int64_t, grpc_memory_quota_bytes, int64_t{256} << 20,
          "Memory gRPC may use for connections and requests in flight, bytes (resource quota; "
          "under pressure gRPC shrinks flow-control windows and refuses calls). 0 = unbounded.");
ABSL_FLAG(std::string, catalog, "deploy/catalog",
          "Catalog text-format files or directories, comma-separated.");

namespace halfsky {
namespace {

std::string ReadWholeFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Why a call was refused at admission, or nullptr: UNAUTHENTICATED, or
// RESOURCE_EXHAUSTED carrying a google.rpc.RetryInfo (the rate limit of
// common/auth; other RESOURCE_EXHAUSTED answers are not admission).
const char* RefusalReason(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    return "unauthenticated";
  }
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
      absl::StrContains(status.error_details(), "google.rpc.RetryInfo")) {
    return "rate_limited";
  }
  return nullptr;
}

// Records per-method request counts by status code and latencies.
class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(std::string method, MetricsRegistry* registry)
      : method_(std::move(method)), registry_(registry), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      registry_
          ->GetCounter("halfsky_grpc_server_handled_total", "RPCs completed, by method and code.",
                       {{"method", method_}, {"code", std::to_string(status.error_code())}})
          ->Increment();
      registry_
          ->GetHistogram("halfsky_grpc_server_handling_seconds",
                         "RPC latency from first metadata to status, seconds.",
                         {{"method", method_}})
          ->Observe(absl::ToDoubleSeconds(absl::Now() - start_));
      if (const char* reason = RefusalReason(status); reason != nullptr) {
        registry_
            ->GetCounter("halfsky_admission_refused_total",
                         "Calls refused before their handler did any work, by method and reason "
                         "(unauthenticated, rate_limited).",
                         {{"method", method_}, {"reason", reason}})
            ->Increment();
      }
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  MetricsRegistry* const registry_;
  const absl::Time start_;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(MetricsRegistry* registry) : registry_(registry) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info->method() != nullptr ? info->method() : "unknown",
                                  registry_);
  }

 private:
  MetricsRegistry* const registry_;
};

// Authenticates each call from its metadata in gRPC's server auth filter,
// before the call reaches the application or its message is read (TLS
// credentials only), except the methods no handler authenticates (health,
// reflection, CatalogService). Non-blocking: a cache lookup or one SHA-256.
class AdmissionProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit AdmissionProcessor(const auth::Authenticator* authenticator)
      : authenticator_(authenticator) {}
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* /*context*/,
                       OutputMetadata* /*consumed*/, OutputMetadata* /*response*/) override {
    auto path = metadata.find(":path");
    const absl::string_view method =
        path == metadata.end() ? absl::string_view()
                               : absl::string_view(path->second.data(), path->second.size());
    // Open to everyone, as their handlers are: health, reflection, the
    // catalog.
    if (absl::StartsWith(method, "/grpc.") ||
        absl::StartsWith(method, "/halfsky.v1.CatalogService/")) {
      return grpc::Status::OK;
    }
    absl::StatusOr<v1::Principal> who = authenticator_->AuthenticateMetadata(metadata);
    if (who.ok()) {
      return grpc::Status::OK;
    }
    ServiceMetrics()
        .GetCounter("halfsky_admission_refused_total",
                    "Calls refused before their handler did any work, by method and reason "
                    "(unauthenticated, rate_limited).",
                    {{"method", method.empty() ? std::string("unknown") : std::string(method)},
                     {"reason", "unauthenticated"}})
        ->Increment();
    return ToGrpcStatus(who.status());
  }

 private:
  const auth::Authenticator* const authenticator_;
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(
    const ServerOptions& options) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    return grpc::InsecureServerCredentials();
  }
  bool ok_cert = false;
  bool ok_key = false;
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  pair.cert_chain = ReadWholeFile(options.tls_cert_file, &ok_cert);
  pair.private_key = ReadWholeFile(options.tls_key_file, &ok_key);
  if (!ok_cert || !ok_key) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key must both name readable files");
  }
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!options.tls_client_ca_file.empty()) {
    bool ok_ca = false;
    ssl.pem_root_certs = ReadWholeFile(options.tls_client_ca_file, &ok_ca);
    if (!ok_ca) {
      return absl::InvalidArgumentError("--tls_client_ca must name a readable file");
    }
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::SslServerCredentials(ssl);
  const auth::Authenticator* authenticator =
      options.authenticator != nullptr ? options.authenticator : auth::FlagsAuthenticator();
  if (authenticator != nullptr && authenticator->enabled()) {
    creds->SetAuthMetadataProcessor(std::make_shared<AdmissionProcessor>(authenticator));
  }
  return creds;
}

}  // namespace

void InitService(int argc, char** argv, const std::string& name) {
  absl::SetProgramUsageMessage(
      absl::StrCat(name, ": a halfsky service. Flags: --listen, --metrics_listen, --catalog …"));
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil keeps the lock-order graph of its deadlock detector on:
  // every Mutex lock updates it (GraphCycles::GetId/RemoveNode, ≈ 3–4 % of
  // a GetSeries call's CPU in a perf profile, docs/BENCHMARKS.md). A
  // debugging aid, off unless asked for.
  absl::SetMutexDeadlockDetectionMode(absl::GetFlag(FLAGS_mutex_deadlock_detection)
                                          ? absl::OnDeadlockCycle::kAbort
                                          : absl::OnDeadlockCycle::kIgnore);
  // Block the shutdown signals in this thread before any other starts, so
  // every thread inherits the mask and RunServer's sigwait receives them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

ServerOptions ServerOptionsFromFlags(const std::string& name) {
  ServerOptions o;
  o.name = name;
  o.listen = absl::GetFlag(FLAGS_listen);
  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  o.address_file = absl::GetFlag(FLAGS_address_file);
  o.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  o.grace_period = absl::GetFlag(FLAGS_grace_period);
  o.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  o.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  o.max_receive_message_bytes = absl::GetFlag(FLAGS_max_receive_message_bytes);
  o.memory_quota_bytes = absl::GetFlag(FLAGS_grpc_memory_quota_bytes);
  return o;
}

std::shared_ptr<const CatalogIndex> LoadCatalogFromFlags() {
  const std::vector<std::string> paths =
      absl::StrSplit(absl::GetFlag(FLAGS_catalog), ',', absl::SkipEmpty());
  auto catalog = CatalogIndex::Load(paths);
  if (!catalog.ok()) {
    std::cerr << "catalog 指标目录加载失败 / failed to load:\n"
              << catalog.status().message() << "\n";
    std::exit(2);
  }
  return *catalog;
}

std::shared_ptr<grpc::ChannelCredentials> UpstreamCredentialsFromFlags() {
  const std::string ca = absl::GetFlag(FLAGS_upstream_tls_ca);
  if (ca.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  bool ok = false;
  ssl.pem_root_certs = ReadWholeFile(ca, &ok);
  if (!ok) {
    std::cerr << "--upstream_tls_ca: cannot read " << ca << "\n";
    std::exit(2);
  }
  const std::string cert = absl::GetFlag(FLAGS_upstream_tls_cert);
  const std::string key = absl::GetFlag(FLAGS_upstream_tls_key);
  if (!cert.empty() || !key.empty()) {
    bool ok_cert = false;
    bool ok_key = false;
    ssl.pem_cert_chain = ReadWholeFile(cert, &ok_cert);
    ssl.pem_private_key = ReadWholeFile(key, &ok_key);
    if (!ok_cert || !ok_key) {
      std::cerr << "--upstream_tls_cert and --upstream_tls_key must both name readable files\n";
      std::exit(2);
    }
  }
  return grpc::SslCredentials(ssl);
}

MetricsRegistry& ServiceMetrics() {
  static MetricsRegistry* registry = new MetricsRegistry();
  return *registry;
}

struct RunningServer::Impl {
  ServerOptions options;
  std::unique_ptr<CatalogServiceImpl> catalog_service;
  std::unique_ptr<MetricsHttpServer> metrics_server;
  bool shut_down = false;
};

absl::StatusOr<std::unique_ptr<RunningServer>> RunningServer::Start(
    const ServerOptions& options, std::shared_ptr<const CatalogIndex> catalog,
    const std::vector<grpc::Service*>& services) {
  std::unique_ptr<RunningServer> rs(new RunningServer());
  rs->impl_ = std::make_unique<Impl>();
  rs->impl_->options = options;
  MetricsRegistry& metrics = ServiceMetrics();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto creds = MakeCredentials(options);
  if (!creds.ok()) {
    return creds.status();
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *creds, &rs->port_);
  if (options.max_receive_message_bytes <= 0 || options.memory_quota_bytes < 0) {
    return absl::InvalidArgumentError(
        "--max_receive_message_bytes 必须为正，--grpc_memory_quota_bytes 不能为负 / "
        "--max_receive_message_bytes must be positive, --grpc_memory_quota_bytes >= 0");
  }
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  if (options.memory_quota_bytes > 0) {
    grpc::ResourceQuota quota(options.name.empty() ? "halfsky" : options.name);
    quota.Resize(static_cast<size_t>(options.memory_quota_bytes));
    builder.SetResourceQuota(quota);  // the builder keeps its own reference
  }
  for (grpc::Service* s : services) {
    builder.RegisterService(s);
  }
  if (catalog != nullptr) {
    rs->impl_->catalog_service = std::make_unique<CatalogServiceImpl>(catalog);
    builder.RegisterService(rs->impl_->catalog_service.get());
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  // First: it rewrites the status of unparseable requests, which the
  // metrics interceptor then counts as sent.
  factories.push_back(MakeRequestParseInterceptorFactory());
  factories.push_back(std::make_unique<MetricsInterceptorFactory>(&metrics));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  rs->server_ = builder.BuildAndStart();
  if (rs->server_ == nullptr || rs->port_ == 0) {
    rs->impl_->shut_down = true;
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (端口被占用或地址无效 / port taken or bad address)"));
  }
  const size_t colon = options.listen.rfind(':');
  std::string host = colon == std::string::npos ? "127.0.0.1" : options.listen.substr(0, colon);
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "*") {
    host = "127.0.0.1";
  }
  rs->address_ = absl::StrCat(host, ":", rs->port_);

  std::string metrics_address;
  if (!options.metrics_listen.empty()) {
    // /healthz answers with this server's own grpc.health.v1 status, asked
    // in-process (a plaintext probe where the gRPC port is TLS only).
    grpc::Server* const grpc_server = rs->server_.get();
    auto health = [grpc_server](const std::string& service) {
      auto stub = grpc::health::v1::Health::NewStub(
          grpc_server->InProcessChannel(grpc::ChannelArguments()));
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      grpc::health::v1::HealthCheckRequest request;
      request.set_service(service);
      grpc::health::v1::HealthCheckResponse response;
      const grpc::Status st = stub->Check(&ctx, request, &response);
      if (st.error_code() == grpc::StatusCode::NOT_FOUND) {
        return MetricsHttpServer::Health::kUnknownService;
      }
      return st.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING
                 ? MetricsHttpServer::Health::kServing
                 : MetricsHttpServer::Health::kNotServing;
    };
    auto ms = MetricsHttpServer::Start(options.metrics_listen, &metrics, health);
    if (!ms.ok()) {
      rs->server_->Shutdown(std::chrono::system_clock::now());
      rs->server_->Wait();
      rs->impl_->shut_down = true;
      return ms.status();
    }
    rs->impl_->metrics_server = std::move(*ms);
    const size_t mc = options.metrics_listen.rfind(':');
    std::string mhost = options.metrics_listen.substr(0, mc);
    if (mhost.empty() || mhost == "0.0.0.0") {
      mhost = "127.0.0.1";
    }
    metrics_address = absl::StrCat(mhost, ":", rs->impl_->metrics_server->port());
  }
  metrics
      .GetGauge("halfsky_build_info", "Constant 1, labelled with the service name and version.",
                {{"service", options.name}, {"version", "0.1.0"}})
      ->Set(1);
  metrics
      .GetGauge("halfsky_process_start_time_seconds", "Start time of the process, Unix seconds.")
      ->Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  rs->SetServing(true);

  if (!options.address_file.empty()) {
    const std::string tmp = options.address_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << "grpc=" << rs->address_ << " metrics=" << metrics_address << "\n";
    }
    std::rename(tmp.c_str(), options.address_file.c_str());
  }
  std::cerr << options.name << ": serving gRPC on " << rs->address_
            << (metrics_address.empty() ? ""
                                        : ", metrics on http://" + metrics_address + "/metrics")
            << "\n";
  return rs;
}

int RunningServer::metrics_port() const {
  return impl_->metrics_server != nullptr ? impl_->metrics_server->port() : 0;
}

void RunningServer::SetServing(bool serving) {
  server_->GetHealthCheckService()->SetServingStatus(serving);
  ServiceMetrics()
      .GetGauge("halfsky_serving", "1 while the service reports SERVING.",
                {{"service", impl_->options.name}})
      ->Set(serving ? 1 : 0);
}

void RunningServer::Shutdown(const std::function<void()>& before_server_shutdown) {
  if (impl_->shut_down) {
    return;
  }
  impl_->shut_down = true;
  SetServing(false);
  absl::SleepFor(impl_->options.drain_delay);
  if (before_server_shutdown) {
    before_server_shutdown();
  }
  server_->Shutdown(absl::ToChronoTime(absl::Now() + impl_->options.grace_period));
  server_->Wait();
  impl_->metrics_server.reset();
}

RunningServer::~RunningServer() { Shutdown(); }

void WaitForTerminationSignal(const std::string& name) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  std::cerr << name << ": received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ", draining\n";
}

int RunServer(const ServerOptions& options, std::shared_ptr<const CatalogIndex> catalog,
              const std::vector<grpc::Service*>& services, const RunHooks& hooks) {
  auto server = RunningServer::Start(options, std::move(catalog), services);
  if (!server.ok()) {
    std::cerr << options.name << ": " << server.status().message() << "\n";
    return 1;
  }
  if (hooks.after_start) {
    hooks.after_start(**server);
  }
  WaitForTerminationSignal(options.name);
  (*server)->Shutdown(hooks.before_shutdown);
  if (hooks.after_shutdown) {
    hooks.after_shutdown();
  }
  std::cerr << options.name << ": stopped\n";
  return 0;
}

}  // namespace halfsky
