// Withdrawn figures (Revision.withdrawn) in the aggregation core, and the
// request checks of GetSeries.
#include <algorithm>
#include <optional>

#include "common/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/aggregation/aggregator.h"
#include "services/aggregation/reports.h"
#include "tests/aggregation/test_util.h"

namespace halfsky::aggregation {
namespace {

using ::testing::ElementsAre;
using testing::Key;
using testing::Narrative;
using testing::TestCatalog;
using testing::Value;

constexpr char kDistrict[] = "610303";
constexpr char kEast[] = "610303001";
constexpr char kTown[] = "610303100";
constexpr char kVillageA[] = "610303100001";
constexpr char kVillageB[] = "610303100002";

halfsky::v1::Revision Withdrawal(int64_t sequence, const halfsky::v1::DataKey& key) {
  halfsky::v1::Revision r;
  *r.mutable_data_value()->mutable_key() = key;
  r.set_sequence(sequence);
  r.set_withdrawn(true);
  r.set_change_reason("错填区域");
  return r;
}

std::vector<halfsky::v1::Revision> Feed() {
  return {Value(1, Key("HEALTH-03", kEast, 2021), 3),
          Value(2, Key("HEALTH-03", kVillageA, 2021), 2),
          Value(3, Key("HEALTH-03", kVillageB, 2021), 4),
          Withdrawal(4, Key("HEALTH-03", kVillageB, 2021))};
}

TEST(AggregatorWithdrawalTest, WithdrawnLeafLeavesAndAncestorsAreRecomputed) {
  Aggregator agg(TestCatalog());
  const auto feed = Feed();
  for (size_t i = 0; i + 1 < feed.size(); ++i) {
    ASSERT_TRUE(agg.Apply(feed[i], nullptr));
  }
  EXPECT_DOUBLE_EQ(agg.Get(Key("HEALTH-03", kDistrict, 2021))->value(), 9);
  EXPECT_EQ(agg.data_value_count(), 3);

  ChangeSet changes;
  ASSERT_TRUE(agg.Apply(feed.back(), &changes));
  EXPECT_FALSE(agg.Get(Key("HEALTH-03", kVillageB, 2021)).has_value());
  const auto town = agg.Get(Key("HEALTH-03", kTown, 2021));
  ASSERT_TRUE(town.has_value());
  EXPECT_DOUBLE_EQ(town->value(), 2);
  EXPECT_THAT(town->missing_area_codes(), ElementsAre(kVillageB));
  EXPECT_DOUBLE_EQ(agg.Get(Key("HEALTH-03", kDistrict, 2021))->value(), 5);
  EXPECT_EQ(agg.data_value_count(), 2);
  EXPECT_EQ(agg.last_sequence(), 4);
  std::vector<std::string> areas;
  for (CellId cell : changes.cells) {
    areas.push_back(agg.KeyOf(cell).area_code());
  }
  std::sort(areas.begin(), areas.end());
  EXPECT_THAT(areas, ElementsAre(kDistrict, kTown, kVillageB));

  // A replay of the withdrawn revision (or the withdrawal) changes nothing.
  ASSERT_TRUE(agg.Apply(feed[2], nullptr));
  ASSERT_TRUE(agg.Apply(feed[3], nullptr));
  EXPECT_FALSE(agg.Get(Key("HEALTH-03", kVillageB, 2021)).has_value());
  EXPECT_DOUBLE_EQ(agg.Get(Key("HEALTH-03", kDistrict, 2021))->value(), 5);

  // A rebuild from the same feed gives the same aggregates.
  Aggregator rebuilt(TestCatalog());
  for (const auto& rev : feed) {
    rebuilt.Load(rev);
  }
  rebuilt.RecomputeAll();
  for (const char* area : {kDistrict, kTown, kEast, kVillageA, kVillageB}) {
    const auto a = agg.Get(Key("HEALTH-03", area, 2021));
    const auto b = rebuilt.Get(Key("HEALTH-03", area, 2021));
    ASSERT_EQ(a.has_value(), b.has_value()) << area;
    if (a) {
      EXPECT_EQ(a->SerializeAsString(), b->SerializeAsString()) << area;
    }
  }

  // Resubmitted later: back.
  ASSERT_TRUE(agg.Apply(Value(5, Key("HEALTH-03", kVillageB, 2021), 1), nullptr));
  EXPECT_DOUBLE_EQ(agg.Get(Key("HEALTH-03", kDistrict, 2021))->value(), 6);
  EXPECT_EQ(agg.data_value_count(), 3);
}

TEST(AggregatorWithdrawalTest, WithdrawnNarrativeIsNotReported) {
  Aggregator agg(TestCatalog());
  ASSERT_TRUE(agg.Apply(Narrative(1, Key("HEALTH-04", kEast, 2022), "开展了宣传"), nullptr));
  ASSERT_TRUE(agg.Reported(Key("HEALTH-04", kEast, 2022)));
  ASSERT_TRUE(agg.Apply(Withdrawal(2, Key("HEALTH-04", kEast, 2022)), nullptr));
  EXPECT_FALSE(agg.Reported(Key("HEALTH-04", kEast, 2022)));
  EXPECT_EQ(agg.data_value_count(), 0);
}

TEST(GetSeriesRequestTest, UndefinedSexOrResidenceIsInvalidArgument) {
  Aggregator agg(TestCatalog());
  ASSERT_TRUE(agg.Apply(Value(1, Key("HEALTH-03", kEast, 2021), 3), nullptr));
  halfsky::v1::GetSeriesRequest req;
  req.set_indicator_id("HEALTH-03");
  req.set_area_code(kDistrict);
  ASSERT_TRUE(BuildSeries(agg, req).ok());
  req.set_sex(static_cast<halfsky::v1::Sex>(99));
  auto bad = BuildSeries(agg, req);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& v : BadRequestViolations(bad.status())) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ElementsAre("sex"));
  req.set_sex(halfsky::v1::SEX_TOTAL);
  req.set_residence(static_cast<halfsky::v1::Residence>(42));
  EXPECT_EQ(BuildSeries(agg, req).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace halfsky::aggregation
