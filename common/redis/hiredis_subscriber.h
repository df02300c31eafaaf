#ifndef HALFSKY_COMMON_REDIS_HIREDIS_SUBSCRIBER_H_
#define HALFSKY_COMMON_REDIS_HIREDIS_SUBSCRIBER_H_

// A Redis PUBLISH/SUBSCRIBE subscriber on its own connection and its own
// thread (RESP2 subscribe mode forbids other commands on that connection).
//
// Behaviour:
//   - Start() returns at once; the thread connects, SUBSCRIBEs to every
//     channel, waits for the confirmations, calls on_subscribed, then calls
//     on_message per message.
//   - If the connection breaks (server restart, network), on_disconnected is
//     called and the thread reconnects with exponential backoff
//     (`reconnect_min` doubling up to `reconnect_max`), resubscribes and
//     calls on_subscribed again. Messages published while disconnected are
//     lost: callers resynchronize in on_subscribed.
//   - With Sentinel (HiredisOptions::sentinels), every connect asks the
//     sentinels for the primary and checks its ROLE, exactly as
//     HiredisClient does (redis_internal::ConnectHiredis): after a failover
//     the broken connection is replaced by one to the new primary, and
//     on_subscribed runs again there (so a caller rereads the state the new
//     primary holds). While no primary is verified it keeps retrying with
//     the backoff above. A subscriber left on a demoted primary (Sentinel
//     does not close pub/sub clients) keeps receiving: a replica delivers
//     the PUBLISHes it replicates.
//   - An idle connection is checked with PING every `ping_interval`; no
//     answer within the command timeout counts as a broken connection (a
//     half-open TCP connection would otherwise wait forever).
//   - The destructor wakes the thread and joins it (waiting at most about
//     the connect or command timeout if it is in the middle of connecting).
//     No callback runs after it returns. Never destroy the subscriber from
//     one of its own callbacks.
//
// Thread-safety: the object itself has no public methods besides
// construction and destruction; callbacks run on the subscriber's thread,
// one at a time.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/redis/hiredis_client.h"
#include "common/redis/redis_client.h"

namespace halfsky {

class HiredisSubscriber final : public RedisSubscription {
 public:
  struct Options {
    HiredisOptions redis;
    absl::Duration reconnect_min = absl::Milliseconds(50);
    absl::Duration reconnect_max = absl::Seconds(2);
    absl::Duration ping_interval = absl::Seconds(5);
  };

  // INVALID_ARGUMENT if `channels` is empty or on_message is not set;
  // never fails because the server is unreachable.
  static absl::StatusOr<std::unique_ptr<HiredisSubscriber>> Start(
      Options options, std::vector<std::string> channels, RedisSubscriptionCallbacks callbacks);

  ~HiredisSubscriber() override;
  HiredisSubscriber(const HiredisSubscriber&) = delete;
  HiredisSubscriber& operator=(const HiredisSubscriber&) = delete;

 private:
  HiredisSubscriber(Options options, std::vector<std::string> channels,
                    RedisSubscriptionCallbacks callbacks);
  void Run();
  // One connection's lifetime. Sets *subscribed once SUBSCRIBE was
  // confirmed. Returns OK when asked to stop, else why the connection ended.
  absl::Status Session(bool* subscribed);
  // Sleeps up to `d`; returns false if asked to stop meanwhile.
  bool SleepUnlessStopped(absl::Duration d);
  bool Stopping() const { return stop_.load(std::memory_order_acquire); }

  const Options options_;
  const std::vector<std::string> channels_;
  const RedisSubscriptionCallbacks callbacks_;
  // Self-pipe: the destructor writes to wake_[1] to interrupt poll().
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace halfsky

#endif  // HALFSKY_COMMON_REDIS_HIREDIS_SUBSCRIBER_H_
