// The REAL halfsky-aggregation binary following the REAL halfsky-submission
// binary (child processes, tests/support/suite.h) with a real redis-server,
// under a steady submission load, through faults: the aggregation process
// SIGKILLed mid-stream and restarted, the submission service restarted,
// Redis restarted, FLUSHALL mid-stream. After each, Redis must equal a
// rebuild from scratch of the submission service's whole change feed (read
// back with WatchChanges): nothing lost, nothing counted twice (the load
// includes COUNT indicators, whose parents would double). Also scrapes the
// aggregation process' /metrics and sees the follower's metrics move.
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/redis/hiredis_client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/aggregation/cache_check.h"
#include "tests/aggregation/test_util.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky::aggregation {
namespace {

using halfsky::testing::MetricSample;
using halfsky::testing::ServiceBinary;
using halfsky::testing::ServiceProcess;
using testing::TestCatalog;
using testing::TestCatalogPath;

// The leaf areas of the test catalog (their parents are aggregated).
constexpr const char* kLeaves[] = {"610303001", "610303002", "610303100001", "610303100002"};

// The i-th submitted batch: 6 values over COUNT and RATE indicators, keys
// cycling so that most values revise an earlier one.
halfsky::v1::SubmitBatchRequest Batch(int64_t i) {
  halfsky::v1::SubmitBatchRequest request;
  request.set_request_id(absl::StrCat("e2e-", i, "-", ::getpid()));
  for (int j = 0; j < 6; ++j) {
    const int64_t k = i * 6 + j;
    auto* v = request.add_data_values();
    auto* key = v->mutable_key();
    key->set_area_code(kLeaves[k % 4]);
    key->set_year(2020 + static_cast<int>((k / 4) % 5));
    key->set_sex(halfsky::v1::SEX_TOTAL);
    key->set_residence(halfsky::v1::RESIDENCE_ALL);
    switch ((k / 20) % 3) {
      case 0:
        key->set_indicator_id("HEALTH-03");
        v->set_value(static_cast<double>(k % 37));
        break;
      case 1:
        key->set_indicator_id("EDU-02");
        v->set_value(static_cast<double>(100 + k % 53));
        break;
      default:
        key->set_indicator_id("HEALTH-01");
        v->mutable_fraction()->set_numerator(static_cast<double>(k % 7));
        v->mutable_fraction()->set_denominator(1000.0 + static_cast<double>(k % 11));
        break;
    }
    v->set_source("aggregation e2e");
  }
  return request;
}

class AggregationEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"submission", "aggregation"}) {
      ASSERT_TRUE(std::ifstream(ServiceBinary(name)).good())
          << ServiceBinary(name) << " is not built";
    }
    dir_ = halfsky::testing::MakeTempDir("aggregation-e2e");
    auto redis = halfsky::testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_server_ = std::move(*redis);
    HiredisOptions opts;
    opts.port = redis_server_->port();
    opts.connect_timeout = absl::Milliseconds(300);
    probe_ = std::make_unique<HiredisClient>(opts);
    // A fixed port, so that a restarted submission service is found again
    // at the address the aggregation service was given (the later --listen
    // overrides the suite's --listen=127.0.0.1:0).
    submission_port_ = halfsky::testing::FreePort();
    ASSERT_TRUE(submission_
                    .Start(dir_, "submission", ServiceBinary("submission"), TestCatalogPath(), "",
                           {"--db=" + dir_ + "/submission.db",
                            absl::StrCat("--listen=127.0.0.1:", submission_port_)})
                    .ok());
    ASSERT_EQ(submission_.address(), absl::StrCat("127.0.0.1:", submission_port_));
    stub_ = halfsky::v1::SubmissionService::NewStub(
        grpc::CreateChannel(submission_.address(), grpc::InsecureChannelCredentials()));
    ASSERT_NO_FATAL_FAILURE(StartAggregation());
  }

  void TearDown() override {
    StopLoad();
    EXPECT_TRUE(aggregation_.Stop().ok());
    EXPECT_TRUE(submission_.Stop().ok());
  }

  void StartAggregation() {
    const absl::Status st = aggregation_.Start(
        dir_, "aggregation", ServiceBinary("aggregation"), TestCatalogPath(), "",
        {"--submission=" + submission_.address(), "--redis=" + redis_server_->address()});
    ASSERT_TRUE(st.ok()) << st;
  }

  // Submits batch `i`; false on any error (e.g. submission down).
  bool Submit(int64_t i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    halfsky::v1::SubmitBatchResponse response;
    const grpc::Status st = stub_->SubmitBatch(&ctx, Batch(i), &response);
    if (!st.ok() && last_error_.empty()) {
      last_error_ = st.error_message();
    }
    return st.ok();
  }

  // A background thread submitting a batch every ~5 ms (errors ignored:
  // the submission service may be down on purpose).
  void StartLoad() {
    stop_load_ = false;
    load_ = std::thread([this] {
      while (!stop_load_) {
        if (Submit(next_batch_)) {
          ++next_batch_;
        }
        absl::SleepFor(absl::Milliseconds(5));
      }
    });
  }
  void StopLoad() {
    stop_load_ = true;
    if (load_.joinable()) {
      load_.join();
    }
  }
  // Lets the load run until `n` more batches were accepted.
  void LetRun(int64_t n) {
    const int64_t target = next_batch_ + n;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (next_batch_ < target && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    ASSERT_GE(next_batch_, target) << "the load stalled: " << last_error_;
  }

  // The submission service's whole change feed (WatchChanges from 0 up to
  // the first heartbeat).
  std::vector<halfsky::v1::Revision> FeedLog() { return testing::ReadFeedLog(*stub_); }

  // Stops the load and waits until Redis equals a rebuild of the feed.
  void ExpectRedisEqualsRebuild() {
    StopLoad();
    const auto log = FeedLog();
    ASSERT_FALSE(log.empty());
    const int64_t head = log.back().sequence();
    const std::string why = testing::WaitForCache(
        *probe_, head, testing::ExpectedCache(TestCatalog(), log), absl::Seconds(60));
    ASSERT_EQ(why, "") << "Redis does not equal a rebuild of " << log.size()
                       << " revisions; aggregation log:\n"
                       << aggregation_.log();
  }

  // GET /metrics of the running aggregation process.
  std::string Metrics() {
    auto page = aggregation_.Metrics();
    if (!page.ok()) {
      ADD_FAILURE() << page.status();
      return "";
    }
    return *page;
  }
  // Polls /metrics until `name` satisfies `ok`; returns the last value.
  template <typename Pred>
  std::optional<double> WaitForMetric(const std::string& name, Pred ok) {
    std::optional<double> v;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    do {
      v = MetricSample(Metrics(), name);
      if (v && ok(*v)) {
        return v;
      }
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    ADD_FAILURE() << name << " did not reach the expected value; last "
                  << (v ? absl::StrCat(*v) : "absent") << "\n"
                  << Metrics();
    return v;
  }

  std::string dir_;
  std::unique_ptr<halfsky::testing::RedisServer> redis_server_;
  std::unique_ptr<HiredisClient> probe_;
  int submission_port_ = 0;
  ServiceProcess submission_;
  ServiceProcess aggregation_;
  std::unique_ptr<halfsky::v1::SubmissionService::Stub> stub_;
  std::thread load_;
  std::atomic<bool> stop_load_{false};
  std::atomic<int64_t> next_batch_{0};
  std::string last_error_;
};

// The load runs over 60 keys, so a few dozen batches revise every series and
// would hide a lost commit. Each check below therefore follows the fault
// with at most a few batches (or none): what was missed stays missed.

TEST_F(AggregationEndToEndTest, AggregationKilledMidStreamResumesExactly) {
  StartLoad();
  ASSERT_NO_FATAL_FAILURE(LetRun(60));
  // Crash mid-stream: commits in flight are lost with the process.
  aggregation_.Kill();
  ASSERT_NO_FATAL_FAILURE(LetRun(40));  // the feed moves on while it is down
  StopLoad();
  // No more submissions: only resuming from the Redis cursor brings the
  // cache to the feed's head.
  ASSERT_NO_FATAL_FAILURE(StartAggregation());
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
  // It resumed (a delta commit) instead of rewriting the whole cache.
  const std::string page = Metrics();
  EXPECT_EQ(MetricSample(page, "halfsky_aggregation_rebuilds_total"), 0.0) << page;

  // Killed again right after a restart, under load.
  StartLoad();
  ASSERT_NO_FATAL_FAILURE(LetRun(20));
  aggregation_.Kill();
  ASSERT_NO_FATAL_FAILURE(StartAggregation());
  ASSERT_NO_FATAL_FAILURE(LetRun(5));
  aggregation_.Kill();
  ASSERT_NO_FATAL_FAILURE(LetRun(20));
  StopLoad();
  ASSERT_NO_FATAL_FAILURE(StartAggregation());
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
}

TEST_F(AggregationEndToEndTest, SubmissionRestartRedisRestartAndFlushAllConverge) {
  StartLoad();
  ASSERT_NO_FATAL_FAILURE(LetRun(30));
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());

  // The submission service restarts (same port, same database) under load.
  StartLoad();
  ASSERT_NO_FATAL_FAILURE(LetRun(20));
  ASSERT_TRUE(submission_.Stop().ok());
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(submission_.Restart().ok()) << submission_.log();
  ASSERT_EQ(submission_.address(), absl::StrCat("127.0.0.1:", submission_port_));
  ASSERT_NO_FATAL_FAILURE(LetRun(2));
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());

  // FLUSHALL mid-stream.
  StartLoad();
  ASSERT_NO_FATAL_FAILURE(LetRun(20));
  ASSERT_TRUE(probe_->Command({"FLUSHALL"}).ok());
  ASSERT_NO_FATAL_FAILURE(LetRun(2));
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());

  // Redis killed mid-stream and restarted (empty, or from its last
  // snapshot: either must converge).
  StartLoad();
  ASSERT_NO_FATAL_FAILURE(LetRun(20));
  redis_server_->Kill();
  ASSERT_NO_FATAL_FAILURE(LetRun(20));
  StopLoad();
  ASSERT_TRUE(redis_server_->Restart().ok());
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
}

TEST_F(AggregationEndToEndTest, MetricsMove) {
  // Ready, nothing committed beyond the empty feed yet.
  WaitForMetric("halfsky_aggregation_ready", [](double v) { return v == 1; });
  const double commits0 = MetricSample(Metrics(), "halfsky_aggregation_commits_total").value_or(-1);
  ASSERT_GE(commits0, 0);

  for (int64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(Submit(next_batch_++)) << last_error_;
  }
  const int64_t head = FeedLog().back().sequence();
  WaitForMetric("halfsky_aggregation_cursor", [&](double v) { return v == head; });
  WaitForMetric("halfsky_aggregation_lag_revisions", [](double v) { return v == 0; });
  WaitForMetric("halfsky_aggregation_feed_head_sequence", [&](double v) { return v == head; });
  WaitForMetric("halfsky_aggregation_commits_total", [&](double v) { return v > commits0; });
  const std::string page = Metrics();
  const auto latency_count = MetricSample(page, "halfsky_aggregation_commit_seconds_count");
  ASSERT_TRUE(latency_count.has_value()) << page;
  EXPECT_GT(*latency_count, 0);
  EXPECT_TRUE(absl::StrContains(page, "halfsky_aggregation_commit_seconds_bucket{le=")) << page;
  EXPECT_EQ(MetricSample(page, "halfsky_aggregation_redis_errors_total"), 0.0);
  const double rebuilds0 = MetricSample(page, "halfsky_aggregation_rebuilds_total").value_or(-1);
  ASSERT_GE(rebuilds0, 0);

  // FLUSHALL: detected, the cache is rewritten.
  ASSERT_TRUE(probe_->Command({"FLUSHALL"}).ok());
  WaitForMetric("halfsky_aggregation_rebuilds_total", [&](double v) { return v > rebuilds0; });

  // Redis down: errors counted, the cursor does not move; the feed head
  // does, and so does the lag.
  redis_server_->Kill();
  ASSERT_TRUE(Submit(next_batch_++)) << last_error_;
  const int64_t head2 = FeedLog().back().sequence();
  WaitForMetric("halfsky_aggregation_redis_errors_total", [](double v) { return v > 0; });
  WaitForMetric("halfsky_aggregation_feed_head_sequence", [&](double v) { return v == head2; });
  WaitForMetric("halfsky_aggregation_lag_revisions", [&](double v) { return v == head2 - head; });
  EXPECT_EQ(MetricSample(Metrics(), "halfsky_aggregation_cursor"), static_cast<double>(head));

  // Back: the lag drains.
  ASSERT_TRUE(redis_server_->Restart().ok());
  WaitForMetric("halfsky_aggregation_cursor", [&](double v) { return v == head2; });
  WaitForMetric("halfsky_aggregation_lag_revisions", [](double v) { return v == 0; });
}

}  // namespace
}  // namespace halfsky::aggregation
