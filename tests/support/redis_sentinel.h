#ifndef HALFSKY_TESTS_SUPPORT_REDIS_SENTINEL_H_
#define HALFSKY_TESTS_SUPPORT_REDIS_SENTINEL_H_

// A Redis Sentinel test bed of real processes on free loopback ports: one
// primary, `replicas` redis-servers replicating from it, and `sentinels`
// redis-server --sentinel processes monitoring it under `master_name`, with
// short detection times so that a killed primary is replaced within a few
// seconds. Every process has its own temp dir (logs: redis.log,
// sentinel.log). The destructor kills them all. Not thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/redis/hiredis_client.h"
#include "tests/support/process.h"

namespace halfsky::testing {

class RedisSentinelBed {
 public:
  struct Options {
    int replicas = 1;
    int sentinels = 1;
    int quorum = 1;
    std::string master_name = "halfsky";
    int down_after_ms = 1000;
    int failover_timeout_ms = 4000;
    // Sentinels require this password (requirepass) when non-empty.
    std::string sentinel_password;
    // Start() waits until every sentinel knows the replicas and the other
    // sentinels (needed before a failover; ~5 s). False: only until they
    // listen (enough to look the primary up).
    bool wait_for_discovery = true;
    // Extra arguments of every data server (primary and replicas).
    std::vector<std::string> server_args;
  };

  // Starts everything and waits (up to 30 s) until every replica is in sync
  // and (wait_for_discovery) every sentinel knows every replica and the
  // other sentinels.
  static absl::StatusOr<std::unique_ptr<RedisSentinelBed>> Start(Options options);
  ~RedisSentinelBed();

  // "sentinel://127.0.0.1:P1,.../MASTER" — the --redis flag value.
  std::string address() const;
  // HiredisOptions for address() (short timeouts, sentinel password set).
  HiredisOptions ClientOptions() const;
  // Data servers: 0 is the initial primary, 1.. the replicas.
  RedisServer& server(int i) { return *servers_.at(i); }
  int server_count() const { return static_cast<int>(servers_.size()); }
  // The index of the server on `port`, or -1.
  int IndexOfPort(int port) const;
  // The primary's port as the first answering sentinel reports it.
  absl::StatusOr<int> PrimaryPort() const;
  // Waits until every sentinel reports a primary other than `old_port`
  // that answers ROLE master; returns its port.
  absl::StatusOr<int> WaitForNewPrimary(int old_port, absl::Duration timeout) const;
  // A direct client of server `i` (no sentinel).
  std::unique_ptr<HiredisClient> Direct(int i) const;
  // Waits until every live replica of the primary on `primary_port` has
  // acknowledged its whole replication stream (master_repl_offset reached).
  absl::Status WaitForReplicasInSync(int primary_port, absl::Duration timeout) const;
  // Kills sentinel `i` (SIGKILL).
  void KillSentinel(int i) { sentinels_.at(i).reset(); }

 private:
  RedisSentinelBed() = default;
  absl::Status StartSentinel(int index);

  Options options_;
  std::vector<std::unique_ptr<RedisServer>> servers_;
  std::vector<int> sentinel_ports_;
  std::vector<std::unique_ptr<ChildProcess>> sentinels_;
};

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_SUPPORT_REDIS_SENTINEL_H_
