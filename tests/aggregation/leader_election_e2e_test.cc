// Two REAL halfsky-aggregation processes elect their leader on a REAL
// PostgreSQL (--leader_election=postgres:...), following the REAL
// halfsky-submission, with a real redis-server:
//   - exactly one leads (halfsky_aggregation_leader, the named health
//     status halfsky.v1.AggregationService); the standby refuses Rebuild,
//     writes nothing, and is warm (built once, following the feed);
//   - the leader SIGKILLed under load: the standby takes over within
//     seconds, without a build or a rewrite, and the cache equals a rebuild
//     of the whole feed;
//   - the leader frozen (SIGSTOP): the standby takes over after the lease;
//     thawed, the old leader writes nothing more and exits with status 3.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/cache/cache_layout.h"
#include "common/redis/hiredis_client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/aggregation.grpc.pb.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/aggregation/cache_check.h"
#include "tests/aggregation/test_util.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::aggregation {
namespace {

using halfsky::testing::MetricSample;
using halfsky::testing::ServiceBinary;
using halfsky::testing::ServiceProcess;
using testing::TestCatalog;
using testing::TestCatalogPath;

constexpr const char* kLeaves[] = {"610303001", "610303002", "610303100001", "610303100002"};

halfsky::v1::SubmitBatchRequest Batch(int64_t i) {
  halfsky::v1::SubmitBatchRequest request;
  request.set_request_id(absl::StrCat("leader-e2e-", i, "-", ::getpid()));
  for (int j = 0; j < 4; ++j) {
    const int64_t k = i * 4 + j;
    auto* v = request.add_data_values();
    auto* key = v->mutable_key();
    key->set_area_code(kLeaves[k % 4]);
    key->set_year(2020 + static_cast<int>((k / 4) % 5));
    key->set_sex(halfsky::v1::SEX_TOTAL);
    key->set_residence(halfsky::v1::RESIDENCE_ALL);
    key->set_indicator_id("HEALTH-03");
    v->set_value(static_cast<double>(k % 41));
    v->set_source("leader election e2e");
  }
  return request;
}

// grpc.health.v1 status of `service` at `address` (UNKNOWN on error).
grpc::health::v1::HealthCheckResponse::ServingStatus Health(const std::string& address,
                                                            const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  if (!stub->Check(&ctx, request, &response).ok()) {
    return grpc::health::v1::HealthCheckResponse::UNKNOWN;
  }
  return response.status();
}

class LeaderElectionEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"submission", "aggregation"}) {
      ASSERT_TRUE(std::ifstream(ServiceBinary(name)).good())
          << ServiceBinary(name) << " is not built";
    }
    dir_ = halfsky::testing::MakeTempDir("leader-e2e");
    auto pg = halfsky::testing::PostgresServer::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = std::move(*pg);
    auto redis = halfsky::testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_server_ = std::move(*redis);
    HiredisOptions opts;
    opts.port = redis_server_->port();
    probe_ = std::make_unique<HiredisClient>(opts);
    ASSERT_TRUE(submission_
                    .Start(dir_, "submission", ServiceBinary("submission"), TestCatalogPath(), "",
                           {"--db=" + dir_ + "/submission.db"})
                    .ok());
    stub_ = halfsky::v1::SubmissionService::NewStub(
        grpc::CreateChannel(submission_.address(), grpc::InsecureChannelCredentials()));
    ASSERT_NO_FATAL_FAILURE(StartAggregation(0));
    ASSERT_NO_FATAL_FAILURE(StartAggregation(1));
  }

  void TearDown() override {
    StopLoad();
    for (auto& a : aggregation_) {
      a.Signal(SIGCONT);
      (void)a.Stop();
    }
    EXPECT_TRUE(submission_.Stop().ok());
  }

  void StartAggregation(int i) {
    const absl::Status st = aggregation_[i].Start(
        dir_, absl::StrCat("aggregation-", i), ServiceBinary("aggregation"), TestCatalogPath(), "",
        {"--submission=" + submission_.address(), "--redis=" + redis_server_->address(),
         "--leader_election=postgres:" + pg_->Uri(), "--leader_election_lease=2s"});
    ASSERT_TRUE(st.ok()) << st;
  }

  std::optional<double> Metric(int i, const std::string& name) {
    auto page = aggregation_[i].Metrics();
    return page.ok() ? MetricSample(*page, name) : std::nullopt;
  }
  bool Leads(int i) { return Metric(i, "halfsky_aggregation_leader") == 1.0; }
  // The status line of GET `path` on replica i's metrics port.
  std::string HealthzLine(int i, const std::string& path) {
    const std::string addr =
        halfsky::testing::ReadFile(absl::StrCat(dir_, "/aggregation-", i, ".addr"));
    const size_t at = addr.find("metrics=");
    if (at == std::string::npos) {
      return "no metrics address";
    }
    const std::string metrics = addr.substr(at + 8, addr.find_first_of(" \n", at) - at - 8);
    auto page = halfsky::testing::HttpGet(std::stoi(metrics.substr(metrics.rfind(':') + 1)), path);
    return page.ok() ? page->substr(0, page->find('\n')) : std::string(page.status().message());
  }

  // Waits until replica `i` leads and serves (named health SERVING);
  // returns how long it took, or a failure.
  absl::Duration WaitForLeader(int i, absl::Duration timeout) {
    const absl::Time start = absl::Now();
    while (absl::Now() - start < timeout) {
      if (Leads(i) && Health(aggregation_[i].address(), "halfsky.v1.AggregationService") ==
                          grpc::health::v1::HealthCheckResponse::SERVING) {
        return absl::Now() - start;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "aggregation-" << i << " did not become the serving leader within " << timeout
                  << "; log:\n"
                  << aggregation_[i].log();
    return timeout;
  }

  // Which of the two leads, once one does (the other must not).
  int TheLeader() {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      const bool a = Leads(0), b = Leads(1);
      EXPECT_FALSE(a && b) << "two leaders at once";
      if (a != b) {
        const int leader = a ? 0 : 1;
        (void)WaitForLeader(leader, absl::Seconds(20));
        return leader;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "no leader elected; logs:\n"
                  << aggregation_[0].log() << "\n"
                  << aggregation_[1].log();
    return 0;
  }

  bool Submit(int64_t i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    halfsky::v1::SubmitBatchResponse response;
    return stub_->SubmitBatch(&ctx, Batch(i), &response).ok();
  }
  void SubmitSome(int n) {
    for (int k = 0; k < n; ++k) {
      ASSERT_TRUE(Submit(next_batch_++));
    }
  }
  void StartLoad() {
    stop_load_ = false;
    load_ = std::thread([this] {
      while (!stop_load_) {
        if (Submit(next_batch_)) {
          ++next_batch_;
        }
        absl::SleepFor(absl::Milliseconds(10));
      }
    });
  }
  void StopLoad() {
    stop_load_ = true;
    if (load_.joinable()) {
      load_.join();
    }
  }

  std::vector<halfsky::v1::Revision> FeedLog() { return testing::ReadFeedLog(*stub_); }
  void ExpectRedisEqualsRebuild() {
    StopLoad();
    const auto log = FeedLog();
    ASSERT_FALSE(log.empty());
    const std::string why =
        testing::WaitForCache(*probe_, log.back().sequence(),
                              testing::ExpectedCache(TestCatalog(), log), absl::Seconds(60));
    ASSERT_EQ(why, "") << "Redis does not equal a rebuild; logs:\n"
                       << aggregation_[0].log() << "\n"
                       << aggregation_[1].log();
  }
  std::string FenceEpoch() {
    auto v = probe_->Get(cache::kLeaderEpochKey);
    return v.ok() && v->has_value() ? **v : "";
  }

  std::string dir_;
  std::unique_ptr<halfsky::testing::PostgresServer> pg_;
  std::unique_ptr<halfsky::testing::RedisServer> redis_server_;
  std::unique_ptr<HiredisClient> probe_;
  ServiceProcess submission_;
  ServiceProcess aggregation_[2];
  std::unique_ptr<halfsky::v1::SubmissionService::Stub> stub_;
  std::thread load_;
  std::atomic<bool> stop_load_{false};
  std::atomic<int64_t> next_batch_{0};
};

TEST_F(LeaderElectionEndToEndTest, OneLeadsTheStandbyRefusesAndTakesOverWhenTheLeaderIsKilled) {
  const int leader = TheLeader();
  const int standby = 1 - leader;
  EXPECT_EQ(Health(aggregation_[standby].address(), "halfsky.v1.AggregationService"),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  // The process itself is alive and well (liveness).
  EXPECT_EQ(Health(aggregation_[standby].address(), ""),
            grpc::health::v1::HealthCheckResponse::SERVING);
  // The same over the plaintext metrics port (the kubelet's probe where the
  // gRPC port is TLS only): 200 on the leader, 503 on the standby.
  EXPECT_NE(HealthzLine(leader, "/healthz/halfsky.v1.AggregationService").find("200"),
            std::string::npos);
  EXPECT_NE(HealthzLine(standby, "/healthz/halfsky.v1.AggregationService").find("503"),
            std::string::npos);
  EXPECT_NE(HealthzLine(standby, "/healthz").find("200"), std::string::npos);
  const std::optional<double> epoch = Metric(leader, "halfsky_aggregation_leader_epoch");
  ASSERT_TRUE(epoch.has_value());
  SubmitSome(20);
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
  EXPECT_EQ(FenceEpoch(), absl::StrCat(static_cast<int64_t>(*epoch)));

  // The standby answers, but does not serve aggregates or rebuilds.
  {
    auto stub = halfsky::v1::AggregationService::NewStub(
        grpc::CreateChannel(aggregation_[standby].address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    halfsky::v1::RebuildResponse response;
    const grpc::Status st = stub->Rebuild(&ctx, halfsky::v1::RebuildRequest(), &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
    EXPECT_NE(st.error_message().find("备用"), std::string::npos) << st.error_message();
  }

  // The standby is warm: built once and following the feed in memory,
  // while writing nothing.
  {
    const double head = static_cast<double>(FeedLog().back().sequence());
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (Metric(standby, "halfsky_aggregation_applied_sequence").value_or(0) < head &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_GE(Metric(standby, "halfsky_aggregation_applied_sequence").value_or(0), head);
    EXPECT_EQ(Metric(standby, "halfsky_aggregation_builds_total"), 1.0);
    EXPECT_EQ(Metric(standby, "halfsky_aggregation_commits_total"), 0.0);
  }

  // The leader dies under load; the standby takes over.
  StartLoad();
  absl::SleepFor(absl::Milliseconds(500));
  aggregation_[leader].Kill();
  const absl::Duration took = WaitForLeader(standby, absl::Seconds(15));
  std::cout << "takeover after SIGKILL: " << took << "\n";
  EXPECT_LT(took, absl::Seconds(8)) << "the takeover took " << took;
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
  // No build at the takeover: the cache was caught up from memory, not
  // rewritten.
  EXPECT_EQ(Metric(standby, "halfsky_aggregation_builds_total"), 1.0);
  EXPECT_EQ(Metric(standby, "halfsky_aggregation_rebuilds_total"), 0.0);
  const std::optional<double> new_epoch = Metric(standby, "halfsky_aggregation_leader_epoch");
  ASSERT_TRUE(new_epoch.has_value());
  EXPECT_GT(*new_epoch, *epoch);
  EXPECT_EQ(FenceEpoch(), absl::StrCat(static_cast<int64_t>(*new_epoch)));

  // The killed replica comes back as the standby.
  ASSERT_NO_FATAL_FAILURE(StartAggregation(leader));
  absl::SleepFor(absl::Seconds(2));
  EXPECT_FALSE(Leads(leader));
  EXPECT_TRUE(Leads(standby));
  SubmitSome(5);
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
}

TEST_F(LeaderElectionEndToEndTest, AFrozenLeaderIsSucceededAndExitsWhenThawed) {
  const int leader = TheLeader();
  const int standby = 1 - leader;
  SubmitSome(10);
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());

  // Frozen: its database session goes silent; after the lease the server
  // ends it and the standby is elected.
  aggregation_[leader].Signal(SIGSTOP);
  const absl::Duration took = WaitForLeader(standby, absl::Seconds(20));
  std::cout << "takeover after SIGSTOP: " << took << "\n";
  EXPECT_LT(took, absl::Seconds(10)) << "the takeover took " << took;
  // Submissions the frozen replica's stream queues while it sleeps.
  SubmitSome(10);
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
  const std::string fence = FenceEpoch();

  // Thawed: it finds it was succeeded, writes nothing, and exits with 3.
  aggregation_[leader].Signal(SIGCONT);
  absl::StatusOr<int> status = aggregation_[leader].WaitForExit(absl::Seconds(30));
  ASSERT_TRUE(status.ok()) << status.status() << "; log:\n" << aggregation_[leader].log();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 3)
      << "wait status " << *status << "; log:\n"
      << aggregation_[leader].log();
  EXPECT_EQ(FenceEpoch(), fence);
  EXPECT_TRUE(Leads(standby));
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
}

}  // namespace
}  // namespace halfsky::aggregation
