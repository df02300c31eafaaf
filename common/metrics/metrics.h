#ifndef HALFSKY_COMMON_METRICS_METRICS_H_
#define HALFSKY_COMMON_METRICS_METRICS_H_

// A small Prometheus metrics registry (counters, gauges, histograms with
// labels) and its text exposition over HTTP. Debian 12 packages no
// prometheus-cpp, so halfsky carries this much itself.
//
// Thread-safe: metrics may be created and updated from any thread. Metric
// objects returned by the registry live as long as the registry.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

struct MHD_Daemon;  // libmicrohttpd

namespace halfsky {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void Increment(double by = 1.0);
  double Value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  // Cumulative counts per bound (+Inf last), sum and count.
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Take() const;

 private:
  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::vector<uint64_t> counts_ ABSL_GUARDED_BY(mu_);
  double sum_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

// Default latency buckets in seconds (0.5 ms … 10 s).
std::vector<double> DefaultLatencyBuckets();

class MetricsRegistry {
 public:
  // Get-or-create. The same (name, labels) returns the same object. `help`
  // and the type are taken from the first call for a name.
  Counter* GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge* GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram* GetHistogram(const std::string& name, const std::string& help,
                          const Labels& labels = {},
                          const std::vector<double>& bounds = DefaultLatencyBuckets());
  // Prometheus text exposition format 0.0.4.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
};

// Serves GET /metrics and GET /healthz over HTTP/1.1 with
// libmicrohttpd: one internal polling thread (epoll) serves every connection
// at once, so a slow or stuck client delays no one else; a connection idle
// for kConnectionTimeoutSeconds is closed, at most kMaxConnections are open
// (more are refused at accept), and a request may use at most 64 KiB.
// Other paths answer 404, other methods 405. Thread-safe; the registry must
// outlive the server.
//
// /healthz: without a HealthCheck, "ok" (200). With one (the service
// bootstrap passes the gRPC server's own grpc.health.v1 status), GET
// /healthz is the overall status ("") and GET /healthz/NAME the status of
// service NAME: 200 "SERVING", 503 "NOT_SERVING" (also when the check
// fails), 404 for a service the health service does not know. A plaintext
// probe endpoint for kubelets where the gRPC port speaks only TLS (the
// kubelet's gRPC probe has no TLS).
class MetricsHttpServer {
 public:
  enum class Health { kServing, kNotServing, kUnknownService };
  // Called on the daemon's thread for each /healthz request; must be
  // thread-safe and return within a few seconds.
  using HealthCheck = std::function<Health(const std::string& service)>;

  static constexpr int kConnectionTimeoutSeconds = 5;
  static constexpr int kMaxConnections = 64;

  // `address` "HOST:PORT" (IPv4 host, "", "*" or "localhost"); port 0 picks
  // one. INVALID_ARGUMENT for a malformed address, UNAVAILABLE if it cannot
  // bind.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& address,
                                                                  const MetricsRegistry* registry,
                                                                  HealthCheck health = nullptr);
  ~MetricsHttpServer();  // stops the daemon, closing its connections
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;
  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;
  ::MHD_Daemon* daemon_ = nullptr;  // owned; MHD_stop_daemon in the destructor
  int port_ = 0;

 public:
  // The handler's state (libmicrohttpd's closure); not part of the API.
  struct Context {
    const MetricsRegistry* registry = nullptr;
    HealthCheck health;
  };

 private:
  std::unique_ptr<Context> context_;
};

}  // namespace halfsky

#endif  // HALFSKY_COMMON_METRICS_METRICS_H_
