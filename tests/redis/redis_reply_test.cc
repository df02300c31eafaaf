// Pure logic of common/redis: reply views, glob matching, address parsing,
// error mapping.

#include "common/redis/redis_reply.h"

#include "common/redis/hiredis_client.h"
#include "common/redis/redis_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace halfsky {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

TEST(RedisReplyTest, TypedViews) {
  EXPECT_EQ(RedisReply::Nil().AsOptionalString().value(), std::nullopt);
  EXPECT_EQ(RedisReply::String("a").AsOptionalString().value(), std::optional<std::string>("a"));
  EXPECT_EQ(RedisReply::Integer(3).AsOptionalString().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RedisReply::Integer(7).AsInteger().value(), 7);
  EXPECT_EQ(RedisReply::String("-12").AsInteger().value(), -12);
  EXPECT_EQ(RedisReply::String("1x").AsInteger().status().code(),
            absl::StatusCode::kFailedPrecondition);
  RedisReply array =
      RedisReply::Array({RedisReply::String("a"), RedisReply::Nil(), RedisReply::String("c")});
  EXPECT_THAT(array.AsOptionalStringArray().value(),
              ElementsAre(Optional(std::string("a")), std::nullopt, Optional(std::string("c"))));
  EXPECT_EQ(array.AsStringArray().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RedisReply::Array({RedisReply::Integer(1)}).AsOptionalStringArray().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RedisReplyTest, EqualityAndDebugString) {
  EXPECT_EQ(RedisReply::String("a"), RedisReply::String("a"));
  EXPECT_NE(RedisReply::String("a"), RedisReply::Status("a"));
  EXPECT_NE(RedisReply::Array({}), RedisReply::Nil());
  EXPECT_EQ(
      RedisReply::Array({RedisReply::String(std::string("x\0", 2)), RedisReply::Nil(),
                         RedisReply::Integer(3), RedisReply::Error("ERR e"), RedisReply::Ok()})
          .DebugString(),
      "[\"x\\x00\", nil, 3, (error) ERR e, +OK]");
}

TEST(RedisGlobMatchTest, FollowsRedisRules) {
  EXPECT_TRUE(RedisGlobMatch("*", ""));
  EXPECT_TRUE(RedisGlobMatch("agg:*", "agg:HEALTH-01:610303"));
  EXPECT_FALSE(RedisGlobMatch("agg:*", "ag"));
  EXPECT_TRUE(RedisGlobMatch("a?c", "abc"));
  EXPECT_FALSE(RedisGlobMatch("a?c", "ac"));
  EXPECT_TRUE(RedisGlobMatch("h[ae]llo", "hello"));
  EXPECT_FALSE(RedisGlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(RedisGlobMatch("h[a-c]llo", "hbllo"));
  EXPECT_FALSE(RedisGlobMatch("h[a-c]llo", "hdllo"));
  EXPECT_TRUE(RedisGlobMatch("a\\*b", "a*b"));
  EXPECT_FALSE(RedisGlobMatch("a\\*b", "axb"));
  EXPECT_TRUE(RedisGlobMatch("*x*y*", "aaxbbyc"));
  EXPECT_FALSE(RedisGlobMatch("*x*y", "aaxbbyc"));
  EXPECT_TRUE(RedisGlobMatch(std::string("k\0*", 3), std::string("k\0z", 3)));
}

TEST(ParseRedisAddressTest, AcceptsHostPort) {
  auto v4 = ParseRedisAddress("127.0.0.1:6380");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 6380);
  HiredisOptions base;
  base.db = 2;
  auto named = ParseRedisAddress("redis.halfsky.svc:6379", base);
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->host, "redis.halfsky.svc");
  EXPECT_EQ(named->db, 2);
  auto v6 = ParseRedisAddress("[::1]:7000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
}

TEST(ParseRedisAddressTest, RejectsMalformed) {
  for (const char* bad : {"", "localhost", ":6379", "host:", "host:x", "host:0", "host:65536",
                          "::1:6379", "host:-1"}) {
    EXPECT_EQ(ParseRedisAddress(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseRedisAddressTest, AcceptsSentinelForm) {
  auto one = ParseRedisAddress("sentinel://s1.halfsky:26379/halfsky");
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->sentinels.size(), 1u);
  EXPECT_EQ(one->sentinels[0].host, "s1.halfsky");
  EXPECT_EQ(one->sentinels[0].port, 26379);
  EXPECT_EQ(one->sentinel_master, "halfsky");
  auto three = ParseRedisAddress("sentinel://10.0.0.1:26379,[::1]:26380,s3:5000/mymaster");
  ASSERT_TRUE(three.ok()) << three.status();
  ASSERT_EQ(three->sentinels.size(), 3u);
  EXPECT_EQ(three->sentinels[1].host, "::1");
  EXPECT_EQ(three->sentinels[1].port, 26380);
  EXPECT_EQ(three->sentinels[2].host, "s3");
  EXPECT_EQ(three->sentinel_master, "mymaster");
  EXPECT_EQ(DescribeTarget(*three), "sentinel://10.0.0.1:26379,::1:26380,s3:5000/mymaster");
  // A later plain address leaves Sentinel mode.
  auto plain = ParseRedisAddress("127.0.0.1:6379", *three);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->sentinels.empty());
}

TEST(ParseRedisAddressTest, RejectsMalformedSentinelForm) {
  for (const char* bad :
       {"sentinel://", "sentinel://h:26379", "sentinel://h:26379/", "sentinel:///m",
        "sentinel://h:26379,/m", "sentinel://h/m", "sentinel://h:0/m", "sentinel://h:1/a/b",
        "sentinel://h:1/a b", "sentinel://::1:26379/m"}) {
    EXPECT_EQ(ParseRedisAddress(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(RedisErrorToStatusTest, MapsTransientAndPermanentErrors) {
  EXPECT_EQ(RedisErrorToStatus("LOADING Redis is loading the dataset in memory").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(RedisErrorToStatus("BUSY Redis is busy running a script").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(RedisErrorToStatus("READONLY You can't write against a read only replica.").code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(RedisErrorToStatus("ERR unknown command 'FOO', with args beginning with: ").code(),
            absl::StatusCode::kUnimplemented);
  const absl::Status wrong = RedisErrorToStatus("WRONGTYPE Operation against a key");
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(wrong.message(), "redis: WRONGTYPE Operation against a key");
  EXPECT_EQ(RedisErrorToStatus("NOAUTH Authentication required.").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(CheckClientCommandTest, RejectsConnectionStateCommands) {
  EXPECT_TRUE(CheckClientCommand({"GET", "k"}).ok());
  EXPECT_EQ(CheckClientCommand({}).code(), absl::StatusCode::kInvalidArgument);
  for (const char* name :
       {"multi", "EXEC", "Watch", "SUBSCRIBE", "psubscribe", "SELECT", "AUTH", "MONITOR", "QUIT"}) {
    EXPECT_EQ(CheckClientCommand({name, "x"}).code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

}  // namespace
}  // namespace halfsky
