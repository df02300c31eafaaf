// The shared RedisClient suite against the in-memory fake, plus the fake's
// own test hooks.

#include "tests/support/in_memory_redis.h"

#include "tests/redis/redis_client_conformance.h"

namespace halfsky::testing {
namespace {

struct InMemoryEnv {
  void SetUp() { client = std::make_shared<InMemoryRedisClient>(); }
  // Every "client" is the same keyspace.
  std::shared_ptr<RedisClient> NewClient() { return client; }
  std::shared_ptr<InMemoryRedisClient> client;
};

INSTANTIATE_TYPED_TEST_SUITE_P(InMemory, RedisClientConformanceTest, InMemoryEnv);

TEST(InMemoryRedisClientTest, UnavailableModeFailsEveryCommandTransiently) {
  InMemoryRedisClient redis;
  ASSERT_TRUE(redis.Set("k", "v").ok());
  redis.SetUnavailable(true);
  EXPECT_EQ(redis.Get("k").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(redis.Pipeline({{"GET", "k"}}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(redis.Transaction({{"GET", "k"}}).status().code(), absl::StatusCode::kUnavailable);
  redis.SetUnavailable(false);
  EXPECT_EQ(redis.Get("k").value(), std::optional<std::string>("v"));
}

TEST(InMemoryRedisClientTest, SimulatedReconnectCallsBackInOrder) {
  InMemoryRedisClient redis;
  MessageLog log;
  auto sub = redis.Subscribe({"ch"}, log.Callbacks());
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(redis.Publish("ch", "before").ok());
  redis.SimulateSubscriberReconnect();
  ASSERT_TRUE(redis.Publish("ch", "after").ok());
  redis.DrainSubscriptions();
  EXPECT_EQ(log.subscribed(), 2);
  EXPECT_EQ(log.disconnected(), 1);
  EXPECT_EQ(log.last_disconnect().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(log.messages(), ElementsAre(Pair("ch", "before"), Pair("ch", "after")));
}

TEST(InMemoryRedisClientTest, CallbackMayUseTheClient) {
  InMemoryRedisClient redis;
  RedisSubscriptionCallbacks cb;
  cb.on_message = [&redis](const std::string&, const std::string& message) {
    ASSERT_TRUE(redis.Set("seen", message).ok());
  };
  auto sub = redis.Subscribe({"ch"}, cb);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(redis.Publish("ch", "m").ok());
  redis.DrainSubscriptions();
  EXPECT_EQ(redis.Get("seen").value(), std::optional<std::string>("m"));
}

TEST(InMemoryRedisClientTest, CountsCommandsAndKeepsNoExpiry) {
  InMemoryRedisClient redis;
  ASSERT_TRUE(redis.Set("k", "v").ok());
  ASSERT_TRUE(redis.Pipeline({{"EXPIRE", "k", "1"}, {"TTL", "k"}}).ok());
  EXPECT_EQ(redis.command_count(), 3);
  EXPECT_EQ(redis.Command({"TTL", "k"}).value(), RedisReply::Integer(-1));
  EXPECT_EQ(redis.Command({"TTL", "missing"}).value(), RedisReply::Integer(-2));
}

TEST(InMemoryRedisClientTest, SubscriptionMayOutliveClient) {
  MessageLog log;
  std::unique_ptr<RedisSubscription> sub;
  {
    InMemoryRedisClient redis;
    sub = *redis.Subscribe({"ch"}, log.Callbacks());
    ASSERT_TRUE(log.WaitForSubscribed(1));
  }
  sub.reset();  // must neither crash nor hang
  EXPECT_EQ(log.subscribed(), 1);
}

}  // namespace
}  // namespace halfsky::testing
