// The shared RedisClient suite against a real redis-server, plus what only
// a real server can show: the server down, killed, restarted, slow.

#include "common/redis/hiredis_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <vector>

#include "common/redis/hiredis_subscriber.h"
#include "tests/redis/redis_client_conformance.h"
#include "tests/support/process.h"

namespace halfsky::testing {
namespace {

// One redis-server per test process (ctest runs each test in its own
// process; the conformance suite flushes it before every test). Stopped by
// the static destructor at exit.
RedisServer& SharedServer() {
  static std::unique_ptr<RedisServer> server = [] {
    auto s = RedisServer::Start();
    if (!s.ok()) {
      std::cerr << "cannot start redis-server: " << s.status() << "\n";
      std::abort();
    }
    return std::move(*s);
  }();
  return *server;
}

HiredisOptions OptionsFor(int port) {
  HiredisOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.connect_timeout = absl::Milliseconds(500);
  options.command_timeout = absl::Seconds(2);
  return options;
}

struct HiredisEnv {
  void SetUp() { port = SharedServer().port(); }
  std::shared_ptr<RedisClient> NewClient() {
    return std::make_shared<HiredisClient>(OptionsFor(port));
  }
  int port = 0;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Hiredis, RedisClientConformanceTest, HiredisEnv);

// Each test below owns its server (they kill and restart it).
class HiredisServerFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = RedisServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  std::unique_ptr<RedisServer> server_;
};

TEST(HiredisClientTest, ServerDownIsUnavailableNotACrash) {
  HiredisOptions options = OptionsFor(FreePort());  // nothing listens there
  HiredisClient client(options);
  const absl::Time start = absl::Now();
  EXPECT_EQ(client.Connect().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.Get("k").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.Transaction({{"SET", "a", "1"}}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(HiredisClientTest, UnansweredConnectTimesOutWithinConnectTimeout) {
  // A loopback listener that never accepts, its backlog filled: the kernel
  // drops further SYNs, so a new connection hangs in the handshake. (Tests
  // send traffic only to loopback.)
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  absl::SleepFor(absl::Milliseconds(50));

  HiredisOptions options = OptionsFor(ntohs(addr.sin_port));
  options.connect_timeout = absl::Milliseconds(200);
  options.command_timeout = absl::Milliseconds(200);
  HiredisClient client(options);
  const absl::Time start = absl::Now();
  EXPECT_EQ(client.Ping().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  for (int fd : fillers) {
    close(fd);
  }
  close(listener);
}

TEST_F(HiredisServerFaultTest, KilledServerIsUnavailableThenRestartRecoversSameClient) {
  HiredisClient client(OptionsFor(server_->port()));
  ASSERT_TRUE(client.Set("k", "v").ok());

  server_->Kill();
  const absl::Time start = absl::Now();
  absl::Status down = client.Set("k", "v2");
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable) << down;
  EXPECT_EQ(client.Get("k").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.Pipeline({{"GET", "k"}}).status().code(), absl::StatusCode::kUnavailable);
  // Within the command/connect timeouts, not a hang.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  ASSERT_TRUE(server_->Restart().ok());
  // The very first command after the restart succeeds: the client reconnects
  // by itself (the restarted server has no data: no persistence in tests).
  auto value = client.Get("k");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_FALSE(value->has_value());
  EXPECT_TRUE(client.Set("k", "v3").ok());
  EXPECT_EQ(client.Get("k").value(), std::optional<std::string>("v3"));
}

TEST_F(HiredisServerFaultTest, RestartWhileIdleIsInvisibleToTheNextCommand) {
  HiredisClient client(OptionsFor(server_->port()));
  ASSERT_TRUE(client.Ping().ok());
  // The server dies and comes back between two commands: the stale
  // connection is detected before sending, so nothing fails.
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE(client.Ping().ok());
  EXPECT_TRUE(client.Transaction({{"SET", "a", "1"}, {"SET", "b", "1"}}).ok());
}

TEST_F(HiredisServerFaultTest, CommandTimeoutBreaksConnectionAndClientRecovers) {
  HiredisOptions options = OptionsFor(server_->port());
  options.command_timeout = absl::Milliseconds(100);
  HiredisClient client(options);
  ASSERT_TRUE(client.Ping().ok());
  // BLPOP on an empty list holds the reply for 2 s (DEBUG SLEEP is disabled
  // by default in Redis 7).
  const absl::Time start = absl::Now();
  absl::Status slow = client.Command({"BLPOP", "empty-list", "2"}).status();
  EXPECT_EQ(slow.code(), absl::StatusCode::kUnavailable) << slow;
  EXPECT_THAT(std::string(slow.message()), HasSubstr("timed out"));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1500));
  // The late BLPOP reply must not be mistaken for the next command's.
  ASSERT_TRUE(client.Set("k", "v").ok());
  EXPECT_EQ(client.Get("k").value(), std::optional<std::string>("v"));
}

TEST_F(HiredisServerFaultTest, SubscriberResubscribesAfterRestart) {
  HiredisClient publisher(OptionsFor(server_->port()));
  HiredisSubscriber::Options options;
  options.redis = OptionsFor(server_->port());
  options.reconnect_max = absl::Milliseconds(200);
  MessageLog log;
  auto sub = HiredisSubscriber::Start(options, {"updated"}, log.Callbacks());
  ASSERT_TRUE(sub.ok()) << sub.status();
  ASSERT_TRUE(log.WaitForSubscribed(1));
  ASSERT_EQ(publisher.Publish("updated", "before").value(), 1);
  ASSERT_TRUE(log.WaitForMessages(1));

  server_->Kill();
  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(log.WaitForSubscribed(2));
  EXPECT_EQ(log.disconnected(), 1);
  EXPECT_EQ(log.last_disconnect().code(), absl::StatusCode::kUnavailable);
  ASSERT_EQ(publisher.Publish("updated", "after").value(), 1);
  ASSERT_TRUE(log.WaitForMessages(2));
  EXPECT_THAT(log.messages(), ElementsAre(Pair("updated", "before"), Pair("updated", "after")));
}

TEST(HiredisSubscriberTest, StartsWhileServerDownAndSubscribesWhenItComesUp) {
  // Reserve a port, start the subscriber against it, then start Redis there.
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Kill();
  HiredisSubscriber::Options options;
  options.redis = OptionsFor((*server)->port());
  options.reconnect_max = absl::Milliseconds(100);
  MessageLog log;
  auto sub = HiredisSubscriber::Start(options, {"ch"}, log.Callbacks());
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(log.subscribed(), 0);
  ASSERT_TRUE((*server)->Restart().ok());
  ASSERT_TRUE(log.WaitForSubscribed(1));
  HiredisClient publisher(OptionsFor((*server)->port()));
  ASSERT_EQ(publisher.Publish("ch", "hello").value(), 1);
  ASSERT_TRUE(log.WaitForMessages(1));
  // Connection attempts that never subscribed are not "disconnects".
  EXPECT_EQ(log.disconnected(), 0);
}

TEST(HiredisSubscriberTest, DestructionIsPromptWhileServerDown) {
  HiredisSubscriber::Options options;
  options.redis = OptionsFor(FreePort());
  MessageLog log;
  auto sub = HiredisSubscriber::Start(options, {"ch"}, log.Callbacks());
  ASSERT_TRUE(sub.ok());
  absl::SleepFor(absl::Milliseconds(100));
  const absl::Time start = absl::Now();
  sub->reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(log.subscribed(), 0);
}

TEST(HiredisClientTest, WrongPasswordIsNotTransient) {
  HiredisOptions options = OptionsFor(SharedServer().port());
  options.password = "not-configured";
  HiredisClient client(options);
  absl::Status status = client.Ping();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("AUTH"));
}

TEST(HiredisClientTest, SelectsTheConfiguredDatabase) {
  HiredisOptions db1 = OptionsFor(SharedServer().port());
  db1.db = 1;
  HiredisClient client1(db1);
  HiredisClient client0(OptionsFor(SharedServer().port()));
  ASSERT_TRUE(client1.Set("only-in-db1", "v").ok());
  EXPECT_FALSE(client0.Exists("only-in-db1").value());
  EXPECT_TRUE(client1.Exists("only-in-db1").value());
  ASSERT_TRUE(client1.Del({"only-in-db1"}).ok());
}

TEST(HiredisClientTest, LargePipelineSucceeds) {
  HiredisClient client(OptionsFor(SharedServer().port()));
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 20000; ++i) {
    commands.push_back({"SET", absl::StrCat("bulk:", i), std::string(100, 'x')});
  }
  auto replies = client.Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(replies->size(), 20000u);
  EXPECT_EQ(client.Del({"bulk:0", "bulk:19999"}).value(), 2);
}

}  // namespace
}  // namespace halfsky::testing
