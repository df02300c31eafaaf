#ifndef HALFSKY_COMMON_REDIS_HIREDIS_CLIENT_H_
#define HALFSKY_COMMON_REDIS_HIREDIS_CLIENT_H_

// RedisClient over a real Redis server, using hiredis' synchronous API
// (argument-vector commands via redisCommandArgv / redisAppendCommandArgv;
// replies copied into RedisReply and freed at once; RAII owners for
// redisContext and redisReply).
//
// Connection management:
//   - The constructor never blocks and never fails: the first command
//     connects (with `connect_timeout`, then AUTH and SELECT if configured).
//   - Two ways to find the server (HiredisOptions):
//       direct    host:port. A managed endpoint whose DNS name follows the
//                 primary works too: every reconnect resolves the name again.
//       Sentinel  `sentinels` non-empty: every (re)connect asks the
//                 sentinels, each in turn until one answers, for the primary
//                 of `sentinel_master` (SENTINEL get-master-addr-by-name,
//                 after AUTH to the sentinel when `sentinel_password` is
//                 set), connects to the address reported (AUTH, SELECT) and
//                 checks with ROLE that it is a master; a sentinel that does
//                 not answer, does not know the master, or names a server
//                 that is unreachable or not (yet) a master is skipped. No
//                 verified primary: UNAVAILABLE, naming what every sentinel
//                 said. The ACL users need ROLE (deploy/redis/users.acl.in).
//   - Failover: the connection is dropped (so that the next command finds
//     the primary again, via the sentinels or DNS) after an I/O error or a
//     timeout, and after any READONLY or MASTERDOWN reply (the server we
//     talk to is, or became, a replica; the failed command returns
//     UNAVAILABLE as always). Sentinel closes normal clients of a demoted
//     primary (CLIENT KILL TYPE normal), which the idle check below notices.
//   - A command that hits an I/O error or times out (`command_timeout`)
//     returns UNAVAILABLE and drops the connection; the next command
//     reconnects. A connection the server closed while idle (e.g. a restart)
//     is noticed before the next command is sent and replaced, so that
//     command succeeds if the server is back.
//   - Nothing is retried automatically (a broken command may or may not
//     have been executed); callers retry UNAVAILABLE where that is safe.
//   - If Redis is down, every command returns UNAVAILABLE within about
//     `connect_timeout` per address tried (with Sentinel: per sentinel, plus
//     the primary it names); nothing crashes or hangs.
//
// Thread-safety: thread-safe. One connection, guarded by a mutex: commands
// from several threads are serialized (one in flight at a time). Services
// that need parallel Redis round trips create several clients.

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"

struct redisContext;

namespace halfsky {

struct RedisEndpoint {
  std::string host;
  int port = 0;
};

struct HiredisOptions {
  // The server (direct mode). Ignored when `sentinels` is not empty.
  std::string host = "127.0.0.1";
  int port = 6379;
  // Sentinel mode when not empty: the sentinels to ask, in this order, for
  // the primary of `sentinel_master` (see the top of this file).
  std::vector<RedisEndpoint> sentinels;
  std::string sentinel_master;
  // AUTH to each sentinel when `sentinel_password` is non-empty (with
  // `sentinel_username` as the ACL user when that is non-empty too).
  std::string sentinel_username;
  std::string sentinel_password;
  // TCP connect (per attempt).
  absl::Duration connect_timeout = absl::Seconds(1);
  // Each socket read/write of a command (a reply that takes longer, e.g. a
  // blocking command, breaks the connection with UNAVAILABLE).
  absl::Duration command_timeout = absl::Seconds(2);
  // AUTH after connecting when non-empty ("AUTH password", or
  // "AUTH username password" with a Redis 6 ACL user).
  std::string username;
  std::string password;
  // SELECT after connecting when not 0.
  int db = 0;
  // For messages only: host:port (direct mode) is the local end of a TLS
  // tunnel (a stunnel client beside the service that verifies the server's
  // certificate; deploy/k8s/components/redis-tls). DescribeTarget and
  // connection errors say so, since a TLS failure (a certificate the tunnel
  // refuses) reaches the client only as a closed connection and is named in
  // the tunnel's own log.
  bool via_tls_tunnel = false;
};

// Parses a --redis address into `base` (other fields are kept):
//   "HOST:PORT" ("127.0.0.1:6379", "redis.halfsky:6379", "[::1]:6379"):
//       direct mode (`sentinels` cleared);
//   "sentinel://HOST:PORT[,HOST:PORT...]/MASTER"
//       ("sentinel://s1:26379,s2:26379/halfsky"): Sentinel mode, sentinels in
//       the order given, MASTER the name the sentinels monitor.
// INVALID_ARGUMENT for anything else (missing or non-numeric port, port
// outside 1..65535, empty host, no sentinel, empty or missing MASTER, a
// MASTER with '/' or whitespace).
absl::StatusOr<HiredisOptions> ParseRedisAddress(absl::string_view address,
                                                 HiredisOptions base = HiredisOptions());

// "host:port", or "sentinel://h:p,.../master" in Sentinel mode (for logs
// and messages); "host:port (TLS 隧道 / tunnel)" with via_tls_tunnel.
std::string DescribeTarget(const HiredisOptions& options);

// Shared by HiredisClient and HiredisSubscriber; not for other callers.
namespace redis_internal {
struct ContextCloser {
  void operator()(redisContext* c) const;
};
using UniqueContext = std::unique_ptr<redisContext, ContextCloser>;
// A fresh connection with `options`: connect (connect_timeout), socket
// timeouts (command_timeout), TCP keep-alive, AUTH and SELECT if configured;
// in Sentinel mode to the primary the sentinels name, checked with ROLE.
// UNAVAILABLE when unreachable (Sentinel: no verified primary);
// FAILED_PRECONDITION if AUTH/SELECT fail on the server.
absl::StatusOr<UniqueContext> ConnectHiredis(const HiredisOptions& options);
// True for a reply error after which the connection must be dropped
// because the server is not (or no longer) the primary: READONLY,
// MASTERDOWN.
bool IsNotPrimaryError(absl::string_view message);
// Reads one reply from `c` (blocking per c's timeout). UNAVAILABLE on I/O
// error or timeout; the context is then unusable.
absl::StatusOr<RedisReply> ReadReply(redisContext* c, absl::string_view what);
// Appends one argument-vector command to c's output buffer.
void AppendCommand(redisContext* c, const std::vector<std::string>& argv);
}  // namespace redis_internal

class HiredisClient final : public RedisClient {
 public:
  explicit HiredisClient(HiredisOptions options);
  ~HiredisClient() override;
  HiredisClient(const HiredisClient&) = delete;
  HiredisClient& operator=(const HiredisClient&) = delete;

  const HiredisOptions& options() const { return options_; }

  // Connects now if not connected (and PINGs). UNAVAILABLE if the server
  // cannot be reached; FAILED_PRECONDITION if AUTH/SELECT are refused.
  // Optional: commands connect on their own.
  absl::Status Connect();

  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv) override;
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) override;
  absl::StatusOr<std::vector<RedisReply>> Transaction(
      const std::vector<std::vector<std::string>>& commands) override;
  using RedisClient::GuardedTransaction;
  absl::StatusOr<GuardedResult> GuardedTransaction(
      const std::vector<std::string>& keys, const GuardProceed& proceed,
      const std::vector<std::vector<std::string>>& commands) override;
  // Starts a HiredisSubscriber (common/redis/hiredis_subscriber.h) with
  // this client's options.
  absl::StatusOr<std::unique_ptr<RedisSubscription>> Subscribe(
      const std::vector<std::string>& channels, RedisSubscriptionCallbacks callbacks) override;

 private:
  // Ensures a live connection in context_.
  absl::Status EnsureConnectedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends `commands` in one write and reads one raw reply per command
  // (error replies included). Drops the connection on an I/O error.
  absl::StatusOr<std::vector<RedisReply>> RoundTripLocked(
      const std::vector<std::vector<std::string>>& commands) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The same on the current connection only (UNAVAILABLE if there is none or
  // it broke; never reconnects). Drops the connection after a READONLY or
  // MASTERDOWN reply.
  absl::StatusOr<std::vector<RedisReply>> RoundTripOnCurrentLocked(
      const std::vector<std::vector<std::string>>& commands) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<RedisReply>> RoundTrip(
      const std::vector<std::vector<std::string>>& commands);
  // The result of MULTI `commands` EXEC from its raw replies.
  static absl::StatusOr<std::vector<RedisReply>> TransactionReplies(
      const std::vector<std::vector<std::string>>& commands, std::vector<RedisReply> replies);

  const HiredisOptions options_;
  absl::Mutex mu_;
  redis_internal::UniqueContext context_ ABSL_GUARDED_BY(mu_);
};

}  // namespace halfsky

#endif  // HALFSKY_COMMON_REDIS_HIREDIS_CLIENT_H_
