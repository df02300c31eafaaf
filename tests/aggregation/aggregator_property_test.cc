// Property: for random submission sequences with revisions, the incremental
// path (Apply, revision by revision, with replays) and a rebuild (Load all,
// in any order, then RecomputeAll) give identical aggregates, field by field;
// and every aggregate that changed between two points is named in the
// ChangeSet of the revisions applied in between.
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/aggregation/aggregator.h"
#include "tests/aggregation/test_util.h"

namespace halfsky::aggregation {
namespace {

using testing::Fraction;
using testing::Key;
using testing::Narrative;
using testing::Published;
using testing::TestCatalog;
using testing::Value;

std::map<std::string, std::string> Snapshot(const Aggregator& agg) {
  std::map<std::string, std::string> out;
  agg.ForEach([&](const halfsky::v1::Aggregate& a) {
    std::string bytes;
    a.SerializeToString(&bytes);
    out[a.key().SerializeAsString()] = bytes;
  });
  return out;
}

std::vector<halfsky::v1::Revision> RandomFeed(std::mt19937_64& rng, int n) {
  const auto catalog = TestCatalog();
  std::vector<std::string> indicators;
  for (const auto& ind : catalog->catalog().indicators()) {
    indicators.push_back(ind.id());
  }
  std::vector<std::string> areas;
  for (const auto& area : catalog->catalog().areas()) {
    areas.push_back(area.code());
  }
  auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<uint64_t>(k)); };
  std::uniform_real_distribution<double> real(0, 1000);
  std::vector<halfsky::v1::Revision> feed;
  // A small key space so that keys are revised often.
  for (int seq = 1; seq <= n; ++seq) {
    const auto& ind_id = indicators[pick(indicators.size())];
    const auto* ind = catalog->FindIndicator(ind_id);
    // Leaves more often than parents, but parents too (direct figures).
    const std::string& area =
        pick(3) == 0 ? areas[pick(areas.size())] : areas[areas.size() - 1 - pick(4)];
    const int year = 2020 + pick(4);
    const auto sex = static_cast<halfsky::v1::Sex>(1 + pick(3));
    const auto res = static_cast<halfsky::v1::Residence>(1 + pick(2));
    const auto key = Key(ind_id, area, year, sex, res);
    switch (ind->kind()) {
      case halfsky::v1::INDICATOR_KIND_RATE:
      case halfsky::v1::INDICATOR_KIND_PROPORTION: {
        if (pick(6) == 0) {
          // A published figure: never summed, named by the parent.
          feed.push_back(Published(seq, key, real(rng) / 10));
          break;
        }
        const double den = pick(10) == 0 ? 0 : 1 + real(rng);
        feed.push_back(Fraction(seq, key, real(rng) / 7, den));
        break;
      }
      case halfsky::v1::INDICATOR_KIND_QUALITATIVE:
        feed.push_back(Narrative(seq, key, "进展"));
        break;
      default:
        feed.push_back(Value(seq, key, pick(5) == 0 ? 0 : real(rng) / 3));
        break;
    }
  }
  return feed;
}

TEST(AggregatorPropertyTest, IncrementalEqualsRebuildForRandomFeeds) {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    const auto feed = RandomFeed(rng, 50 + static_cast<int>(rng() % 400));

    Aggregator incremental(TestCatalog());
    auto before = Snapshot(incremental);
    ChangeSet changes;
    size_t i = 0;
    while (i < feed.size()) {
      // Random batches; sometimes re-deliver an earlier revision (replay).
      const size_t batch = 1 + rng() % 20;
      for (size_t j = 0; j < batch && i < feed.size(); ++j, ++i) {
        incremental.Apply(feed[i], &changes);
        if (rng() % 10 == 0) {
          incremental.Apply(feed[rng() % (i + 1)], &changes);
        }
      }
      auto after = Snapshot(incremental);
      std::set<std::string> named;
      for (CellId cell : changes.cells) {
        named.insert(incremental.KeyOf(cell).SerializeAsString());
      }
      for (const auto& [key, bytes] : after) {
        auto it = before.find(key);
        if (it == before.end() || it->second != bytes) {
          ASSERT_TRUE(named.count(key)) << "changed but not in the ChangeSet";
        }
      }
      ASSERT_EQ(before.size() <= after.size(), true) << "aggregates never disappear";
      before = std::move(after);
      changes.Clear();
    }

    Aggregator rebuilt(TestCatalog());
    auto shuffled = feed;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (const auto& r : shuffled) {
      rebuilt.Load(r);
    }
    rebuilt.RecomputeAll();

    const auto a = Snapshot(incremental);
    const auto b = Snapshot(rebuilt);
    ASSERT_FALSE(a.empty());
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [key, bytes] : a) {
      auto it = b.find(key);
      ASSERT_NE(it, b.end());
      if (it->second != bytes) {
        halfsky::v1::Aggregate x, y;
        x.ParseFromString(bytes);
        y.ParseFromString(it->second);
        FAIL() << "incremental: " << x.ShortDebugString() << "\nrebuilt: " << y.ShortDebugString();
      }
    }
    EXPECT_EQ(incremental.data_value_count(), rebuilt.data_value_count());
    EXPECT_EQ(incremental.aggregate_count(), rebuilt.aggregate_count());
    EXPECT_EQ(incremental.last_sequence(), rebuilt.last_sequence());
  }
}

// Approval (review forms): form changes interleaved with the revisions give
// the same part_count / approved_part_count incrementally (ApplyFormChange,
// with replays) as a rebuild that loads every revision and form change in
// any order; every cell whose approval moved is in the ChangeSet.
halfsky::v1::FormChange Form(int64_t seq, const std::string& unit, const std::string& area,
                             int year, bool approved) {
  halfsky::v1::FormChange c;
  c.set_form_sequence(seq);
  c.mutable_key()->set_unit_code(unit);
  c.mutable_key()->set_area_code(area);
  c.mutable_key()->set_year(year);
  c.set_state(approved ? halfsky::v1::FORM_STATE_APPROVED : halfsky::v1::FORM_STATE_DRAFT);
  return c;
}

TEST(AggregatorPropertyTest, ApprovalIncrementalEqualsRebuild) {
  const auto catalog = TestCatalog();
  std::vector<std::string> areas;
  for (const auto& area : catalog->catalog().areas()) {
    areas.push_back(area.code());
  }
  const std::vector<std::string> units = {"HEALTH_BUREAU", "EDU_BUREAU"};
  int64_t approved_seen = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937_64 rng(seed);
    const auto feed = RandomFeed(rng, 50 + static_cast<int>(rng() % 300));
    std::vector<halfsky::v1::FormChange> forms;
    const int n_forms = 5 + static_cast<int>(rng() % 60);
    for (int f = 1; f <= n_forms; ++f) {
      forms.push_back(Form(f, units[rng() % units.size()], areas[rng() % areas.size()],
                           2020 + static_cast<int>(rng() % 4), rng() % 3 != 0));
    }

    Aggregator incremental(catalog);
    auto before = Snapshot(incremental);
    ChangeSet changes;
    size_t i = 0;
    size_t f = 0;
    while (i < feed.size() || f < forms.size()) {
      const size_t batch = 1 + rng() % 10;
      for (size_t j = 0; j < batch; ++j) {
        if (f < forms.size() && (i >= feed.size() || rng() % 4 == 0)) {
          incremental.ApplyFormChange(forms[f], &changes);
          if (rng() % 8 == 0) {
            incremental.ApplyFormChange(forms[rng() % (f + 1)], &changes);  // replay
          }
          ++f;
        } else if (i < feed.size()) {
          incremental.Apply(feed[i++], &changes);
        }
      }
      auto after = Snapshot(incremental);
      std::set<std::string> named;
      for (CellId cell : changes.cells) {
        named.insert(incremental.KeyOf(cell).SerializeAsString());
      }
      for (const auto& [key, bytes] : after) {
        auto it = before.find(key);
        if (it == before.end() || it->second != bytes) {
          ASSERT_TRUE(named.count(key)) << "changed but not in the ChangeSet";
        }
      }
      before = std::move(after);
      changes.Clear();
    }
    EXPECT_EQ(incremental.last_form_sequence(), n_forms);

    Aggregator rebuilt(catalog);
    auto shuffled = feed;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    // Form changes in their own order (the feed's), revisions in any.
    size_t k = 0;
    for (const auto& r : shuffled) {
      rebuilt.Load(r);
      if (k < forms.size() && rng() % 3 == 0) {
        rebuilt.LoadFormChange(forms[k++]);
      }
    }
    for (; k < forms.size(); ++k) {
      rebuilt.LoadFormChange(forms[k]);
    }
    rebuilt.RecomputeAll();

    const auto a = Snapshot(incremental);
    const auto b = Snapshot(rebuilt);
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [key, bytes] : a) {
      auto it = b.find(key);
      ASSERT_NE(it, b.end());
      halfsky::v1::Aggregate x, y;
      x.ParseFromString(bytes);
      y.ParseFromString(it->second);
      ASSERT_EQ(it->second, bytes)
          << "incremental: " << x.ShortDebugString() << "\nrebuilt: " << y.ShortDebugString();
      ASSERT_LE(x.approved_part_count(), x.part_count());
      if (x.has_value()) {
        ASSERT_GE(x.part_count(), 1) << x.ShortDebugString();
      }
      approved_seen += x.approved_part_count();
    }
  }
  EXPECT_GT(approved_seen, 0) << "no approved figure at all: the test would prove nothing";
}

// A direct leaf figure is approved exactly while its responsible unit's form
// of that area and year is approved; the parent counts its children's parts.
TEST(AggregatorApprovalTest, ApproveAndUnlockMoveTheCountsUpTheTree) {
  Aggregator agg(TestCatalog());
  ChangeSet changes;
  agg.Apply(Fraction(1, Key("HEALTH-01", "610303001", 2022), 1, 1000), &changes);
  agg.Apply(Fraction(2, Key("HEALTH-01", "610303002", 2022), 2, 1000), &changes);
  auto district = agg.Get(Key("HEALTH-01", "610303", 2022));
  ASSERT_TRUE(district.has_value());
  EXPECT_EQ(district->part_count(), 2);
  EXPECT_EQ(district->approved_part_count(), 0);

  changes.Clear();
  EXPECT_TRUE(agg.ApplyFormChange(Form(1, "HEALTH_BUREAU", "610303001", 2022, true), &changes));
  EXPECT_FALSE(changes.empty());
  EXPECT_EQ(agg.Get(Key("HEALTH-01", "610303001", 2022))->approved_part_count(), 1);
  EXPECT_EQ(agg.Get(Key("HEALTH-01", "610303", 2022))->approved_part_count(), 1);
  // Another unit's form does not approve HEALTH-01.
  EXPECT_TRUE(agg.ApplyFormChange(Form(2, "EDU_BUREAU", "610303002", 2022, true), &changes));
  EXPECT_EQ(agg.Get(Key("HEALTH-01", "610303", 2022))->approved_part_count(), 1);
  EXPECT_TRUE(agg.ApplyFormChange(Form(3, "HEALTH_BUREAU", "610303002", 2022, true), &changes));
  EXPECT_EQ(agg.Get(Key("HEALTH-01", "610303", 2022))->approved_part_count(), 2);
  // A replay changes nothing; unlock takes it back.
  changes.Clear();
  EXPECT_FALSE(agg.ApplyFormChange(Form(3, "HEALTH_BUREAU", "610303002", 2022, false), &changes));
  EXPECT_TRUE(changes.empty());
  EXPECT_TRUE(agg.ApplyFormChange(Form(4, "HEALTH_BUREAU", "610303002", 2022, false), &changes));
  EXPECT_EQ(agg.Get(Key("HEALTH-01", "610303", 2022))->approved_part_count(), 1);
  EXPECT_EQ(agg.Get(Key("HEALTH-01", "610303002", 2022))->approved_part_count(), 0);
  // Another year is untouched.
  agg.Apply(Fraction(5, Key("HEALTH-01", "610303001", 2023), 1, 1000), &changes);
  EXPECT_EQ(agg.Get(Key("HEALTH-01", "610303001", 2023))->approved_part_count(), 0);
}

}  // namespace
}  // namespace halfsky::aggregation
