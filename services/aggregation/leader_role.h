#ifndef HALFSKY_SERVICES_AGGREGATION_LEADER_ROLE_H_
#define HALFSKY_SERVICES_AGGREGATION_LEADER_ROLE_H_

// One replica of several aggregation replicas: a standby until elected
// (common/election), then the one writer of the cache.
//
//   standby (warm): the follower builds from the change feed and follows it
//     in memory (Follower::StartStandby), so reads are served from its own
//     state; nothing is written to Redis; Rebuild is refused UNAVAILABLE
//     "standby".
//   elected with epoch E: Follower::EnableWrites(E) — it claims the cache
//     for E (cache::kLeaderEpochKey), commits what the cache lacks (a
//     catch-up from the old leader's cursor, from memory: no build) and
//     writes only while the cache is E's.
//   lost (a renewal failed or the lease ran out, or a write found a newer
//     epoch): `on_lost` runs once (main: SIGTERM to itself, so the process
//     drains and exits with status 3, to be restarted as a standby).
//
// Health: the named service "halfsky.v1.AggregationService" is SERVING
// only while this replica leads and its first build is done (the probe a
// Kubernetes readinessProbe asks, so the Service routes to the leader);
// the server's overall status ("") is the process' own (liveness).
// Without an elector (one aggregator) the replica leads from the start.
//
// Metrics: halfsky_aggregation_leader (gauge: 1 leading, 0 standby or
// lost), halfsky_aggregation_leader_epoch (gauge: the epoch it leads with).
//
// Thread-safe.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/election/leader_elector.h"
#include "common/metrics/metrics.h"
#include "grpcpp/grpcpp.h"
#include "services/aggregation/follower.h"

namespace halfsky::aggregation {

inline constexpr char kAggregationHealthService[] = "halfsky.v1.AggregationService";

class LeaderRole {
 public:
  struct Options {
    election::Leadership::Options leadership;
    // Not owned; may be null.
    MetricsRegistry* metrics = nullptr;
    // Runs once when the leadership is lost (on an internal thread).
    std::function<void(const absl::Status& why)> on_lost;
  };
  // `elector` null: no election, this replica leads (unfenced). `follower`
  // and `state` are not owned and must outlive this.
  LeaderRole(std::unique_ptr<election::LeaderElector> elector, Follower* follower,
             const AggregationState* state, Options options);
  ~LeaderRole();  // Stop()s.

  // Starts the election (or the follower at once, without an elector).
  void Start();
  // Hands it the server whose named health status it keeps; call once the
  // server runs.
  void AttachServer(grpc::Server* server);
  // Stops the health updates and the election (releasing the leadership),
  // then the follower. Idempotent.
  void Stop();

  bool leading() const;
  // True once the leadership was lost.
  bool lost() const { return lost_.load(); }
  // Declares the leadership lost (the election's verdict, or a write that
  // found a newer epoch: FollowerOptions::on_superseded). Runs on_lost once.
  void Lost(const absl::Status& why);

 private:
  void Elected(int64_t epoch);
  void HealthLoop();

  std::unique_ptr<election::Leadership> leadership_;
  Follower* const follower_;
  const AggregationState* const state_;
  const Options options_;
  Gauge* leader_gauge_ = nullptr;
  Gauge* epoch_gauge_ = nullptr;
  std::atomic<bool> lost_{false};
  std::atomic<bool> leading_without_election_{false};

  mutable absl::Mutex mu_;
  grpc::Server* server_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread health_thread_;
};

}  // namespace halfsky::aggregation

#endif  // HALFSKY_SERVICES_AGGREGATION_LEADER_ROLE_H_
