#ifndef HALFSKY_TESTS_REDIS_REDIS_CLIENT_CONFORMANCE_H_
#define HALFSKY_TESTS_REDIS_REDIS_CLIENT_CONFORMANCE_H_

// One test suite for every RedisClient implementation (type-parameterized).
// Instantiated against a real redis-server in hiredis_client_test.cc
// (integration) and against InMemoryRedisClient (tests/support/
// in_memory_redis.h) in in_memory_redis_test.cc (unit), so the fake cannot
// drift from real Redis.
//
// An Env type provides:
//   void SetUp();                                 // fresh, empty keyspace
//   std::shared_ptr<RedisClient> NewClient();     // same keyspace each call

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/redis/redis_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace halfsky::testing {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// Collects subscription callbacks; waits with a generous upper bound.
class MessageLog {
 public:
  RedisSubscriptionCallbacks Callbacks() {
    RedisSubscriptionCallbacks cb;
    cb.on_message = [this](const std::string& channel, const std::string& message) {
      absl::MutexLock lock(&mu_);
      messages_.emplace_back(channel, message);
    };
    cb.on_subscribed = [this] {
      absl::MutexLock lock(&mu_);
      ++subscribed_;
    };
    cb.on_disconnected = [this](const absl::Status& status) {
      absl::MutexLock lock(&mu_);
      ++disconnected_;
      last_disconnect_ = status;
    };
    return cb;
  }

  bool WaitForMessages(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    message_target_ = n;
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](MessageLog* l) { return l->messages_.size() >= l->message_target_; }, this),
        timeout);
  }
  bool WaitForSubscribed(int n, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    target_ = n;
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](MessageLog* l) { return l->subscribed_ >= l->target_; }, this),
        timeout);
  }
  std::vector<std::pair<std::string, std::string>> messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  int subscribed() {
    absl::MutexLock lock(&mu_);
    return subscribed_;
  }
  int disconnected() {
    absl::MutexLock lock(&mu_);
    return disconnected_;
  }
  absl::Status last_disconnect() {
    absl::MutexLock lock(&mu_);
    return last_disconnect_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<std::string, std::string>> messages_;
  int subscribed_ = 0;
  int disconnected_ = 0;
  int target_ = 0;
  absl::Status last_disconnect_;
  size_t message_target_ = 0;
};

template <typename Env>
class RedisClientConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.SetUp();
    client_ = env_.NewClient();
    other_ = env_.NewClient();
    ASSERT_TRUE(client_->Command({"FLUSHALL"}).ok());
  }

  RedisClient& client() { return *client_; }
  RedisClient& other() { return *other_; }

  Env env_;
  std::shared_ptr<RedisClient> client_;
  std::shared_ptr<RedisClient> other_;
};

TYPED_TEST_SUITE_P(RedisClientConformanceTest);

TYPED_TEST_P(RedisClientConformanceTest, PingAndEcho) {
  EXPECT_TRUE(this->client().Ping().ok());
  auto echo = this->client().Command({"ECHO", "半边天"});
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(*echo, RedisReply::String("半边天"));
}

TYPED_TEST_P(RedisClientConformanceTest, SetGetExistsDel) {
  RedisClient& c = this->client();
  auto missing = c.Get("k");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(c.Set("k", "v1").ok());
  EXPECT_EQ(c.Get("k").value(), std::optional<std::string>("v1"));
  ASSERT_TRUE(c.Set("k", "v2").ok());
  EXPECT_EQ(c.Get("k").value(), std::optional<std::string>("v2"));
  EXPECT_TRUE(c.Exists("k").value());
  EXPECT_EQ(c.Del({"k", "nope"}).value(), 1);
  EXPECT_FALSE(c.Exists("k").value());
  EXPECT_EQ(c.Del({}).value(), 0);
  // Visible to another client of the same keyspace.
  ASSERT_TRUE(c.Set("shared", "x").ok());
  EXPECT_EQ(this->other().Get("shared").value(), std::optional<std::string>("x"));
}

TYPED_TEST_P(RedisClientConformanceTest, SetOptions) {
  RedisClient& c = this->client();
  EXPECT_EQ(c.Command({"SET", "k", "a", "NX"}).value(), RedisReply::Ok());
  EXPECT_EQ(c.Command({"SET", "k", "b", "NX"}).value(), RedisReply::Nil());
  EXPECT_EQ(c.Command({"SET", "other", "b", "XX"}).value(), RedisReply::Nil());
  EXPECT_EQ(c.Command({"SET", "k", "c", "XX", "GET"}).value(), RedisReply::String("a"));
  EXPECT_EQ(c.Get("k").value(), std::optional<std::string>("c"));
  ASSERT_TRUE(c.Set("ttl", "v", absl::Seconds(100)).ok());
  EXPECT_EQ(c.Get("ttl").value(), std::optional<std::string>("v"));
  EXPECT_EQ(c.Set("ttl", "v", absl::ZeroDuration()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Command({"SET", "k", "v", "BOGUS"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TYPED_TEST_P(RedisClientConformanceTest, BinaryKeysAndValuesRoundTrip) {
  RedisClient& c = this->client();
  const std::string key("k\0ey\r\n", 6);
  std::string value("\0\x01\xff\r\n$3\r\nabc\0", 14);
  value += std::string(100000, '\0');
  ASSERT_TRUE(c.Set(key, value).ok());
  auto got = c.Get(key);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, value);
  EXPECT_EQ(**got, value);
  ASSERT_TRUE(c.HSet("h", {{std::string("f\0", 2), std::string("\0v", 2)}}).ok());
  auto all = c.HGetAll("h");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, ElementsAre(Pair(std::string("f\0", 2), std::string("\0v", 2))));
  auto mget = c.MGet({key, "missing"});
  ASSERT_TRUE(mget.ok()) << mget.status();
  ASSERT_EQ(mget->size(), 2u);
  EXPECT_EQ((*mget)[0], std::optional<std::string>(value));
  EXPECT_FALSE((*mget)[1].has_value());
}

TYPED_TEST_P(RedisClientConformanceTest, Counters) {
  RedisClient& c = this->client();
  EXPECT_EQ(c.IncrBy("n").value(), 1);
  EXPECT_EQ(c.IncrBy("n", 41).value(), 42);
  EXPECT_EQ(c.Command({"DECRBY", "n", "2"}).value(), RedisReply::Integer(40));
  EXPECT_EQ(c.Get("n").value(), std::optional<std::string>("40"));
  ASSERT_TRUE(c.Set("s", "abc").ok());
  absl::Status s = c.IncrBy("s").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("not an integer"));
}

TYPED_TEST_P(RedisClientConformanceTest, ErrorMapping) {
  RedisClient& c = this->client();
  ASSERT_TRUE(c.HSet("h", {{"f", "v"}}).ok());
  absl::Status wrong_type = c.Get("h").status();
  EXPECT_EQ(wrong_type.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wrong_type.message()), HasSubstr("WRONGTYPE"));
  EXPECT_EQ(c.Command({"NOSUCHCOMMAND", "x"}).status().code(), absl::StatusCode::kUnimplemented);
  absl::Status arity = c.Command({"GET"}).status();
  EXPECT_EQ(arity.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(arity.message()), HasSubstr("wrong number of arguments"));
  EXPECT_EQ(c.Command({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Command({"MULTI"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Command({"subscribe", "x"}).status().code(), absl::StatusCode::kInvalidArgument);
  // The client is still usable after errors.
  EXPECT_TRUE(c.Ping().ok());
}

TYPED_TEST_P(RedisClientConformanceTest, Hashes) {
  RedisClient& c = this->client();
  EXPECT_EQ(c.HSet("h", {{"a", "1"}, {"b", "2"}}).value(), 2);
  EXPECT_EQ(c.HSet("h", {{"a", "10"}, {"c", "3"}}).value(), 1);
  EXPECT_EQ(c.HGet("h", "a").value(), std::optional<std::string>("10"));
  EXPECT_FALSE(c.HGet("h", "zz").value().has_value());
  EXPECT_FALSE(c.HGet("missing", "a").value().has_value());
  EXPECT_THAT(c.HGetAll("h").value(), ElementsAre(Pair("a", "10"), Pair("b", "2"), Pair("c", "3")));
  EXPECT_TRUE(c.HGetAll("missing").value().empty());
  EXPECT_EQ(c.Command({"HDEL", "h", "a", "zz"}).value(), RedisReply::Integer(1));
  EXPECT_EQ(c.Command({"HLEN", "h"}).value(), RedisReply::Integer(2));
  EXPECT_EQ(c.Command({"HINCRBY", "h", "b", "5"}).value(), RedisReply::Integer(7));
  EXPECT_EQ(c.Command({"HMGET", "h", "b", "zz"}).value(),
            RedisReply::Array({RedisReply::String("7"), RedisReply::Nil()}));
  EXPECT_EQ(c.Command({"HDEL", "h", "b", "c"}).value(), RedisReply::Integer(2));
  EXPECT_FALSE(c.Exists("h").value());  // an emptied hash disappears
  EXPECT_EQ(c.HSet("h", {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TYPED_TEST_P(RedisClientConformanceTest, ListsAndSortedSets) {
  RedisClient& c = this->client();
  EXPECT_EQ(c.Command({"RPUSH", "l", "a", "b"}).value(), RedisReply::Integer(2));
  EXPECT_EQ(c.Command({"LPUSH", "l", "z"}).value(), RedisReply::Integer(3));
  EXPECT_EQ(c.Command({"LRANGE", "l", "0", "-1"}).value().AsStringArray().value(),
            (std::vector<std::string>{"z", "a", "b"}));
  EXPECT_EQ(c.Command({"ZADD", "z", "2", "b", "1", "a", "2", "c"}).value(), RedisReply::Integer(3));
  EXPECT_EQ(c.Command({"ZADD", "z", "1.5", "c"}).value(), RedisReply::Integer(0));
  EXPECT_EQ(c.Command({"ZRANGE", "z", "0", "-1", "WITHSCORES"}).value().AsStringArray().value(),
            (std::vector<std::string>{"a", "1", "c", "1.5", "b", "2"}));
  EXPECT_EQ(c.Command({"ZRANGE", "z", "1", "1"}).value().AsStringArray().value(),
            (std::vector<std::string>{"c"}));
  EXPECT_EQ(c.Command({"ZSCORE", "z", "b"}).value(), RedisReply::String("2"));
  EXPECT_EQ(c.Command({"ZREM", "z", "a", "q"}).value(), RedisReply::Integer(1));
  EXPECT_EQ(c.Command({"ZCARD", "z"}).value(), RedisReply::Integer(2));
  EXPECT_EQ(c.Command({"TYPE", "z"}).value(), RedisReply::Status("zset"));
  EXPECT_EQ(c.Command({"TYPE", "nope"}).value(), RedisReply::Status("none"));
}

TYPED_TEST_P(RedisClientConformanceTest, ScanKeysMatchesPatternAcrossCursors) {
  RedisClient& c = this->client();
  std::vector<std::vector<std::string>> sets;
  for (int i = 0; i < 2500; ++i) {
    sets.push_back({"SET", absl::StrCat("agg:", i), "v"});
  }
  sets.push_back({"SET", "cursor", "1"});
  sets.push_back({"SET", "agg_x", "1"});
  ASSERT_TRUE(c.Pipeline(sets).ok());
  auto keys = c.ScanKeys("agg:*");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 2500u);
  EXPECT_TRUE(std::is_sorted(keys->begin(), keys->end()));
  EXPECT_THAT(c.ScanKeys("agg:1?").value(),
              ElementsAre("agg:10", "agg:11", "agg:12", "agg:13", "agg:14", "agg:15", "agg:16",
                          "agg:17", "agg:18", "agg:19"));
  EXPECT_THAT(c.ScanKeys("agg[_]*").value(), ElementsAre("agg_x"));
  EXPECT_THAT(c.ScanKeys("cur[st]or").value(), ElementsAre("cursor"));
  EXPECT_EQ(c.Command({"DBSIZE"}).value(), RedisReply::Integer(2502));
}

TYPED_TEST_P(RedisClientConformanceTest, PipelineRepliesInOrder) {
  RedisClient& c = this->client();
  auto replies = c.Pipeline({{"SET", "a", "1"}, {"INCR", "a"}, {"GET", "a"}, {"GET", "b"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_THAT(*replies, ElementsAre(RedisReply::Ok(), RedisReply::Integer(2),
                                    RedisReply::String("2"), RedisReply::Nil()));
  EXPECT_TRUE(c.Pipeline({}).value().empty());
}

TYPED_TEST_P(RedisClientConformanceTest, PipelineErrorNamesCommandAndOthersStillRun) {
  RedisClient& c = this->client();
  ASSERT_TRUE(c.Set("s", "text").ok());
  auto replies = c.Pipeline({{"SET", "a", "1"}, {"INCR", "s"}, {"SET", "b", "2"}});
  ASSERT_FALSE(replies.ok());
  EXPECT_EQ(replies.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(replies.status().message()), HasSubstr("command 1 (INCR)"));
  EXPECT_EQ(c.Get("a").value(), std::optional<std::string>("1"));
  EXPECT_EQ(c.Get("b").value(), std::optional<std::string>("2"));
  EXPECT_EQ(c.Pipeline({{"GET", "a"}, {}}).status().code(), absl::StatusCode::kInvalidArgument);
}

TYPED_TEST_P(RedisClientConformanceTest, TransactionReturnsExecReplies) {
  RedisClient& c = this->client();
  auto replies = c.Transaction({{"SET", "agg", "v"}, {"SET", "cursor", "42"}, {"INCR", "cursor"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_THAT(*replies, ElementsAre(RedisReply::Ok(), RedisReply::Ok(), RedisReply::Integer(43)));
  EXPECT_TRUE(c.Transaction({}).value().empty());
  // The connection is back to normal afterwards.
  EXPECT_EQ(c.Get("cursor").value(), std::optional<std::string>("43"));
}

TYPED_TEST_P(RedisClientConformanceTest, TransactionRejectedWhileQueueingAppliesNothing) {
  RedisClient& c = this->client();
  auto replies = c.Transaction({{"SET", "a", "1"}, {"GET"}, {"SET", "b", "2"}});
  ASSERT_FALSE(replies.ok());
  EXPECT_EQ(replies.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(replies.status().message()), HasSubstr("command 1 (GET)"));
  EXPECT_FALSE(c.Exists("a").value());
  EXPECT_FALSE(c.Exists("b").value());
  auto unknown = c.Transaction({{"SET", "a", "1"}, {"NOSUCH"}});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(c.Exists("a").value());
  EXPECT_TRUE(c.Ping().ok());
}

TYPED_TEST_P(RedisClientConformanceTest, TransactionRuntimeErrorIsReported) {
  RedisClient& c = this->client();
  ASSERT_TRUE(c.Set("s", "text").ok());
  auto replies = c.Transaction({{"SET", "a", "1"}, {"INCR", "s"}});
  ASSERT_FALSE(replies.ok());
  EXPECT_EQ(replies.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(replies.status().message()), HasSubstr("command 1 (INCR)"));
  // Redis has no rollback: the other command was applied.
  EXPECT_EQ(c.Get("a").value(), std::optional<std::string>("1"));
}

TYPED_TEST_P(RedisClientConformanceTest, TransactionIsNeverObservedHalfApplied) {
  // A writer keeps setting "agg" and "cursor" to the same value in one
  // transaction; a reader on another client must never see them differ.
  ASSERT_TRUE(this->client().Transaction({{"SET", "agg", "0"}, {"SET", "cursor", "0"}}).ok());
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto values = this->other().MGet({"agg", "cursor"});
      if (!values.ok()) {
        continue;
      }
      reads.fetch_add(1);
      if ((*values)[0] != (*values)[1]) {
        torn.fetch_add(1);
      }
    }
  });
  for (int i = 1; i <= 500; ++i) {
    const std::string v = absl::StrCat(i);
    ASSERT_TRUE(this->client().Transaction({{"SET", "agg", v}, {"SET", "cursor", v}}).ok());
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(torn.load(), 0) << "after " << reads.load() << " reads";
  EXPECT_EQ(this->other().Get("cursor").value(), std::optional<std::string>("500"));
}

TYPED_TEST_P(RedisClientConformanceTest, ConcurrentCommandsFromManyThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < 200; ++i) {
        EXPECT_TRUE(this->client().IncrBy("n").ok());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(this->client().Get("n").value(), std::optional<std::string>("800"));
}

TYPED_TEST_P(RedisClientConformanceTest, SubscriberReceivesMessagesInOrder) {
  MessageLog log;
  auto sub = this->client().Subscribe({"updated", "other"}, log.Callbacks());
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_TRUE(log.WaitForSubscribed(1));
  const std::string binary("x\0y", 3);
  EXPECT_EQ(this->other().Publish("updated", "1").value(), 1);
  EXPECT_EQ(this->other().Publish("ignored", "no").value(), 0);
  EXPECT_EQ(this->other().Publish("other", binary).value(), 1);
  EXPECT_EQ(this->other().Publish("updated", "2").value(), 1);
  ASSERT_TRUE(log.WaitForMessages(3));
  EXPECT_THAT(log.messages(),
              ElementsAre(Pair("updated", "1"), Pair("other", binary), Pair("updated", "2")));
  EXPECT_EQ(log.subscribed(), 1);
}

TYPED_TEST_P(RedisClientConformanceTest, DestroyedSubscriptionStopsReceiving) {
  MessageLog log;
  {
    auto sub = this->client().Subscribe({"ch"}, log.Callbacks());
    ASSERT_TRUE(sub.ok()) << sub.status();
    ASSERT_TRUE(log.WaitForSubscribed(1));
  }
  // Redis drops the subscription once it sees the connection closed.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int64_t receivers = 1;
  while (receivers != 0 && absl::Now() < deadline) {
    receivers = this->other().Publish("ch", "late").value();
  }
  EXPECT_EQ(receivers, 0);
  EXPECT_TRUE(log.messages().empty());
}

TYPED_TEST_P(RedisClientConformanceTest, SubscribeRejectsBadArguments) {
  MessageLog log;
  EXPECT_EQ(this->client().Subscribe({}, log.Callbacks()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->client().Subscribe({"ch"}, RedisSubscriptionCallbacks()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST_P(RedisClientConformanceTest, GuardedTransactionRunsOnlyWhenProceedAgrees) {
  RedisClient& c = this->client();
  ASSERT_TRUE(c.Set("cursor", "5").ok());
  std::optional<std::string> shown;
  auto refused = c.GuardedTransaction("cursor",
                                      [&](const std::optional<std::string>& v) {
                                        shown = v;
                                        return v == std::optional<std::string>("4");
                                      },
                                      {{"SET", "a", "1"}, {"SET", "cursor", "6"}});
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_FALSE(refused->applied);
  ASSERT_EQ(refused->observed.size(), 1u);
  EXPECT_EQ(refused->observed[0], std::optional<std::string>("5"));
  EXPECT_EQ(shown, std::optional<std::string>("5"));
  EXPECT_EQ(c.Get("a").value(), std::nullopt);

  auto applied = c.GuardedTransaction(
      "cursor",
      [](const std::optional<std::string>& v) { return v == std::optional<std::string>("5"); },
      {{"SET", "a", "1"}, {"SET", "cursor", "6"}});
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(applied->applied);
  ASSERT_EQ(applied->replies.size(), 2u);
  EXPECT_EQ(c.Get("cursor").value(), std::optional<std::string>("6"));
  EXPECT_EQ(c.Get("a").value(), std::optional<std::string>("1"));

  // An absent key is shown as nullopt.
  auto absent = c.GuardedTransaction(
      "missing", [](const std::optional<std::string>& v) { return !v.has_value(); },
      {{"SET", "b", "1"}});
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_TRUE(absent->applied);
  ASSERT_EQ(absent->observed.size(), 1u);
  EXPECT_FALSE(absent->observed[0].has_value());
  // The connection is usable afterwards (no WATCH left behind).
  EXPECT_TRUE(c.Transaction({{"SET", "cursor", "7"}}).ok());
  EXPECT_TRUE(this->other().Set("cursor", "8").ok());
  EXPECT_TRUE(c.Transaction({{"SET", "c", "1"}}).ok());
}

TYPED_TEST_P(RedisClientConformanceTest, GuardedTransactionAbortsWhenTheKeyChangesMeanwhile) {
  RedisClient& c = this->client();
  ASSERT_TRUE(c.Set("cursor", "5").ok());
  RedisClient& other = this->other();
  auto result = c.GuardedTransaction("cursor",
                                     [&](const std::optional<std::string>&) {
                                       // Another client moves the cursor between the read and EXEC.
                                       EXPECT_TRUE(other.Set("cursor", "9").ok());
                                       return true;
                                     },
                                     {{"SET", "a", "1"}, {"SET", "cursor", "6"}});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted) << result.status();
  EXPECT_EQ(c.Get("cursor").value(), std::optional<std::string>("9"));
  EXPECT_EQ(c.Get("a").value(), std::nullopt);
  // A hash is not a string.
  ASSERT_TRUE(c.HSet("h", {{"f", "v"}}).ok());
  EXPECT_EQ(c.GuardedTransaction("h", [](const std::optional<std::string>&) { return true; }, {})
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(c.Ping().ok());
  // With two keys: both are shown, in order; a change of the second aborts.
  ASSERT_TRUE(c.Set("form", "2").ok());
  std::vector<std::optional<std::string>> shown;
  auto second = c.GuardedTransaction(std::vector<std::string>{"cursor", "form"},
                                     [&](const std::vector<std::optional<std::string>>& values) {
                                       shown = values;
                                       EXPECT_TRUE(other.Set("form", "3").ok());
                                       return true;
                                     },
                                     {{"SET", "a", "2"}});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAborted) << second.status();
  EXPECT_EQ(shown, (std::vector<std::optional<std::string>>{"9", "2"}));
  EXPECT_EQ(c.Get("a").value(), std::nullopt);
  EXPECT_EQ(
      c.GuardedTransaction(std::vector<std::string>{},
                           [](const std::vector<std::optional<std::string>>&) { return true; }, {})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

REGISTER_TYPED_TEST_SUITE_P(RedisClientConformanceTest, PingAndEcho, SetGetExistsDel, SetOptions,
                            BinaryKeysAndValuesRoundTrip, Counters, ErrorMapping, Hashes,
                            ListsAndSortedSets, ScanKeysMatchesPatternAcrossCursors,
                            PipelineRepliesInOrder, PipelineErrorNamesCommandAndOthersStillRun,
                            TransactionReturnsExecReplies,
                            TransactionRejectedWhileQueueingAppliesNothing,
                            TransactionRuntimeErrorIsReported,
                            TransactionIsNeverObservedHalfApplied,
                            ConcurrentCommandsFromManyThreads, SubscriberReceivesMessagesInOrder,
                            DestroyedSubscriptionStopsReceiving, SubscribeRejectsBadArguments,
                            GuardedTransactionRunsOnlyWhenProceedAgrees,
                            GuardedTransactionAbortsWhenTheKeyChangesMeanwhile);

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_REDIS_REDIS_CLIENT_CONFORMANCE_H_
