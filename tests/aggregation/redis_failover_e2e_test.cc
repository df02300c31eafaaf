// The REAL halfsky-aggregation binary on Redis Sentinel (real processes,
// tests/support/redis_sentinel.h: a primary, a replica, three sentinels)
// through a failover that LOSES writes: the replica is stopped (SIGSTOP)
// and cut off by the primary (its replication buffer overflows), the
// aggregation service commits more revisions to the primary alone, then the
// primary is SIGKILLed and the replica resumed and promoted. The new
// primary's cursor is behind what aggregation committed; aggregation must
// notice (its commits are guarded by the cursor) and re-commit exactly the
// lost range, so that Redis equals a rebuild of the whole change feed — the
// same check as aggregation_e2e_test — without a full rewrite.
#include <signal.h>
#include <sys/types.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/cache/cache_layout.h"
#include "common/redis/hiredis_client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "halfsky/v1/submission.grpc.pb.h"
#include "tests/aggregation/cache_check.h"
#include "tests/aggregation/test_util.h"
#include "tests/support/process.h"
#include "tests/support/redis_sentinel.h"
#include "tests/support/suite.h"

namespace halfsky::aggregation {
namespace {

using halfsky::testing::MetricSample;
using halfsky::testing::RedisSentinelBed;
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

int ConnectedSlaves(HiredisClient& primary) {
  auto info = primary.Command({"INFO", "replication"});
  if (!info.ok()) {
    return -1;
  }
  const size_t at = info->str().find("connected_slaves:");
  return at == std::string::npos ? -1 : std::atoi(info->str().c_str() + at + 17);
}

class RedisFailoverEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"submission", "aggregation"}) {
      ASSERT_TRUE(std::ifstream(ServiceBinary(name)).good())
          << ServiceBinary(name) << " is not built";
    }
    dir_ = halfsky::testing::MakeTempDir("redis-failover-e2e");
    RedisSentinelBed::Options options;
    options.replicas = 1;
    options.sentinels = 3;
    options.quorum = 2;
    auto bed = RedisSentinelBed::Start(options);
    ASSERT_TRUE(bed.ok()) << bed.status();
    bed_ = std::move(*bed);
    // The probe follows the primary too.
    probe_ = std::make_unique<HiredisClient>(bed_->ClientOptions());
    ASSERT_TRUE(submission_
                    .Start(dir_, "submission", ServiceBinary("submission"), TestCatalogPath(), "",
                           {"--db=" + dir_ + "/submission.db"})
                    .ok());
    stub_ = halfsky::v1::SubmissionService::NewStub(
        grpc::CreateChannel(submission_.address(), grpc::InsecureChannelCredentials()));
    const absl::Status st =
        aggregation_.Start(dir_, "aggregation", ServiceBinary("aggregation"), TestCatalogPath(), "",
                           {"--submission=" + submission_.address(), "--redis=" + bed_->address()});
    ASSERT_TRUE(st.ok()) << st;
  }

  void TearDown() override {
    if (stopped_replica_ > 0) {
      kill(stopped_replica_, SIGCONT);
    }
    EXPECT_TRUE(aggregation_.Stop().ok());
    EXPECT_TRUE(submission_.Stop().ok());
  }

  void SubmitBatches(int n) {
    for (int i = 0; i < n; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      halfsky::v1::SubmitBatchResponse response;
      const grpc::Status st = stub_->SubmitBatch(&ctx, Batch(next_batch_++), &response);
      ASSERT_TRUE(st.ok()) << st.error_message();
    }
  }

  std::vector<halfsky::v1::Revision> FeedLog() { return testing::ReadFeedLog(*stub_); }

  int64_t Head() {
    const auto log = FeedLog();
    return log.empty() ? 0 : log.back().sequence();
  }

  void ExpectRedisEqualsRebuild() {
    const auto log = FeedLog();
    ASSERT_FALSE(log.empty());
    const int64_t head = log.back().sequence();
    const std::string why = testing::WaitForCache(
        *probe_, head, testing::ExpectedCache(TestCatalog(), log), absl::Seconds(60));
    ASSERT_EQ(why, "") << "Redis does not equal a rebuild of " << log.size()
                       << " revisions; aggregation log:\n"
                       << aggregation_.log();
  }

  std::string Metrics() {
    auto page = aggregation_.Metrics();
    return page.ok() ? *page : std::string();
  }

  // Waits until the cursor in `redis` is `sequence`.
  bool WaitForCursor(HiredisClient& redis, int64_t sequence, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (testing::CacheCursor(redis) == std::optional<int64_t>(sequence)) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::string dir_;
  std::unique_ptr<RedisSentinelBed> bed_;
  std::unique_ptr<HiredisClient> probe_;
  ServiceProcess submission_;
  ServiceProcess aggregation_;
  std::unique_ptr<halfsky::v1::SubmissionService::Stub> stub_;
  int64_t next_batch_ = 0;
  pid_t stopped_replica_ = -1;
};

TEST_F(RedisFailoverEndToEndTest, FailoverThatLostCommitsConvergesToARebuild) {
  ASSERT_NO_FATAL_FAILURE(SubmitBatches(30));
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
  const int old_port = bed_->server(0).port();
  ASSERT_TRUE(bed_->WaitForReplicasInSync(old_port, absl::Seconds(10)).ok());
  const std::optional<int64_t> replicated = testing::CacheCursor(*bed_->Direct(1));
  ASSERT_TRUE(replicated.has_value());
  // (The first start found no cursor: one full rewrite.)
  const std::optional<double> rebuilds_before =
      MetricSample(Metrics(), "halfsky_aggregation_rebuilds_total");
  ASSERT_TRUE(rebuilds_before.has_value());

  // Cut the replica off: stopped, it reads nothing; the primary's buffer
  // for it overflows (1 MiB hard limit) and the primary drops it.
  std::unique_ptr<HiredisClient> primary = bed_->Direct(0);
  stopped_replica_ = bed_->server(1).pid();
  ASSERT_EQ(kill(stopped_replica_, SIGSTOP), 0);
  ASSERT_TRUE(
      primary->Command({"CONFIG", "SET", "client-output-buffer-limit", "replica 1mb 1mb 0"}).ok());
  const std::string filler(4 << 20, 'x');
  for (int i = 0; i < 40 && ConnectedSlaves(*primary) != 0; ++i) {
    ASSERT_TRUE(primary->Set(absl::StrCat("test:filler:", i), filler).ok());
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(ConnectedSlaves(*primary), 0) << "the primary did not drop the stopped replica";
  ASSERT_TRUE(primary->Del({"test:filler:0"}).ok());  // free memory; lost too

  // Aggregation commits more revisions: on the primary only.
  ASSERT_NO_FATAL_FAILURE(SubmitBatches(12));
  const int64_t head = Head();
  ASSERT_TRUE(WaitForCursor(*primary, head, absl::Seconds(20))) << aggregation_.log();
  ASSERT_GT(head, *replicated);

  // The primary dies; the replica comes back and is promoted without them.
  bed_->server(0).Kill();
  ASSERT_EQ(kill(stopped_replica_, SIGCONT), 0);
  stopped_replica_ = -1;
  auto new_port = bed_->WaitForNewPrimary(old_port, absl::Seconds(40));
  ASSERT_TRUE(new_port.ok()) << new_port.status();
  ASSERT_EQ(*new_port, bed_->server(1).port());

  // No submission after the failover: only replaying the lost range brings
  // the new primary to the feed's head.
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
  const std::string page = Metrics();
  EXPECT_EQ(MetricSample(page, "halfsky_aggregation_catchups_total"), 1.0) << page;
  EXPECT_EQ(MetricSample(page, "halfsky_aggregation_rebuilds_total"), rebuilds_before) << page;
  EXPECT_TRUE(absl::StrContains(aggregation_.log(), "behind the committed")) << aggregation_.log();

  // And it keeps following on the new primary.
  ASSERT_NO_FATAL_FAILURE(SubmitBatches(5));
  ASSERT_NO_FATAL_FAILURE(ExpectRedisEqualsRebuild());
}

}  // namespace
}  // namespace halfsky::aggregation
