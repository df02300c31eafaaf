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
//   - A command that hits an I/O error or times out (`command_timeout`)
//     returns UNAVAILABLE and drops the connection; the next command
//     reconnects. A connection the server closed while idle (e.g. a restart)
//     is noticed before the next command is sent and replaced, so that
//     command succeeds if the server is back.
//   - Nothing is retried automatically (a broken command may or may not
//     have been executed); callers retry UNAVAILABLE where that is safe.
//   - If Redis is down, every command returns UNAVAILABLE within about
//     `connect_timeout`; nothing crashes or hangs.
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

struct HiredisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
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
};

// Parses "HOST:PORT" ("127.0.0.1:6379", "redis.halfsky:6379",
// "[::1]:6379") into `base` (other fields are kept). INVALID_ARGUMENT for
// anything else (missing or non-numeric port, port outside 1..65535, empty
// host).
absl::StatusOr<HiredisOptions> ParseRedisAddress(absl::string_view address,
                                                 HiredisOptions base = HiredisOptions());

// Shared by HiredisClient and HiredisSubscriber; not for other callers.
namespace redis_internal {
struct ContextCloser {
  void operator()(redisContext* c) const;
};
using UniqueContext = std::unique_ptr<redisContext, ContextCloser>;
// A fresh connection with `options`: connect (connect_timeout), socket
// timeouts (command_timeout), TCP keep-alive, AUTH and SELECT if configured.
// UNAVAILABLE when unreachable; FAILED_PRECONDITION if AUTH/SELECT fail.
absl::StatusOr<UniqueContext> ConnectHiredis(const HiredisOptions& options);
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
  absl::StatusOr<std::vector<RedisReply>> RoundTrip(
      const std::vector<std::vector<std::string>>& commands);

  const HiredisOptions options_;
  absl::Mutex mu_;
  redis_internal::UniqueContext context_ ABSL_GUARDED_BY(mu_);
};

}  // namespace halfsky

#endif  // HALFSKY_COMMON_REDIS_HIREDIS_CLIENT_H_
