// Aggregation over a multi-level tree (issue #17): 宝鸡市 → 金台区, 渭滨区 →
// towns/subdistricts, from deploy/examples/city/catalog. The same rules as
// one district: Σnumerator/Σdenominator at every level, never a mean of the
// children's rates, and a figure combined from only some children is
// incomplete, all the way up.
#include <string>

#include "common/catalog/catalog.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/aggregation/aggregator.h"
#include "tests/aggregation/test_util.h"

namespace halfsky::aggregation {
namespace {

using ::testing::ElementsAre;
using testing::Fraction;
using ::testing::IsEmpty;
using testing::Key;

constexpr char kCity[] = "610300";
constexpr char kWeibin[] = "610302";
constexpr char kWeibinSubdistrict[] = "610302001";
constexpr char kWeibinTown[] = "610302100";
constexpr char kJintai[] = "610303";
constexpr char kJintaiSubdistrict[] = "610303001";
constexpr char kJintaiTown[] = "610303100";

std::shared_ptr<const CatalogIndex> CityCatalog() {
  auto index =
      CatalogIndex::Load({std::string(HALFSKY_SOURCE_DIR) + "/deploy/examples/city/catalog"});
  if (!index.ok()) {
    ADD_FAILURE() << index.status();
    return nullptr;
  }
  return *index;
}

class MultiLevelAggregationTest : public ::testing::Test {
 protected:
  std::shared_ptr<const CatalogIndex> catalog_ = CityCatalog();
  Aggregator agg_{catalog_};
  int64_t seq_ = 0;

  void Rate(const char* area, double num, double den, int year = 2023) {
    ASSERT_TRUE(agg_.Apply(Fraction(++seq_, Key("HEALTH-01", area, year), num, den), nullptr));
  }
  halfsky::v1::Aggregate MustGet(const char* area, int year = 2023) {
    auto a = agg_.Get(Key("HEALTH-01", area, year));
    EXPECT_TRUE(a.has_value()) << area;
    return a.value_or(halfsky::v1::Aggregate());
  }
};

TEST_F(MultiLevelAggregationTest, CityIsSumOfNumeratorsOverSumOfDenominatorsOfAllTowns) {
  Rate(kWeibinSubdistrict, 1, 1000);  // 100 /10万
  Rate(kWeibinTown, 0, 3000);         // 0
  Rate(kJintaiSubdistrict, 2, 4000);  // 50
  Rate(kJintaiTown, 0, 2000);         // 0

  const auto weibin = MustGet(kWeibin);
  EXPECT_DOUBLE_EQ(weibin.numerator(), 1);
  EXPECT_DOUBLE_EQ(weibin.denominator(), 4000);
  EXPECT_DOUBLE_EQ(weibin.value(), 25);
  EXPECT_FALSE(weibin.incomplete());

  const auto jintai = MustGet(kJintai);
  EXPECT_DOUBLE_EQ(jintai.value(), 2.0 / 6000 * 100000);
  EXPECT_FALSE(jintai.incomplete());

  // 3 deaths / 10 000 births = 30, not the mean of the districts' rates
  // (25 and 33.3) nor of the towns' (100, 0, 50, 0).
  const auto city = MustGet(kCity);
  EXPECT_FALSE(city.direct());
  EXPECT_DOUBLE_EQ(city.numerator(), 3);
  EXPECT_DOUBLE_EQ(city.denominator(), 10000);
  EXPECT_DOUBLE_EQ(city.value(), 30);
  EXPECT_NE(city.value(), (25 + 2.0 / 6000 * 100000) / 2);
  EXPECT_EQ(city.contributing_area_count(), 2);
  EXPECT_EQ(city.expected_area_count(), 2);
  EXPECT_FALSE(city.incomplete());
  EXPECT_THAT(city.missing_area_codes(), IsEmpty());
  EXPECT_EQ(city.as_of_sequence(), 4);
}

TEST_F(MultiLevelAggregationTest, OneTownMissingMakesItsDistrictAndTheCityIncomplete) {
  Rate(kWeibinSubdistrict, 1, 1000);
  Rate(kWeibinTown, 0, 3000);
  Rate(kJintaiSubdistrict, 2, 4000);  // 陈仓镇 has not reported

  const auto jintai = MustGet(kJintai);
  EXPECT_TRUE(jintai.incomplete());
  EXPECT_THAT(jintai.missing_area_codes(), ElementsAre(kJintaiTown));

  // Both districts have a figure, but 金台区's is a part: the city's is
  // incomplete too, shown with its coverage and never evaluated as the city's.
  const auto city = MustGet(kCity);
  EXPECT_TRUE(city.incomplete());
  EXPECT_EQ(city.contributing_area_count(), 2);
  EXPECT_DOUBLE_EQ(city.numerator(), 3);
  EXPECT_DOUBLE_EQ(city.denominator(), 8000);

  Rate(kJintaiTown, 0, 2000);
  EXPECT_FALSE(MustGet(kJintai).incomplete());
  EXPECT_FALSE(MustGet(kCity).incomplete());
  EXPECT_DOUBLE_EQ(MustGet(kCity).value(), 30);
}

TEST_F(MultiLevelAggregationTest, ADistrictsDirectFigureCountsForTheCity) {
  // 渭滨区 reports its district figure itself; 金台区 through its towns.
  Rate(kWeibin, 1, 4000);
  Rate(kJintaiSubdistrict, 2, 4000);
  Rate(kJintaiTown, 0, 2000);

  const auto city = MustGet(kCity);
  EXPECT_FALSE(city.incomplete());
  EXPECT_DOUBLE_EQ(city.value(), 30);
  EXPECT_EQ(city.contributing_area_count(), 2);
}

TEST_F(MultiLevelAggregationTest, OnlyOneDistrictIsIncompleteAndNamesTheOther) {
  Rate(kJintaiSubdistrict, 2, 4000);
  Rate(kJintaiTown, 0, 2000);

  EXPECT_FALSE(MustGet(kJintai).incomplete());
  const auto city = MustGet(kCity);
  EXPECT_TRUE(city.incomplete());
  EXPECT_EQ(city.contributing_area_count(), 1);
  EXPECT_EQ(city.expected_area_count(), 2);
  EXPECT_THAT(city.missing_area_codes(), ElementsAre(kWeibin));
  EXPECT_FALSE(agg_.Get(Key("HEALTH-01", kWeibin, 2023)).has_value());
}

}  // namespace
}  // namespace halfsky::aggregation
