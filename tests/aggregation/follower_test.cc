// The follower against a real redis-server and a real gRPC WatchChanges
// server on loopback (FakeSubmission): commits, FLUSHALL mid-stream,
// restart-and-resume, Redis restart, submission restart, feed reset,
// Rebuild.
#include "services/aggregation/follower.h"

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/cache/cache_layout.h"
#include "common/redis/hiredis_client.h"
#include "gtest/gtest.h"
#include "tests/aggregation/cache_check.h"
#include "tests/aggregation/fake_submission.h"
#include "tests/aggregation/test_util.h"
#include "tests/support/process.h"

namespace halfsky::aggregation {
namespace {

using cache::IndexRedisKey;
using cache::kUpdatesChannel;
using cache::OpenSeriesValue;
using cache::ParseStoredSeries;
using cache::ParseUpdateMessage;
using cache::SeriesRedisKey;
using testing::FakeSubmission;
using testing::Fraction;
using testing::Key;
using testing::TestCatalog;
using testing::Value;

std::optional<int64_t> Cursor(RedisClient& redis) { return testing::CacheCursor(redis); }

class FollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = halfsky::testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_server_ = std::move(*redis);
    HiredisOptions opts;
    opts.port = redis_server_->port();
    opts.connect_timeout = absl::Milliseconds(300);
    opts.command_timeout = absl::Seconds(2);
    redis_ = std::make_unique<HiredisClient>(opts);
    probe_ = std::make_unique<HiredisClient>(opts);
    ASSERT_TRUE(submission_.Start());
  }
  void TearDown() override {
    follower_.reset();
    submission_.Stop();
  }

  void StartFollower(int queue_capacity = FollowerOptions().queue_capacity) {
    state_ = std::make_unique<AggregationState>(TestCatalog());
    FollowerOptions options;
    options.queue_capacity = queue_capacity;
    options.backoff_min = absl::Milliseconds(20);
    options.backoff_max = absl::Milliseconds(200);
    options.cursor_check_interval = absl::Milliseconds(100);
    follower_ = std::make_unique<Follower>(
        TestCatalog(),
        grpc::CreateChannel(submission_.address(), grpc::InsecureChannelCredentials()),
        redis_.get(), state_.get(), options);
    follower_->Start();
  }

  // Appends `n` random revisions (keys repeat, so many are revisions).
  void Feed(int n) {
    static const char* kAreas[] = {"610303",    "610303001",    "610303002",
                                   "610303100", "610303100001", "610303100002"};
    for (int i = 0; i < n; ++i) {
      const char* area = kAreas[1 + rng_() % 5];
      const int year = 2020 + static_cast<int>(rng_() % 3);
      const auto sex = static_cast<halfsky::v1::Sex>(1 + rng_() % 3);
      switch (rng_() % 3) {
        case 0:
          submission_.Append(Fraction(0, Key("HEALTH-01", area, year, sex),
                                      static_cast<double>(rng_() % 5),
                                      1000 + static_cast<double>(rng_() % 5000)));
          break;
        case 1:
          submission_.Append(
              Value(0, Key("HEALTH-03", area, year, sex), static_cast<double>(rng_() % 50)));
          break;
        default:
          submission_.Append(Fraction(0, Key("HEALTH-02", area, year), rng_() % 100, 100));
          break;
      }
    }
  }

  // Waits until Redis holds exactly the rebuild of the whole log and the
  // cursor is the log's head.
  void ExpectConverges(absl::Duration timeout = absl::Seconds(20)) {
    const auto log = submission_.Log();
    const std::string why =
        testing::WaitForCache(*probe_, static_cast<int64_t>(log.size()),
                              testing::ExpectedCache(TestCatalog(), log), timeout);
    EXPECT_EQ(why, "") << "Redis did not converge to the rebuild";
  }

  std::mt19937_64 rng_{42};
  std::unique_ptr<halfsky::testing::RedisServer> redis_server_;
  std::unique_ptr<HiredisClient> redis_;
  std::unique_ptr<HiredisClient> probe_;
  FakeSubmission submission_;
  std::unique_ptr<AggregationState> state_;
  std::unique_ptr<Follower> follower_;
};

TEST_F(FollowerTest, CommitsAggregatesWithCursorAndPublishes) {
  absl::Mutex mu;
  std::vector<std::string> messages;
  RedisSubscriptionCallbacks callbacks;
  callbacks.on_message = [&](const std::string&, const std::string& m) {
    absl::MutexLock lock(&mu);
    messages.push_back(m);
  };
  auto sub = probe_->Subscribe({kUpdatesChannel}, callbacks);
  ASSERT_TRUE(sub.ok());

  submission_.Append(Fraction(0, Key("HEALTH-01", "610303001", 2022), 1, 1000));
  StartFollower();
  ExpectConverges();

  // The district's aggregate as evaluation reads it.
  submission_.Append(Fraction(0, Key("HEALTH-01", "610303002", 2022), 0, 4000));
  ASSERT_TRUE(follower_->WaitForCommitted(2, absl::Seconds(10)));
  auto value = probe_->Get(
      SeriesRedisKey("HEALTH-01", "610303", halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_ALL));
  ASSERT_TRUE(value.ok() && value->has_value());
  // Tagged with the follower's (empty) MAC key.
  auto payload = OpenSeriesValue(
      "", SeriesRedisKey("HEALTH-01", "610303", halfsky::v1::SEX_TOTAL, halfsky::v1::RESIDENCE_ALL),
      **value);
  ASSERT_TRUE(payload.ok()) << payload.status();
  auto series = ParseStoredSeries("HEALTH-01", "610303", halfsky::v1::SEX_TOTAL,
                                  halfsky::v1::RESIDENCE_ALL, *payload);
  ASSERT_TRUE(series.ok()) << series.status();
  ASSERT_EQ(series->size(), 1u);
  const halfsky::v1::Aggregate& a = series->front();
  EXPECT_EQ(a.key().year(), 2022);
  EXPECT_DOUBLE_EQ(a.value(), 20);  // 1 / 5000 × 100 000
  EXPECT_EQ(a.as_of_sequence(), 2);
  auto index = probe_->HGetAll(IndexRedisKey("HEALTH-01"));
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE(index->count("610303:total:all"));
  EXPECT_EQ(Cursor(*probe_), 2);

  // The last message names the changed indicator and the new cursor.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    absl::MutexLock lock(&mu);
    if (!messages.empty() && messages.back().rfind("cursor=2 ", 0) == 0) {
      break;
    }
    mu.AwaitWithTimeout(absl::Condition::kTrue, absl::Milliseconds(20));
  }
  absl::MutexLock lock(&mu);
  ASSERT_FALSE(messages.empty());
  auto parsed = ParseUpdateMessage(messages.back());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->cursor, 2);
  EXPECT_FALSE(parsed->rebuild);
  EXPECT_EQ(parsed->indicator_ids, std::vector<std::string>{"HEALTH-01"});
  EXPECT_GT(parsed->version, 0);
}

TEST_F(FollowerTest, FlushAllMidStreamConvergesToRebuild) {
  Feed(200);
  StartFollower();
  ExpectConverges();
  ASSERT_TRUE(probe_->Command({"FLUSHALL"}).ok());
  Feed(50);
  ExpectConverges();
  // And once more while idle (detected by the periodic cursor check).
  ASSERT_TRUE(probe_->Command({"FLUSHALL"}).ok());
  ExpectConverges();
  EXPECT_GE(follower_->status().rewrites, 2);
}

TEST_F(FollowerTest, RestartResumesExactlyWithoutRewriting) {
  Feed(300);
  StartFollower();
  ExpectConverges();
  follower_.reset();  // stopped (as if killed between commits)
  Feed(100);
  StartFollower();
  ExpectConverges();
  // Resumed from the cursor: a partial commit, not a rewrite.
  EXPECT_EQ(follower_->status().rewrites, 0);
  EXPECT_EQ(follower_->status().committed_sequence, 400);
}

TEST_F(FollowerTest, RedisRestartIsRecoveredWithoutOperator) {
  Feed(100);
  StartFollower();
  ExpectConverges();
  redis_server_->Kill();
  Feed(50);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(follower_->status().redis_ok);
  EXPECT_EQ(follower_->status().committed_sequence, 100);
  ASSERT_TRUE(redis_server_->Restart().ok());
  ExpectConverges();
  Feed(20);
  ExpectConverges();
}

TEST_F(FollowerTest, SubmissionRestartIsRecovered) {
  Feed(100);
  StartFollower();
  ExpectConverges();
  const int port = submission_.port();
  submission_.Stop();
  Feed(30);  // committed while the feed is unreachable
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(submission_.Start(port));
  ExpectConverges();
  EXPECT_EQ(follower_->status().builds, 1);  // reconnected, not rebuilt
}

TEST_F(FollowerTest, StartsWhenSubmissionIsDownAndCatchesUp) {
  const int port = submission_.port();
  submission_.Stop();
  Feed(40);
  StartFollower();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_FALSE(state_->ready());
  ASSERT_TRUE(submission_.Start(port));
  ExpectConverges();
  EXPECT_TRUE(state_->ready());
}

TEST_F(FollowerTest, RebuildRecomputesFromSequenceZero) {
  Feed(150);
  StartFollower();
  ExpectConverges();
  // Corrupt the cache behind the follower's back (keeping the cursor): only
  // a rebuild repairs this.
  ASSERT_TRUE(probe_
                  ->Set(SeriesRedisKey("HEALTH-03", "610303", halfsky::v1::SEX_TOTAL,
                                       halfsky::v1::RESIDENCE_ALL),
                        "garbage")
                  .ok());
  absl::Mutex mu;
  std::optional<absl::StatusOr<halfsky::v1::RebuildResponse>> result;
  follower_->RequestRebuild([&](absl::StatusOr<halfsky::v1::RebuildResponse> r) {
    absl::MutexLock lock(&mu);
    result = std::move(r);
  });
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(
        absl::Condition(
            +[](std::optional<absl::StatusOr<halfsky::v1::RebuildResponse>>* r) {
              return r->has_value();
            },
            &result),
        absl::Seconds(20)));
    ASSERT_TRUE(result->ok()) << result->status();
    EXPECT_EQ((*result)->as_of_sequence(), 150);
    EXPECT_GT((*result)->aggregate_count(), 0);
    EXPECT_GT((*result)->data_value_count(), 0);
  }
  ExpectConverges();
  EXPECT_EQ(follower_->status().builds, 2);
}

// The build from sequence 0 ends at the first heartbeat; events after it in
// the same message are live. They are carried over into the follow loop,
// applied in order, and committed.
TEST_F(FollowerTest, LiveRevisionsInTheHeartbeatsMessageAreCarriedOver) {
  Feed(150);  // the backlog, in two messages
  // A new key, then two revisions of one key (the later must win).
  submission_.SendWithNextHeartbeat({Fraction(0, Key("HEALTH-01", "610303100001", 2024), 3, 2000),
                                     Value(0, Key("HEALTH-03", "610303001", 2021), 7),
                                     Value(0, Key("HEALTH-03", "610303001", 2021), 9)});
  StartFollower();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (submission_.Log().size() < 153 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(submission_.Log().size(), 153u) << "the fake did not send them with its heartbeat";
  ExpectConverges();  // the cache of the whole log: the 9, not the 7
  EXPECT_EQ(follower_->status().applied_sequence, 153);
  EXPECT_EQ(follower_->status().builds, 1);
}

// Messages are queued whole: a queue bound smaller than one message still
// passes every message (one at a time) instead of waiting forever.
TEST_F(FollowerTest, AQueueSmallerThanAMessageStillPassesEveryMessage) {
  Feed(450);  // messages of 100 revisions
  StartFollower(/*queue_capacity=*/1);
  ExpectConverges();
  Feed(250);  // and live
  ExpectConverges();
  EXPECT_EQ(follower_->status().builds, 1);
}

// A follower stopped at any point of its build ends its stream cleanly,
// with a read outstanding or paused on a full queue (no read outstanding;
// with capacity 1 the queue is full after every message, so most of these
// stops find it paused). With the paused case's release of its hold
// removed, this hangs. Then a stream the server ends while the follower
// runs, and a follower stopped after that. (Run under the sanitizer build
// too.)
TEST_F(FollowerTest, StoppingAtEveryPointOfTheBuildEndsTheStreamCleanly) {
  Feed(3000);
  for (int i = 0; i < 24; ++i) {
    StartFollower(/*queue_capacity=*/1 + (i % 3) * 150);
    absl::SleepFor(absl::Milliseconds(i * 3));
    follower_.reset();
  }
  StartFollower(/*queue_capacity=*/1);
  ExpectConverges();
  submission_.Stop();  // the stream ends under the running follower
  absl::SleepFor(absl::Milliseconds(100));
  follower_.reset();
}

TEST_F(FollowerTest, FeedResetTriggersRebuild) {
  Feed(80);
  StartFollower();
  ExpectConverges();
  submission_.Reset();  // the store was replaced: head goes back to 0
  Feed(30);
  ExpectConverges();
}

}  // namespace
}  // namespace halfsky::aggregation
