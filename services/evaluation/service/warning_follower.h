#ifndef HALFSKY_SERVICES_EVALUATION_SERVICE_WARNING_FOLLOWER_H_
#define HALFSKY_SERVICES_EVALUATION_SERVICE_WARNING_FOLLOWER_H_

// The replication loop of a read replica (halfsky-evaluation --follow):
// keeps a mirror WarningEngine (WarningEngine::CreateMirror) equal to the
// primary's published warning set.
//
// One background thread opens WatchWarnings on the primary with an empty
// filter and `all_states` set (the replication stream: FIRING and RESOLVED
// warnings alike), collects the CURRENT events, and on
// SYNCED replaces the mirror's whole set with them (Resume) — so a warning
// that changed or resolved while the replica was away cannot linger — and
// reports serving. Every later change event is applied as it arrives
// (ApplyEvent), which also delivers it to the replica's own watchers.
//
// When the stream ends for any reason (primary down or restarting, network,
// the primary dropping a replica that fell behind, an event that cannot be
// applied) the mirror is Suspend()ed with UNAVAILABLE: the replica's
// watchers end with UNAVAILABLE (their clients watch again and resync),
// its ListWarnings answers UNAVAILABLE, and it reports not serving. It then
// reconnects after a backoff (doubling from `initial_backoff` up to
// `max_backoff`, reset after each successful sync) and resyncs from a fresh
// snapshot.
//
// Errors are not returned: the loop retries forever; each end of the stream
// is logged to stderr and counted in FollowMetrics.
//
// Thread-safety: Start and Stop from one thread; synced() from any.
// Ownership: the mirror engine, the metrics and the callbacks are not owned
// and must outlive the follower (Stop() or the destructor joins the thread).

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "halfsky/v1/evaluation.grpc.pb.h"
#include "services/evaluation/service/service_metrics.h"
#include "services/evaluation/service/warning_engine.h"

namespace halfsky::evaluation {

// A channel to the primary whose own reconnect backoff stays short (gRPC's
// default grows to 120 s, which would keep a replica out of sync long after
// the primary is back): `max_backoff` at most. It also pings the primary
// every 6 minutes (keepalive), so a primary lost without a TCP reset ends
// the stream within about 6.5 minutes instead of never.
std::shared_ptr<grpc::Channel> MakePrimaryChannel(const std::string& target,
                                                  std::shared_ptr<grpc::ChannelCredentials> creds,
                                                  absl::Duration max_backoff);

struct WarningFollowerOptions {
  // Bearer token presented to the primary (any authenticated principal may
  // watch); empty: none.
  std::string token;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(3);
  // Called with true after each sync and with false when the stream ends
  // after one (health: SERVING / NOT_SERVING). May be empty.
  std::function<void(bool)> on_serving;
  // Not owned; may be null.
  FollowMetrics* metrics = nullptr;
};

class WarningFollower final {
 public:
  // `mirror` must be a mirror engine.
  WarningFollower(std::shared_ptr<grpc::ChannelInterface> primary, WarningEngine* mirror,
                  WarningFollowerOptions options);
  ~WarningFollower();
  WarningFollower(const WarningFollower&) = delete;
  WarningFollower& operator=(const WarningFollower&) = delete;

  // Starts the loop. Call once.
  void Start();
  // Cancels the stream and joins the loop; leaves the mirror as it is (still
  // served during a drain) and calls on_serving no more. Idempotent.
  void Stop();
  // True while in sync (after SYNCED, until the stream ends).
  bool synced() const;

 private:
  void Run();
  // One stream: OK never; the reason it ended (the primary's status, or an
  // error applying an event).
  absl::Status FollowOnce();
  void SetSynced(bool synced);

  const std::unique_ptr<halfsky::v1::EvaluationService::Stub> stub_;
  WarningEngine* const mirror_;
  const WarningFollowerOptions options_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  // The open stream's context, for Stop() to cancel; null between streams.
  grpc::ClientContext* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace halfsky::evaluation

#endif  // HALFSKY_SERVICES_EVALUATION_SERVICE_WARNING_FOLLOWER_H_
