#ifndef HALFSKY_COMMON_ELECTION_LEADER_ELECTOR_H_
#define HALFSKY_COMMON_ELECTION_LEADER_ELECTOR_H_

// Leader election among the replicas of one role (e.g. the aggregation
// service: several replicas, one active writer of the cache, the others
// standing by).
//
// LeaderElector is the mechanism (postgres_elector.h: a PostgreSQL session
// advisory lock); Leadership drives one: it waits for the leadership on a
// thread of its own, tells the owner its EPOCH, keeps renewing, and tells
// the owner once when it is lost.
//
// The epoch is a fencing token: every epoch an elector hands out is greater
// than every epoch handed out before for the same role, to any replica. A
// leader that was paused or partitioned may still believe it leads after a
// successor was elected; what it writes must therefore be checked against
// the newest epoch where it is written (the aggregation service: the Redis
// key cache::kLeaderEpochKey, services/aggregation/redis_writer.h). The
// election alone gives liveness (a standby takes over within about one
// lease); the fence gives safety (two replicas never both write).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace halfsky::election {

// Thread-compatible: one thread (Leadership's) calls it.
class LeaderElector {
 public:
  virtual ~LeaderElector() = default;

  // Blocks until this replica holds the leadership, then returns its epoch
  // (> every epoch returned before, to any replica). Transient failures (the
  // database unreachable) are retried inside. CANCELLED once `stopping`
  // returns true (polled at least every 100 ms); FAILED_PRECONDITION for a
  // configuration that cannot work (refused credentials), after which
  // Leadership retries after a pause anyway.
  virtual absl::StatusOr<int64_t> Acquire(const std::function<bool()>& stopping) = 0;

  // Confirms the leadership is still held. Any error means it may be lost:
  // the caller must stop acting as leader (it never gets it back without a
  // new Acquire, i.e. a new epoch).
  virtual absl::Status Renew() = 0;

  // Gives the leadership up at once (a standby may take it); no-op when not
  // held.
  virtual void Release() = 0;
};

// Runs an elector. Callbacks run on Leadership's thread; `elected` must
// return promptly (renewals wait for it).
//
// Lost: a renewal failed, or none succeeded for `lease` (e.g. the process
// was stopped, or the database did not answer), whichever comes first. Then
// `lost` runs once and Leadership does not try again: the owner is expected
// to stop writing and exit, to come back as a standby (as Kubernetes
// controllers do). `lost` is not called after Stop().
//
// Thread-safe.
class Leadership {
 public:
  struct Options {
    // How often the leader renews; < lease / 2.
    absl::Duration renew_interval = absl::Seconds(1);
    // With no successful renewal for this long the leadership counts as
    // lost. Should match the elector's own lease (the time after which the
    // database lets a standby take over from a silent leader).
    absl::Duration lease = absl::Seconds(5);
    // Pause after a failed Acquire (other than CANCELLED).
    absl::Duration retry_interval = absl::Seconds(1);
  };
  struct Callbacks {
    std::function<void(int64_t epoch)> elected;
    std::function<void(const absl::Status& why)> lost;
  };

  // `elector` is owned.
  Leadership(std::unique_ptr<LeaderElector> elector, Options options, Callbacks callbacks);
  ~Leadership();  // Stop()s.
  Leadership(const Leadership&) = delete;
  Leadership& operator=(const Leadership&) = delete;

  void Start();
  // Stops the thread and releases the leadership if held. Idempotent.
  void Stop();

  // True between `elected` and `lost` / Stop().
  bool leading() const { return leading_.load(); }
  // The epoch of the current (or last) leadership; 0 before any.
  int64_t epoch() const { return epoch_.load(); }

 private:
  void Run();
  // Sleeps up to `d`; false when stopping.
  bool Sleep(absl::Duration d);
  bool Stopping() const;

  const std::unique_ptr<LeaderElector> elector_;
  const Options options_;
  const Callbacks callbacks_;
  std::atomic<bool> leading_{false};
  std::atomic<int64_t> epoch_{0};
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace halfsky::election

#endif  // HALFSKY_COMMON_ELECTION_LEADER_ELECTOR_H_
