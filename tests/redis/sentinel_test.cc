// HiredisClient and HiredisSubscriber through Redis Sentinel, on real
// processes (tests/support/redis_sentinel.h): the shared RedisClient suite
// through a sentinel address, then failover — the primary killed, the
// sentinels promote the replica, the same client and subscriber continue on
// the new primary — and the checks that keep the client on a primary
// (ROLE, READONLY, sentinel AUTH).

#include <signal.h>

#include <cstdlib>
#include <iostream>

#include "common/redis/hiredis_client.h"
#include "tests/redis/redis_client_conformance.h"
#include "tests/support/process.h"
#include "tests/support/redis_sentinel.h"

namespace halfsky::testing {
namespace {

RedisSentinelBed& SharedBed() {
  static std::unique_ptr<RedisSentinelBed> bed = [] {
    RedisSentinelBed::Options options;
    options.wait_for_discovery = false;  // no failover on the shared bed
    auto b = RedisSentinelBed::Start(options);
    if (!b.ok()) {
      std::cerr << "cannot start the sentinel test bed: " << b.status() << "\n";
      std::abort();
    }
    return std::move(*b);
  }();
  return *bed;
}

struct SentinelEnv {
  void SetUp() { options = SharedBed().ClientOptions(); }
  std::shared_ptr<RedisClient> NewClient() { return std::make_shared<HiredisClient>(options); }
  HiredisOptions options;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sentinel, RedisClientConformanceTest, SentinelEnv);

// Retries `fn` until it is OK or `timeout` passes; returns the last status.
template <typename Fn>
absl::Status Eventually(Fn fn, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last;
  do {
    last = fn();
    if (last.ok()) {
      return last;
    }
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() < deadline);
  return last;
}

// The port of the server `client` is connected to (INFO server's tcp_port).
int ConnectedPort(HiredisClient& client) {
  auto info = client.Command({"INFO", "server"});
  if (!info.ok()) {
    return -1;
  }
  const std::string& text = info->str();
  const size_t at = text.find("tcp_port:");
  return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 9);
}

TEST(SentinelFailoverTest, KilledPrimaryIsReplacedAndTheSameClientAndSubscriberFollow) {
  RedisSentinelBed::Options options;
  options.replicas = 1;
  options.sentinels = 3;
  options.quorum = 2;
  auto bed = RedisSentinelBed::Start(options);
  ASSERT_TRUE(bed.ok()) << bed.status();
  HiredisClient client((*bed)->ClientOptions());
  ASSERT_TRUE(client.Set("k", "before").ok());
  const int old_port = (*bed)->server(0).port();
  EXPECT_EQ(ConnectedPort(client), old_port);

  MessageLog log;
  auto sub = client.Subscribe({"ch"}, log.Callbacks());
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(log.WaitForSubscribed(1));
  ASSERT_TRUE((*bed)->WaitForReplicasInSync(old_port, absl::Seconds(10)).ok());

  (*bed)->server(0).Kill();
  const absl::Time killed = absl::Now();
  // While no primary is reachable: UNAVAILABLE, promptly.
  const absl::Status down = client.Set("k", "during");
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  EXPECT_LT(absl::Now() - killed, absl::Seconds(5));

  // The same client reaches the new primary by itself, within seconds.
  const absl::Status up = Eventually([&] { return client.Set("k2", "after"); }, absl::Seconds(30));
  ASSERT_TRUE(up.ok()) << up;
  const absl::Duration took = absl::Now() - killed;
  std::cerr << "failover: writes accepted again after " << took << "\n";
  EXPECT_LT(took, absl::Seconds(20));
  auto new_port = (*bed)->WaitForNewPrimary(old_port, absl::Seconds(10));
  ASSERT_TRUE(new_port.ok()) << new_port.status();
  EXPECT_EQ(*new_port, (*bed)->server(1).port());
  EXPECT_EQ(ConnectedPort(client), *new_port);
  // What was replicated before the kill survived.
  EXPECT_EQ(client.Get("k").value(), std::optional<std::string>("before"));

  // The subscriber resubscribed on the new primary (on_subscribed again)
  // and receives what is published there.
  ASSERT_TRUE(log.WaitForSubscribed(2, absl::Seconds(20)));
  EXPECT_GE(log.disconnected(), 1);
  ASSERT_TRUE(client.Publish("ch", "on-new-primary").ok());
  ASSERT_TRUE(log.WaitForMessages(1));
  EXPECT_EQ(log.messages().back().second, "on-new-primary");
}

TEST(SentinelClientTest, NoSentinelAnsweringIsUnavailableNamingEachSentinel) {
  HiredisOptions options = *ParseRedisAddress(
      absl::StrCat("sentinel://127.0.0.1:", FreePort(), ",127.0.0.1:", FreePort(), "/halfsky"));
  options.connect_timeout = absl::Milliseconds(300);
  HiredisClient client(options);
  const absl::Time start = absl::Now();
  const absl::Status st = client.Ping();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("no primary for \"halfsky\""));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(SentinelClientTest, UnknownMasterNameIsUnavailable) {
  HiredisOptions options = SharedBed().ClientOptions();
  options.sentinel_master = "nosuchmaster";
  HiredisClient client(options);
  const absl::Status st = client.Ping();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("knows no master \"nosuchmaster\""));
}

TEST(SentinelClientTest, ADeadSentinelIsSkipped) {
  // The first sentinel listed does not exist; the second answers.
  HiredisOptions options = SharedBed().ClientOptions();
  options.sentinels.insert(options.sentinels.begin(), RedisEndpoint{"127.0.0.1", FreePort()});
  HiredisClient client(options);
  EXPECT_TRUE(client.Set("skip", "1").ok());
}

TEST(SentinelClientTest, AReplicaReportedAsPrimaryIsRefusedByRole) {
  // A sentinel told to monitor the replica under another name reports the
  // replica's address as that "master": the ROLE check refuses it.
  RedisSentinelBed& bed = SharedBed();
  const std::string dir = MakeTempDir("halfsky-sentinel-bogus");
  const int port = FreePort();
  {
    std::FILE* f = std::fopen((dir + "/sentinel.conf").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f,
                 "port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor bogus 127.0.0.1 %d 1\n"
                 "sentinel down-after-milliseconds bogus 60000\n",
                 port, dir.c_str(), bed.server(1).port());
    std::fclose(f);
  }
  const char* bin = std::getenv("HALFSKY_REDIS_SERVER");
  auto sentinel = ChildProcess::Start(
      {bin != nullptr && *bin != '\0' ? bin : "redis-server", dir + "/sentinel.conf", "--sentinel"},
      dir + "/sentinel.log");
  ASSERT_TRUE(sentinel.ok());
  ASSERT_TRUE(WaitForPort(port, absl::Seconds(10)));
  HiredisOptions options =
      *ParseRedisAddress(absl::StrCat("sentinel://127.0.0.1:", port, "/bogus"));
  HiredisClient client(options);
  const absl::Status st = client.Set("k", "v");
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("is not a master"));
  // A direct client of the replica is not checked (direct mode) and gets
  // READONLY for a write, as UNAVAILABLE.
  HiredisClient direct(*ParseRedisAddress(absl::StrCat("127.0.0.1:", bed.server(1).port())));
  EXPECT_EQ(direct.Set("k", "v").code(), absl::StatusCode::kUnavailable);
}

TEST(SentinelClientTest, ReadOnlyReplyDropsTheConnection) {
  // Talking to a replica (a demoted primary, a managed endpoint whose DNS
  // moved): after READONLY the next command uses a fresh connection, which
  // in Sentinel mode or behind a moving DNS name reaches the new primary.
  HiredisClient direct(
      *ParseRedisAddress(absl::StrCat("127.0.0.1:", SharedBed().server(1).port())));
  auto id1 = direct.Command({"CLIENT", "ID"});
  ASSERT_TRUE(id1.ok()) << id1.status();
  auto id_again = direct.Command({"CLIENT", "ID"});
  ASSERT_TRUE(id_again.ok());
  EXPECT_EQ(id_again->integer(), id1->integer());  // kept while nothing failed
  const absl::Status write = direct.Set("k", "v");
  EXPECT_EQ(write.code(), absl::StatusCode::kUnavailable) << write;
  EXPECT_THAT(std::string(write.message()), HasSubstr("READONLY"));
  auto id2 = direct.Command({"CLIENT", "ID"});
  ASSERT_TRUE(id2.ok());
  EXPECT_NE(id2->integer(), id1->integer());
}

TEST(SentinelClientTest, SentinelPasswordIsSentToTheSentinels) {
  RedisSentinelBed::Options options;
  options.sentinel_password = "s3ntinel-pw";
  options.wait_for_discovery = false;
  auto bed = RedisSentinelBed::Start(options);
  ASSERT_TRUE(bed.ok()) << bed.status();
  HiredisClient with((*bed)->ClientOptions());
  EXPECT_TRUE(with.Set("k", "v").ok());
  HiredisOptions no_password = (*bed)->ClientOptions();
  no_password.sentinel_password.clear();
  HiredisClient without(no_password);
  const absl::Status st = without.Ping();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("NOAUTH"));
}

}  // namespace
}  // namespace halfsky::testing
