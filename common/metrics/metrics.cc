#include "common/metrics/metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/metrics/listen_address.h"

namespace halfsky {

void Counter::Increment(double by) {
  double old = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(old, old + by, std::memory_order_relaxed)) {
  }
}

double Counter::Value() const { return value_.load(std::memory_order_relaxed); }

void Gauge::Add(double by) {
  double old = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(old, old + by, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double v) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  absl::MutexLock lock(&mu_);
  ++counts_[i];
  sum_ += v;
  ++count_;
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  s.bounds = bounds_;
  absl::MutexLock lock(&mu_);
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.sum = sum_;
  s.count = count_;
  return s;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Counter* MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Family& f = families_.try_emplace(name, Family{Type::kCounter, help, {}, {}, {}}).first->second;
  auto& slot = f.counters[labels];
  if (slot == nullptr) {
    slot = std::make_unique<Counter>();
  }
  return slot.get();
}

Gauge* MetricsRegistry::GetGauge(const std::string& name, const std::string& help,
                                 const Labels& labels) {
  absl::MutexLock lock(&mu_);
  Family& f = families_.try_emplace(name, Family{Type::kGauge, help, {}, {}, {}}).first->second;
  auto& slot = f.gauges[labels];
  if (slot == nullptr) {
    slot = std::make_unique<Gauge>();
  }
  return slot.get();
}

Histogram* MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         const Labels& labels, const std::vector<double>& bounds) {
  absl::MutexLock lock(&mu_);
  Family& f = families_.try_emplace(name, Family{Type::kHistogram, help, {}, {}, {}}).first->second;
  auto& slot = f.histograms[labels];
  if (slot == nullptr) {
    slot = std::make_unique<Histogram>(bounds);
  }
  return slot.get();
}

namespace {

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatLabels(const Labels& labels, const std::string& extra_key = "",
                         const std::string& extra_value = "") {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) {
    parts.push_back(absl::StrCat(k, "=\"", EscapeLabelValue(v), "\""));
  }
  if (!extra_key.empty()) {
    parts.push_back(absl::StrCat(extra_key, "=\"", extra_value, "\""));
  }
  if (parts.empty()) {
    return "";
  }
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

std::string FormatNumber(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  if (std::isnan(v)) {
    return "NaN";
  }
  return absl::StrFormat("%.17g", v);
}

}  // namespace

std::string MetricsRegistry::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, f] : families_) {
    const char* type = f.type == Type::kCounter ? "counter"
                       : f.type == Type::kGauge ? "gauge"
                                                : "histogram";
    absl::StrAppend(&out, "# HELP ", name, " ", f.help, "\n# TYPE ", name, " ", type, "\n");
    for (const auto& [labels, c] : f.counters) {
      absl::StrAppend(&out, name, FormatLabels(labels), " ", FormatNumber(c->Value()), "\n");
    }
    for (const auto& [labels, g] : f.gauges) {
      absl::StrAppend(&out, name, FormatLabels(labels), " ", FormatNumber(g->Value()), "\n");
    }
    for (const auto& [labels, h] : f.histograms) {
      const Histogram::Snapshot s = h->Take();
      for (size_t i = 0; i < s.cumulative.size(); ++i) {
        const std::string le = i < s.bounds.size() ? FormatNumber(s.bounds[i]) : "+Inf";
        absl::StrAppend(&out, name, "_bucket", FormatLabels(labels, "le", le), " ", s.cumulative[i],
                        "\n");
      }
      absl::StrAppend(&out, name, "_sum", FormatLabels(labels), " ", FormatNumber(s.sum), "\n");
      absl::StrAppend(&out, name, "_count", FormatLabels(labels), " ", s.count, "\n");
    }
  }
  return out;
}

namespace {

// libmicrohttpd's access handler: GET /metrics, GET /healthz, else 404/405.
// Runs on the daemon's polling thread; Render() takes the registry's lock
// only to copy the families.
MHD_Result HandleRequest(void* cls, MHD_Connection* connection, const char* url, const char* method,
                         const char* /*version*/, const char* /*upload_data*/,
                         size_t* upload_data_size, void** /*con_cls*/) {
  const auto* context = static_cast<const MetricsHttpServer::Context*>(cls);
  const MetricsRegistry* registry = context->registry;
  unsigned int status = MHD_HTTP_OK;
  std::string body;
  const char* type = "text/plain; charset=utf-8";
  const bool get = std::strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                   std::strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
  if (!get || *upload_data_size != 0) {
    status = MHD_HTTP_METHOD_NOT_ALLOWED;
    body = "only GET\n";
  } else if (std::strcmp(url, "/metrics") == 0) {
    body = registry->Render();
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (std::strcmp(url, "/healthz") == 0 && !context->health) {
    body = "ok\n";
  } else if (context->health &&
             (std::strcmp(url, "/healthz") == 0 || std::strncmp(url, "/healthz/", 9) == 0)) {
    const std::string service = std::strcmp(url, "/healthz") == 0 ? "" : std::string(url + 9);
    switch (context->health(service)) {
      case MetricsHttpServer::Health::kServing:
        body = "SERVING\n";
        break;
      case MetricsHttpServer::Health::kNotServing:
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        body = "NOT_SERVING\n";
        break;
      case MetricsHttpServer::Health::kUnknownService:
        status = MHD_HTTP_NOT_FOUND;
        body = "unknown service\n";
        break;
    }
  } else {
    status = MHD_HTTP_NOT_FOUND;
    body = "not found\n";
  }
  MHD_Response* response =
      MHD_create_response_from_buffer(body.size(), body.data(), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) {
    return MHD_NO;
  }
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  }
  const MHD_Result queued = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return queued;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, const MetricsRegistry* registry, HealthCheck health) {
  absl::StatusOr<sockaddr_in> parsed = ParseIpv4ListenAddress(address, "metrics");
  if (!parsed.ok()) {
    return parsed.status();
  }
  sockaddr_in addr = *parsed;
  const int port = ntohs(addr.sin_port);
  // One polling thread (epoll) serves every connection: a slow or idle
  // client holds only its own connection, which the timeout then closes.
  auto context = std::make_unique<Context>();
  context->registry = registry;
  context->health = std::move(health);
  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_AUTO_INTERNAL_THREAD, static_cast<uint16_t>(port), /*apc=*/nullptr,
      /*apc_cls=*/nullptr, &HandleRequest, context.get(), MHD_OPTION_SOCK_ADDR,
      reinterpret_cast<sockaddr*>(&addr), MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned int>(kConnectionTimeoutSeconds), MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned int>(kMaxConnections), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      static_cast<size_t>(64 * 1024), MHD_OPTION_END);
  if (daemon == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("metrics port ", address, " cannot be bound (端口被占用?)"));
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  server->daemon_ = daemon;
  server->port_ = info != nullptr ? info->port : port;
  server->context_ = std::move(context);
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (daemon_ != nullptr) {
    MHD_stop_daemon(daemon_);
  }
}

}  // namespace halfsky
