// RedisWriter on a real redis-server. The leader fence (redis_writer.h,
// "Fencing"): a writer whose epoch was succeeded writes nothing — no
// commit, no step of a rewrite — and a claim never goes backwards. And a
// rewrite over a large cache deletes exactly what it did not write.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/cache/cache_layout.h"
#include "common/redis/hiredis_client.h"
#include "gtest/gtest.h"
#include "services/aggregation/aggregator.h"
#include "services/aggregation/redis_writer.h"
#include "tests/aggregation/test_util.h"
#include "tests/support/process.h"

namespace halfsky::aggregation {
namespace {

using testing::Key;
using testing::TestCatalog;
using testing::Value;

class RedisFenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = halfsky::testing::RedisServer::Start();
    ASSERT_TRUE(redis.ok()) << redis.status();
    server_ = std::move(*redis);
    HiredisOptions o;
    o.port = server_->port();
    redis_ = std::make_unique<HiredisClient>(o);
    agg_ = std::make_unique<Aggregator>(TestCatalog());
  }

  // Applies one revision; returns the cells it changed.
  std::vector<CellId> Apply(int64_t sequence, double value) {
    ChangeSet changes;
    EXPECT_TRUE(agg_->Apply(Value(sequence, Key("HEALTH-03", "610303001", 2022), value), &changes));
    return std::vector<CellId>(changes.cells.begin(), changes.cells.end());
  }

  std::optional<std::string> Get(const std::string& key) {
    auto v = redis_->Get(key);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : std::nullopt;
  }

  std::unique_ptr<halfsky::testing::RedisServer> server_;
  std::unique_ptr<HiredisClient> redis_;
  std::unique_ptr<Aggregator> agg_;
};

TEST_F(RedisFenceTest, ASucceededWriterWritesNothing) {
  RedisWriter old_leader(redis_.get());
  old_leader.set_fence_epoch(7);
  ASSERT_TRUE(old_leader.ClaimFence().ok());
  EXPECT_EQ(Get(cache::kLeaderEpochKey), "7");
  ASSERT_TRUE(old_leader.RewriteAll(*agg_, CachePosition(0, 0)).ok());
  auto cells = Apply(1, 5);
  auto first = old_leader.Commit(*agg_, cells, CachePosition(1, 0), false,
                                 [](const std::optional<CachePosition>& c) { return true; });
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->applied);
  EXPECT_EQ(Get(cache::kCursorKey), "1");

  // A new leader claims the cache.
  RedisWriter new_leader(redis_.get());
  new_leader.set_fence_epoch(8);
  ASSERT_TRUE(new_leader.ClaimFence().ok());
  EXPECT_EQ(Get(cache::kLeaderEpochKey), "8");
  // Claiming again with the same epoch is fine (a retried claim).
  EXPECT_TRUE(new_leader.ClaimFence().ok());

  // The old leader's guarded commit, unguarded commit and rewrite are all
  // refused; the cursor and the version do not move.
  const auto version = Get(cache::kVersionKey);
  cells = Apply(2, 6);
  auto guarded = old_leader.Commit(*agg_, cells, CachePosition(2, 0), false,
                                   [](const std::optional<CachePosition>& c) { return true; });
  EXPECT_TRUE(RedisWriter::IsLeaderSuperseded(guarded.status())) << guarded.status();
  auto unguarded = old_leader.Commit(*agg_, cells, CachePosition(2, 0), false);
  EXPECT_TRUE(RedisWriter::IsLeaderSuperseded(unguarded.status())) << unguarded.status();
  auto rewrite = old_leader.RewriteAll(*agg_, CachePosition(2, 0));
  EXPECT_TRUE(RedisWriter::IsLeaderSuperseded(rewrite.status())) << rewrite.status();
  EXPECT_NE(std::string(rewrite.status().message()).find("8"), std::string::npos)
      << rewrite.status();
  EXPECT_EQ(Get(cache::kCursorKey), "1");
  EXPECT_EQ(Get(cache::kVersionKey), version);
  // An older epoch cannot claim the cache back.
  EXPECT_TRUE(RedisWriter::IsLeaderSuperseded(old_leader.ClaimFence()));
  EXPECT_EQ(Get(cache::kLeaderEpochKey), "8");

  // The new leader writes; a full rewrite keeps the fence key.
  auto commit = new_leader.Commit(*agg_, cells, CachePosition(2, 0), false,
                                  [](const std::optional<CachePosition>& c) { return true; });
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_EQ(Get(cache::kCursorKey), "2");
  ASSERT_TRUE(new_leader.RewriteAll(*agg_, CachePosition(2, 0)).ok());
  EXPECT_EQ(Get(cache::kLeaderEpochKey), "8");
  EXPECT_EQ(Get(cache::kCursorKey), "2");
}

TEST_F(RedisFenceTest, ALostKeyIsClaimedBackAndTheNewestLeaderWinsIt) {
  RedisWriter old_leader(redis_.get());
  old_leader.set_fence_epoch(7);
  RedisWriter leader(redis_.get());
  leader.set_fence_epoch(8);
  ASSERT_TRUE(leader.ClaimFence().ok());
  ASSERT_TRUE(leader.RewriteAll(*agg_, CachePosition(0, 0)).ok());
  // Redis loses everything (FLUSHALL, a failover that lost writes): the
  // leader's next write claims the key again and goes through.
  ASSERT_TRUE(redis_->Command({"FLUSHALL"}).ok());
  auto cells = Apply(1, 5);
  auto commit = leader.Commit(*agg_, cells, CachePosition(1, 0), false);
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_EQ(Get(cache::kLeaderEpochKey), "8");
  // After another loss a predecessor may get the key back for a while ...
  ASSERT_TRUE(redis_->Command({"FLUSHALL"}).ok());
  ASSERT_TRUE(old_leader.RewriteAll(*agg_, CachePosition(1, 0)).ok());
  EXPECT_EQ(Get(cache::kLeaderEpochKey), "7");
  // ... until the newest leader's next write takes it back for good.
  cells = Apply(2, 6);
  ASSERT_TRUE(leader
                  .Commit(*agg_, cells, CachePosition(2, 0), false,
                          [](const std::optional<CachePosition>&) { return true; })
                  .ok());
  EXPECT_EQ(Get(cache::kLeaderEpochKey), "8");
  auto refused = old_leader.Commit(*agg_, cells, CachePosition(2, 0), false);
  EXPECT_TRUE(RedisWriter::IsLeaderSuperseded(refused.status())) << refused.status();
  EXPECT_EQ(Get(cache::kCursorKey), "2");
}

TEST_F(RedisFenceTest, UnfencedWriterIgnoresTheKey) {
  // One aggregator (no election): the fence key plays no part.
  ASSERT_TRUE(redis_->Set(cache::kLeaderEpochKey, "99").ok());
  RedisWriter writer(redis_.get());
  ASSERT_TRUE(writer.RewriteAll(*agg_, CachePosition(0, 0)).ok());
  auto cells = Apply(1, 5);
  ASSERT_TRUE(writer.Commit(*agg_, cells, CachePosition(1, 0), false).ok());
  EXPECT_EQ(Get(cache::kCursorKey), "1");
}

// The rewrite lists the keys (SCAN, 1 000 a page: several pages here) and
// writes one series per round trip: what it wrote stays, every other
// aggregate key goes (stale series, a stale index field, a key of an older
// layout), and the fence stays.
TEST_F(RedisFenceTest, ARewriteOverALargeCacheDeletesExactlyWhatItDidNotWrite) {
  int64_t seq = 0;
  for (const char* area : {"610303001", "610303002", "610303100001", "610303100002"}) {
    for (int year = 2021; year <= 2023; ++year) {
      for (auto sex : {halfsky::v1::SEX_FEMALE, halfsky::v1::SEX_MALE}) {
        ++seq;
        ASSERT_TRUE(agg_->Apply(Value(seq, Key("HEALTH-03", area, year, sex), seq), nullptr));
      }
    }
  }
  RedisWriter writer(redis_.get());
  writer.set_fence_epoch(3);
  ASSERT_TRUE(writer.ClaimFence().ok());
  writer.set_pipeline_chunk(1);
  ASSERT_TRUE(writer.RewriteAll(*agg_, CachePosition(seq, 0)).ok());
  auto written = redis_->ScanKeys(cache::kAnyLayoutKeyPattern);
  ASSERT_TRUE(written.ok()) << written.status();
  std::vector<std::pair<std::string, std::optional<std::string>>> series;
  for (const std::string& k : *written) {
    if (absl::StartsWith(k, cache::kSeriesKeyPrefix)) {
      series.emplace_back(k, Get(k));
    }
  }
  ASSERT_GE(series.size(), 8u);  // 4 areas × 2 sexes, and their parents'

  // 6 000 stale series among them, a stale field in a live index, an older
  // layout's key.
  std::vector<std::vector<std::string>> sets;
  for (int i = 0; i < 6000; ++i) {
    sets.push_back({"SET",
                    cache::SeriesRedisKey("HEALTH-01", absl::StrCat("9", i), halfsky::v1::SEX_TOTAL,
                                          halfsky::v1::RESIDENCE_ALL),
                    "stale"});
  }
  sets.push_back({"HSET", cache::IndexRedisKey("HEALTH-03"), "999:total:all", ""});
  sets.push_back({"SET", "halfsky:agg:v2:s:HEALTH-03:610303:total:all", "old layout"});
  ASSERT_TRUE(redis_->Pipeline(sets).ok());

  ASSERT_TRUE(writer.RewriteAll(*agg_, CachePosition(seq, 0)).ok());
  auto after = redis_->ScanKeys(cache::kAnyLayoutKeyPattern);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, *written);  // sorted, both
  for (const auto& [k, v] : series) {
    EXPECT_EQ(Get(k), v) << k;
  }
  auto index = redis_->HGetAll(cache::IndexRedisKey("HEALTH-03"));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_FALSE(index->count("999:total:all"));
  EXPECT_EQ(Get(cache::kLeaderEpochKey), "3");
}

}  // namespace
}  // namespace halfsky::aggregation
