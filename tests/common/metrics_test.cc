#include "common/metrics/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace halfsky {
namespace {

using ::testing::HasSubstr;

// A client socket connected to 127.0.0.1:port (-1 on failure).
int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Everything the server sends on `fd` until it closes it; closes `fd`.
std::string ReadToClose(int fd) {
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
    answer.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return answer;
}

TEST(MetricsTest, SameNameAndLabelsIsSameObject) {
  MetricsRegistry r;
  Counter* a = r.GetCounter("x_total", "help", {{"k", "v"}});
  EXPECT_EQ(a, r.GetCounter("x_total", "help", {{"k", "v"}}));
  EXPECT_NE(a, r.GetCounter("x_total", "help", {{"k", "w"}}));
}

TEST(MetricsTest, CountersAreExactUnderConcurrency) {
  MetricsRegistry r;
  Counter* c = r.GetCounter("c_total", "help");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([c] {
      for (int i = 0; i < 10000; ++i) {
        c->Increment();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(c->Value(), 40000);
}

TEST(MetricsTest, RendersPrometheusText) {
  MetricsRegistry r;
  r.GetCounter("req_total", "Requests.", {{"method", "/a/B"}, {"code", "0"}})->Increment(3);
  r.GetGauge("up", "Up.")->Set(1);
  Histogram* h = r.GetHistogram("lat_seconds", "Latency.", {}, {0.1, 1});
  h->Observe(0.05);
  h->Observe(0.5);
  h->Observe(5);
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE req_total counter\n"));
  EXPECT_THAT(text, HasSubstr("req_total{code=\"0\",method=\"/a/B\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE up gauge\nup 1\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"0.10000000000000001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_count 3\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_sum 5.5499999999999998\n"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  MetricsRegistry r;
  r.GetGauge("g", "h", {{"k", "a\"b\\c\nd"}})->Set(2);
  EXPECT_THAT(r.Render(), HasSubstr("g{k=\"a\\\"b\\\\c\\nd\"} 2\n"));
}

TEST(MetricsHttpServerTest, ServesMetricsOverRealHttp) {
  MetricsRegistry r;
  r.GetGauge("halfsky_test_gauge", "A gauge.")->Set(42);
  auto server = MetricsHttpServer::Start("127.0.0.1:0", &r);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_NE((*server)->port(), 0);
  auto resp = testing::HttpGet((*server)->port(), "/metrics");
  ASSERT_TRUE(resp.ok());
  EXPECT_THAT(*resp, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(*resp, HasSubstr("halfsky_test_gauge 42"));
  auto missing = testing::HttpGet((*server)->port(), "/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_THAT(*missing, HasSubstr("404"));
}

TEST(MetricsHttpServerTest, HealthzAnswersWithTheGivenHealthCheck) {
  MetricsRegistry r;
  // Without a check: "ok".
  auto plain = MetricsHttpServer::Start("127.0.0.1:0", &r);
  ASSERT_TRUE(plain.ok()) << plain.status();
  auto ok = testing::HttpGet((*plain)->port(), "/healthz");
  ASSERT_TRUE(ok.ok());
  EXPECT_THAT(*ok, HasSubstr("HTTP/1.1 200 OK"));
  // With one: the overall status, a named service's, an unknown one.
  std::vector<std::string> asked;
  absl::Mutex mu;
  auto server = MetricsHttpServer::Start("127.0.0.1:0", &r, [&](const std::string& service) {
    absl::MutexLock lock(&mu);
    asked.push_back(service);
    if (service.empty()) return MetricsHttpServer::Health::kServing;
    if (service == "halfsky.v1.AggregationService") {
      return MetricsHttpServer::Health::kNotServing;
    }
    return MetricsHttpServer::Health::kUnknownService;
  });
  ASSERT_TRUE(server.ok()) << server.status();
  auto overall = testing::HttpGet((*server)->port(), "/healthz");
  ASSERT_TRUE(overall.ok());
  EXPECT_THAT(*overall, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(*overall, HasSubstr("SERVING"));
  auto named = testing::HttpGet((*server)->port(), "/healthz/halfsky.v1.AggregationService");
  ASSERT_TRUE(named.ok());
  EXPECT_THAT(*named, HasSubstr("503"));
  EXPECT_THAT(*named, HasSubstr("NOT_SERVING"));
  auto unknown = testing::HttpGet((*server)->port(), "/healthz/no.such.Service");
  ASSERT_TRUE(unknown.ok());
  EXPECT_THAT(*unknown, HasSubstr("404"));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(asked,
            (std::vector<std::string>{"", "halfsky.v1.AggregationService", "no.such.Service"}));
}

TEST(MetricsHttpServerTest, TakenPortIsAClearError) {
  MetricsRegistry r;
  auto first = MetricsHttpServer::Start("127.0.0.1:0", &r);
  ASSERT_TRUE(first.ok());
  auto second = MetricsHttpServer::Start("127.0.0.1:" + std::to_string((*first)->port()), &r);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

// A client that sends its request a few bytes at a time (or not at all)
// holds only its own connection: every other scrape is answered while it
// dawdles, and its own request is still answered when it completes.
TEST(MetricsHttpServerTest, SlowClientDelaysNoOtherScrape) {
  MetricsRegistry r;
  r.GetGauge("halfsky_test_gauge", "A gauge.")->Set(7);
  auto server = MetricsHttpServer::Start("127.0.0.1:0", &r);
  ASSERT_TRUE(server.ok()) << server.status();

  const int slow = ConnectLoopback((*server)->port());
  ASSERT_GE(slow, 0);
  const std::string head = "GET /metr";
  ASSERT_EQ(send(slow, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));

  for (int i = 0; i < 20; ++i) {
    auto resp = testing::HttpGet((*server)->port(), "/metrics");
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_THAT(*resp, HasSubstr("HTTP/1.1 200 OK"));
    EXPECT_THAT(*resp, HasSubstr("halfsky_test_gauge 7"));
  }

  const std::string rest = "ics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(send(slow, rest.data(), rest.size(), MSG_NOSIGNAL), static_cast<ssize_t>(rest.size()));
  const std::string answer = ReadToClose(slow);
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(answer, HasSubstr("halfsky_test_gauge 7"));
}

TEST(MetricsHttpServerTest, OnlyGetIsServed) {
  MetricsRegistry r;
  auto server = MetricsHttpServer::Start("127.0.0.1:0", &r);
  ASSERT_TRUE(server.ok()) << server.status();
  const int fd = ConnectLoopback((*server)->port());
  ASSERT_GE(fd, 0);
  const std::string req =
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  EXPECT_THAT(ReadToClose(fd), HasSubstr("405"));
}

}  // namespace
}  // namespace halfsky
