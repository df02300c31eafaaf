#ifndef HALFSKY_COMMON_REDIS_REDIS_CLIENT_H_
#define HALFSKY_COMMON_REDIS_REDIS_CLIENT_H_

// The Redis interface every halfsky service programs against. One
// production implementation: HiredisClient (common/redis/hiredis_client.h,
// a real server over TCP). Tests also have InMemoryRedisClient
// (tests/support/in_memory_redis.h, a test-only fake for unit tests of
// logic). One typed conformance suite (tests/redis/redis_client_conformance.h)
// runs against both: hiredis_client_test.cc and in_memory_redis_test.cc.
//
// Commands are argument vectors, never format strings: every argument is
// sent as one binary-safe bulk string, so keys and values may hold any bytes
// (including NUL) and no quoting or injection is possible.
//
// Errors (the same for every implementation):
//   UNAVAILABLE          the server cannot be reached, the connection broke,
//                        or a command timed out; also Redis' own transient
//                        errors (LOADING, BUSY, TRYAGAIN, MASTERDOWN,
//                        CLUSTERDOWN, READONLY). Transient: retry later.
//                        Also while no primary is reachable during a
//                        failover (common/redis/hiredis_client.h): an
//                        implementation that follows a failover reconnects
//                        on a later call, never inside one.
//                        A command that failed this way may or may not have
//                        been executed by the server.
//   UNIMPLEMENTED        the server does not know the command.
//   FAILED_PRECONDITION  any other Redis error reply (WRONGTYPE, a wrong
//                        argument count, "not an integer", NOAUTH ...), with
//                        Redis' message. Not transient: retrying the same
//                        command will fail again.
//   INVALID_ARGUMENT     an empty argument vector or an empty channel list.
//
// Thread-safety: implementations are thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/redis/redis_reply.h"

namespace halfsky {

// A live PUBLISH/SUBSCRIBE subscription. Destroying it unsubscribes; once
// the destructor has returned, no callback runs any more. Do not destroy it
// from inside one of its own callbacks (that deadlocks).
class RedisSubscription {
 public:
  virtual ~RedisSubscription() = default;
};

struct RedisSubscriptionCallbacks {
  // Called once per message, in publication order, for the channels
  // subscribed. Calls never overlap. Required.
  std::function<void(const std::string& channel, const std::string& message)> on_message;
  // Called after every successful subscription: once at the start, and again
  // after each reconnect. Messages published while the subscriber was
  // disconnected are LOST (Redis pub/sub does not queue them), so a caller
  // that must not miss an update resynchronizes here (e.g. rereads the state
  // it caches). Runs on the same thread as on_message. Optional.
  std::function<void()> on_subscribed;
  // Called when the subscription's connection breaks (before reconnecting),
  // with the reason as UNAVAILABLE. Optional; for logs and metrics.
  std::function<void(const absl::Status&)> on_disconnected;
};

class RedisClient {
 public:
  virtual ~RedisClient() = default;

  // Sends one command (argv[0] is its name, e.g. {"SET", key, value}) and
  // returns its reply. A Redis error reply is returned as a non-OK status
  // (see the mapping above), never as a RedisReply of type kError.
  virtual absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv) = 0;

  // Sends every command in one round trip and returns their replies in
  // order. Not atomic: other clients' commands may interleave. OK only if
  // every command succeeded; otherwise the first error (its message names the
  // failing command's index) — the other commands were still executed. An
  // empty list returns an empty vector without touching the server.
  virtual absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) = 0;

  // Runs the commands atomically as MULTI, commands..., EXEC in one round
  // trip and returns EXEC's replies (one per command). No other client ever
  // observes some of the commands applied and others not.
  //   - A command Redis rejects while queueing (unknown command, wrong
  //     argument count) aborts the whole transaction: nothing is applied;
  //     the error is returned.
  //   - A command failing at execution (e.g. WRONGTYPE) does not undo the
  //     others (Redis has no rollback); its error is returned.
  //   - UNAVAILABLE: the connection broke; the transaction may or may not
  //     have been applied (entirely or not at all).
  // An empty list returns an empty vector.
  virtual absl::StatusOr<std::vector<RedisReply>> Transaction(
      const std::vector<std::vector<std::string>>& commands) = 0;

  // Optimistic check-and-set (WATCH keys; GET each key; then MULTI commands
  // EXEC, or UNWATCH) on ONE connection: reads the strings `keys` (at least
  // one; std::nullopt when absent), in order, and runs `commands` as
  // Transaction() does only if `proceed(values)` returns true; the
  // transaction is then applied only if no key of `keys` was modified
  // between the read and EXEC (by anyone: another client, a FLUSHALL, an
  // expiry). Two round trips. Never reconnects between the read and the
  // EXEC: a connection that breaks in between (a server restart, a failover
  // to another primary) is UNAVAILABLE and nothing was applied by that
  // connection after the read.
  //   - `keys` empty: INVALID_ARGUMENT, nothing sent.
  //   - `proceed` returned false: OK, applied = false, nothing sent after
  //     the read.
  //   - a key changed in between: ABORTED, nothing applied.
  //   - a key holds a non-string: FAILED_PRECONDITION (WRONGTYPE).
  //   - otherwise as Transaction().
  // `proceed` runs on the caller's thread, once, and must not call this
  // client. An empty `commands` still reads the keys.
  struct GuardedResult {
    // The values `proceed` was shown, one per key of `keys`.
    std::vector<std::optional<std::string>> observed;
    bool applied = false;             // the commands ran (EXEC succeeded)
    std::vector<RedisReply> replies;  // EXEC's replies when applied
  };
  using GuardProceed = std::function<bool(const std::vector<std::optional<std::string>>&)>;
  virtual absl::StatusOr<GuardedResult> GuardedTransaction(
      const std::vector<std::string>& keys, const GuardProceed& proceed,
      const std::vector<std::vector<std::string>>& commands) = 0;
  // The same with one key.
  absl::StatusOr<GuardedResult> GuardedTransaction(
      const std::string& key, const std::function<bool(const std::optional<std::string>&)>& proceed,
      const std::vector<std::vector<std::string>>& commands) {
    return GuardedTransaction(
        std::vector<std::string>{key},
        [&](const std::vector<std::optional<std::string>>& values) { return proceed(values[0]); },
        commands);
  }

  // Subscribes to `channels` (exact names, at least one) on a connection of
  // its own; `callbacks` run on a thread of the implementation's choosing
  // (never the caller's). The subscription survives server restarts (see
  // RedisSubscriptionCallbacks::on_subscribed). Fails only for invalid
  // arguments: an unreachable server is retried in the background.
  virtual absl::StatusOr<std::unique_ptr<RedisSubscription>> Subscribe(
      const std::vector<std::string>& channels, RedisSubscriptionCallbacks callbacks) = 0;

  // ---- Convenience wrappers over Command(). Same error mapping; a reply of
  // an unexpected shape is FAILED_PRECONDITION. ----

  // PING → OK.
  absl::Status Ping();
  // GET: the value, or std::nullopt if the key does not exist.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key);
  // SET (PX `ttl` when finite; must be positive).
  absl::Status Set(absl::string_view key, absl::string_view value,
                   absl::Duration ttl = absl::InfiniteDuration());
  // MGET: one entry per key, std::nullopt for a missing key.
  absl::StatusOr<std::vector<std::optional<std::string>>> MGet(
      const std::vector<std::string>& keys);
  // DEL: how many of `keys` existed. An empty list deletes nothing.
  absl::StatusOr<int64_t> Del(const std::vector<std::string>& keys);
  // EXISTS for one key.
  absl::StatusOr<bool> Exists(absl::string_view key);
  // INCRBY: the new value.
  absl::StatusOr<int64_t> IncrBy(absl::string_view key, int64_t delta = 1);
  // HSET of one or more fields: how many fields were new. An empty list
  // is INVALID_ARGUMENT.
  absl::StatusOr<int64_t> HSet(absl::string_view key,
                               const std::vector<std::pair<std::string, std::string>>& fields);
  // HGET: the field's value, or std::nullopt.
  absl::StatusOr<std::optional<std::string>> HGet(absl::string_view key, absl::string_view field);
  // HGETALL: every field (an empty map for a missing key).
  absl::StatusOr<std::map<std::string, std::string>> HGetAll(absl::string_view key);
  // PUBLISH: how many subscribers received it.
  absl::StatusOr<int64_t> Publish(absl::string_view channel, absl::string_view message);
  // Every key matching the glob `pattern`, sorted, without duplicates,
  // collected with SCAN (never KEYS, which blocks a large server). Keys
  // added or removed during the scan may or may not be included.
  absl::StatusOr<std::vector<std::string>> ScanKeys(absl::string_view pattern);
};

// The status for a Redis error reply `message` (e.g. "WRONGTYPE Operation
// against ..."), following the mapping at the top of this file. Used by every
// implementation so that they agree.
absl::Status RedisErrorToStatus(absl::string_view message);

// OK if `argv` is a command a RedisClient accepts: not empty, and not one
// that changes the connection's protocol state (MULTI, EXEC, DISCARD, WATCH,
// UNWATCH, [P|S]SUBSCRIBE, [P]UNSUBSCRIBE, MONITOR, SELECT, AUTH, QUIT,
// RESET, HELLO — the client manages those: use Transaction() and
// Subscribe()); INVALID_ARGUMENT otherwise. For implementations.
absl::Status CheckClientCommand(const std::vector<std::string>& argv);

// Redis' glob matching (KEYS, SCAN MATCH, PSUBSCRIBE): `*`, `?`, `[abc]`,
// `[^a-z]`, and `\` escapes. Binary-safe.
bool RedisGlobMatch(absl::string_view pattern, absl::string_view text);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_REDIS_REDIS_CLIENT_H_
