#ifndef HALFSKY_TESTS_SUPPORT_IN_MEMORY_REDIS_H_
#define HALFSKY_TESTS_SUPPORT_IN_MEMORY_REDIS_H_

// A fake RedisClient for unit tests of logic in other services. Test-only:
// library halfsky_in_memory_redis (tests/support/CMakeLists.txt), linked by
// tests, never by a service. It keeps one in-process keyspace and follows
// real Redis' replies and error messages for the commands halfsky uses; the
// shared typed conformance suite (tests/redis/redis_client_conformance.h,
// run in tests/redis/in_memory_redis_test.cc and, against a real
// redis-server, in tests/redis/hiredis_client_test.cc) checks that it agrees
// with Redis.
//
// Supported (case-insensitive): PING ECHO GET SET (NX XX EX PX KEEPTTL GET)
// SETNX MSET GETDEL DEL UNLINK EXISTS MGET INCR INCRBY DECR DECRBY
// HSET HMSET HGET HMGET HGETALL HDEL HEXISTS HLEN HINCRBY
// RPUSH LPUSH LRANGE LLEN ZADD ZRANGE (WITHSCORES) ZREM ZSCORE ZCARD
// TYPE KEYS SCAN (MATCH COUNT) DBSIZE FLUSHALL FLUSHDB PUBLISH
// EXPIRE PEXPIRE PERSIST TTL PTTL.
// Expiry is NOT simulated: EXPIRE/PEXPIRE/SET EX/PX are accepted and keys
// never expire (TTL answers -1 for an existing key). Anything else is
// UNIMPLEMENTED.
//
// Transaction() validates every command (known, right argument count)
// before running any — like Redis' EXECABORT — then runs them all under one
// lock. Subscriptions get their own delivery thread each; PUBLISH queues the
// message to every matching subscription and returns their count.
//
// Thread-safety: thread-safe.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/redis/redis_client.h"

namespace halfsky {

class InMemoryRedisClient final : public RedisClient {
 public:
  InMemoryRedisClient();
  ~InMemoryRedisClient() override;
  InMemoryRedisClient(const InMemoryRedisClient&) = delete;
  InMemoryRedisClient& operator=(const InMemoryRedisClient&) = delete;

  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& argv) override;
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) override;
  absl::StatusOr<std::vector<RedisReply>> Transaction(
      const std::vector<std::vector<std::string>>& commands) override;
  // `proceed` runs outside the fake's lock (so a test may change the key
  // from it, as another client would); "modified in between" is detected by
  // comparing the keys' values before and after (a write of the same value is
  // not noticed, unlike Redis' WATCH).
  using RedisClient::GuardedTransaction;
  absl::StatusOr<GuardedResult> GuardedTransaction(
      const std::vector<std::string>& keys, const GuardProceed& proceed,
      const std::vector<std::vector<std::string>>& commands) override;
  absl::StatusOr<std::unique_ptr<RedisSubscription>> Subscribe(
      const std::vector<std::string>& channels, RedisSubscriptionCallbacks callbacks) override;

  // ---- Test hooks ----

  // While true, every command returns UNAVAILABLE (as if Redis were down)
  // and PUBLISH delivers nothing.
  void SetUnavailable(bool unavailable);
  // As if every subscription's connection broke and came back: each gets
  // on_disconnected(UNAVAILABLE) then on_subscribed, in order with its
  // messages.
  void SimulateSubscriberReconnect();
  // Blocks until every message and callback queued so far has been
  // delivered (callbacks finished).
  void DrainSubscriptions();
  // How many commands have been executed (pipelines and transactions count
  // each command).
  int64_t command_count() const;

  // Implementation detail (the subscription registry).
  struct Hub;

 private:
  struct Entry {
    enum class Kind { kString, kHash, kList, kZSet };
    Kind kind = Kind::kString;
    std::string str;
    std::map<std::string, std::string> hash;
    std::deque<std::string> list;
    std::map<std::string, double> zset;
  };

  RedisReply ExecuteLocked(const std::vector<std::string>& argv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An error reply if `argv` is unknown or has a wrong argument count.
  std::optional<RedisReply> ValidateLocked(const std::vector<std::string>& argv) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckAvailableLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // GET `key` as Redis answers it (nil, a string, or WRONGTYPE).
  absl::StatusOr<std::optional<std::string>> ReadStringLocked(const std::string& key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<RedisReply>> TransactionLocked(
      const std::vector<std::vector<std::string>>& commands) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> data_ ABSL_GUARDED_BY(mu_);
  bool unavailable_ ABSL_GUARDED_BY(mu_) = false;
  int64_t command_count_ ABSL_GUARDED_BY(mu_) = 0;
  // Shared with the subscriptions, which may outlive the client.
  std::shared_ptr<Hub> hub_;
};

}  // namespace halfsky

#endif  // HALFSKY_TESTS_SUPPORT_IN_MEMORY_REDIS_H_
