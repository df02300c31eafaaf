// Hand-computed fixtures for the aggregation core.
#include "services/aggregation/aggregator.h"

#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/aggregation/test_util.h"

namespace halfsky::aggregation {
namespace {

using ::testing::ElementsAre;
using testing::Fraction;
using ::testing::IsEmpty;
using testing::Key;
using testing::Narrative;
using testing::TestCatalog;
using testing::Value;

constexpr char kDistrict[] = "610303";
constexpr char kEast[] = "610303001";
constexpr char kWest[] = "610303002";
constexpr char kTown[] = "610303100";
constexpr char kVillageA[] = "610303100001";
constexpr char kVillageB[] = "610303100002";

class AggregatorTest : public ::testing::Test {
 protected:
  Aggregator agg_{TestCatalog()};
  int64_t seq_ = 0;

  void Rate(const char* area, double num, double den, int year = 2022) {
    ASSERT_TRUE(agg_.Apply(Fraction(++seq_, Key("HEALTH-01", area, year), num, den), nullptr));
  }
  halfsky::v1::Aggregate MustGet(const halfsky::v1::DataKey& key) {
    auto a = agg_.Get(key);
    EXPECT_TRUE(a.has_value()) << key.ShortDebugString();
    return a.value_or(halfsky::v1::Aggregate());
  }
};

// The trap: the district's rate is 3 deaths / 10 000 births = 30 per 100 000,
// not the mean of its children's rates (100, 0, 40 → 46.67), and the town's is
// 2 / 5 000 = 40, not the mean of its villages' (100, 0 → 50).
TEST_F(AggregatorTest, RateIsSumOfNumeratorsOverSumOfDenominatorsNeverAverageOfRates) {
  Rate(kEast, 1, 1000);      // 100 /10万
  Rate(kWest, 0, 4000);      // 0
  Rate(kVillageA, 2, 2000);  // 100
  Rate(kVillageB, 0, 3000);  // 0

  const auto town = MustGet(Key("HEALTH-01", kTown, 2022));
  EXPECT_DOUBLE_EQ(town.numerator(), 2);
  EXPECT_DOUBLE_EQ(town.denominator(), 5000);
  EXPECT_DOUBLE_EQ(town.value(), 40);
  EXPECT_FALSE(town.direct());
  EXPECT_EQ(town.contributing_area_count(), 2);
  EXPECT_THAT(town.missing_area_codes(), IsEmpty());

  const auto district = MustGet(Key("HEALTH-01", kDistrict, 2022));
  EXPECT_DOUBLE_EQ(district.numerator(), 3);
  EXPECT_DOUBLE_EQ(district.denominator(), 10000);
  EXPECT_DOUBLE_EQ(district.value(), 30);
  EXPECT_NE(district.value(), (100.0 + 0.0 + 40.0) / 3);
  EXPECT_TRUE(district.has_value());
  EXPECT_EQ(district.contributing_area_count(), 3);
  EXPECT_EQ(district.as_of_sequence(), 4);

  const auto leaf = MustGet(Key("HEALTH-01", kEast, 2022));
  EXPECT_TRUE(leaf.direct());
  EXPECT_DOUBLE_EQ(leaf.value(), 100);
  EXPECT_EQ(leaf.as_of_sequence(), 1);
}

TEST_F(AggregatorTest, MissingChildrenAreListedAndCountedOut) {
  Rate(kEast, 1, 1000);
  Rate(kVillageA, 2, 2000);

  const auto town = MustGet(Key("HEALTH-01", kTown, 2022));
  EXPECT_EQ(town.contributing_area_count(), 1);
  EXPECT_THAT(town.missing_area_codes(), ElementsAre(kVillageB));
  EXPECT_DOUBLE_EQ(town.value(), 100);

  const auto district = MustGet(Key("HEALTH-01", kDistrict, 2022));
  EXPECT_EQ(district.contributing_area_count(), 2);
  EXPECT_THAT(district.missing_area_codes(), ElementsAre(kWest));
  EXPECT_DOUBLE_EQ(district.numerator(), 3);
  EXPECT_DOUBLE_EQ(district.denominator(), 3000);
  EXPECT_DOUBLE_EQ(district.value(), 100);

  // Other years and disaggregations have nothing.
  EXPECT_FALSE(agg_.Get(Key("HEALTH-01", kDistrict, 2021)).has_value());
  EXPECT_FALSE(agg_.Get(Key("HEALTH-01", kDistrict, 2022, halfsky::v1::SEX_FEMALE)).has_value());
}

TEST_F(AggregatorTest, DirectParentFigureTakesPrecedenceAndMismatchIsReported) {
  Rate(kEast, 1, 1000);
  Rate(kWest, 0, 4000);
  Rate(kVillageA, 2, 2000);
  Rate(kVillageB, 0, 3000);
  // The town reports 3 / 5 000 (60) itself; its villages add up to 40.
  Rate(kTown, 3, 5000);
  // The district reports 5 / 10 000 (50) itself.
  Rate(kDistrict, 5, 10000);

  const auto town = MustGet(Key("HEALTH-01", kTown, 2022));
  EXPECT_TRUE(town.direct());
  EXPECT_DOUBLE_EQ(town.value(), 60);
  ASSERT_TRUE(town.has_children_value());
  EXPECT_DOUBLE_EQ(town.children_value(), 40);
  EXPECT_TRUE(town.children_mismatch());

  const auto district = MustGet(Key("HEALTH-01", kDistrict, 2022));
  EXPECT_TRUE(district.direct());
  EXPECT_DOUBLE_EQ(district.value(), 50);
  EXPECT_DOUBLE_EQ(district.numerator(), 5);
  // The children combine with the town's DIRECT figure: (1 + 0 + 3) / 10 000.
  ASSERT_TRUE(district.has_children_value());
  EXPECT_DOUBLE_EQ(district.children_value(), 40);
  EXPECT_TRUE(district.children_mismatch());
  EXPECT_EQ(district.contributing_area_count(), 3);
  EXPECT_EQ(district.as_of_sequence(), 6);
}

TEST_F(AggregatorTest, DirectFigureWithinToleranceIsNoMismatch) {
  Rate(kVillageA, 2, 2000);
  Rate(kVillageB, 0, 3000);
  Rate(kTown, 2, 5000);  // exactly the villages' 40
  auto town = MustGet(Key("HEALTH-01", kTown, 2022));
  EXPECT_DOUBLE_EQ(town.children_value(), 40);
  EXPECT_FALSE(town.children_mismatch());
  // 40.1 vs 40: 0.1 <= 0.005 × 40.1 → within tolerance.
  Rate(kTown, 2.005, 5000);
  town = MustGet(Key("HEALTH-01", kTown, 2022));
  EXPECT_DOUBLE_EQ(town.value(), 40.1);
  EXPECT_FALSE(town.children_mismatch());
}

TEST_F(AggregatorTest, MismatchNotFlaggedWhileChildrenAreMissing) {
  Rate(kVillageA, 2, 2000);  // village B missing: children give 100
  Rate(kTown, 2, 5000);      // 40
  const auto town = MustGet(Key("HEALTH-01", kTown, 2022));
  EXPECT_DOUBLE_EQ(town.children_value(), 100);
  EXPECT_FALSE(town.children_mismatch());
  EXPECT_THAT(town.missing_area_codes(), IsEmpty());  // a direct figure is complete
}

TEST_F(AggregatorTest, ProportionIsTimesHundred) {
  ASSERT_TRUE(agg_.Apply(Fraction(1, Key("HEALTH-02", kEast, 2023), 45, 90), nullptr));
  ASSERT_TRUE(agg_.Apply(Fraction(2, Key("HEALTH-02", kWest, 2023), 10, 10), nullptr));
  EXPECT_DOUBLE_EQ(MustGet(Key("HEALTH-02", kEast, 2023)).value(), 50);
  // (45 + 10) / (90 + 10) × 100 = 55, not (50 + 100) / 2 = 75.
  EXPECT_DOUBLE_EQ(MustGet(Key("HEALTH-02", kDistrict, 2023)).value(), 55);
}

TEST_F(AggregatorTest, CountsSum) {
  ASSERT_TRUE(agg_.Apply(Value(1, Key("HEALTH-03", kEast, 2021), 3), nullptr));
  ASSERT_TRUE(agg_.Apply(Value(2, Key("HEALTH-03", kVillageA, 2021), 2), nullptr));
  ASSERT_TRUE(agg_.Apply(Value(3, Key("HEALTH-03", kVillageB, 2021), 4), nullptr));
  EXPECT_DOUBLE_EQ(MustGet(Key("HEALTH-03", kTown, 2021)).value(), 6);
  const auto d = MustGet(Key("HEALTH-03", kDistrict, 2021));
  EXPECT_DOUBLE_EQ(d.value(), 9);
  EXPECT_DOUBLE_EQ(d.numerator(), 9);
  EXPECT_THAT(d.missing_area_codes(), ElementsAre(kWest));
}

TEST_F(AggregatorTest, ValueWithoutRuleIsNotAggregated) {
  ASSERT_TRUE(agg_.Apply(Value(1, Key("EDU-03", kEast, 2021), 80), nullptr));
  ASSERT_TRUE(agg_.Apply(Value(2, Key("EDU-03", kWest, 2021), 82), nullptr));
  EXPECT_TRUE(agg_.Get(Key("EDU-03", kEast, 2021)).has_value());
  EXPECT_FALSE(agg_.Get(Key("EDU-03", kDistrict, 2021)).has_value());
  ASSERT_TRUE(agg_.Apply(Value(3, Key("EDU-03", kDistrict, 2021), 81.5), nullptr));
  const auto d = MustGet(Key("EDU-03", kDistrict, 2021));
  EXPECT_TRUE(d.direct());
  EXPECT_DOUBLE_EQ(d.value(), 81.5);
  EXPECT_FALSE(d.has_children_value());
}

TEST_F(AggregatorTest, ValueWeightedMeanUsesWeightIndicatorAndFollowsWeightChanges) {
  const auto f = halfsky::v1::SEX_FEMALE;
  ASSERT_TRUE(agg_.Apply(Value(1, Key("EDU-01", kEast, 2024, f), 10), nullptr));
  ASSERT_TRUE(agg_.Apply(Value(2, Key("EDU-01", kWest, 2024, f), 12), nullptr));
  ASSERT_TRUE(agg_.Apply(Value(3, Key("EDU-01", kTown, 2024, f), 8), nullptr));
  // No weights yet: nobody contributes, so the district has no figure.
  EXPECT_FALSE(agg_.Get(Key("EDU-01", kDistrict, 2024, f)).has_value());

  ASSERT_TRUE(agg_.Apply(Value(4, Key("EDU-02", kEast, 2024, f), 100), nullptr));
  ASSERT_TRUE(agg_.Apply(Value(5, Key("EDU-02", kWest, 2024, f), 300), nullptr));
  // (10·100 + 12·300) / 400 = 11.5; the town has no weight.
  auto d = MustGet(Key("EDU-01", kDistrict, 2024, f));
  EXPECT_DOUBLE_EQ(d.value(), 11.5);
  EXPECT_DOUBLE_EQ(d.numerator(), 4600);
  EXPECT_DOUBLE_EQ(d.denominator(), 400);
  EXPECT_THAT(d.missing_area_codes(), ElementsAre(kTown));

  // The town's weight comes from its villages' counts (100 + 100).
  ChangeSet changes;
  ASSERT_TRUE(agg_.Apply(Value(6, Key("EDU-02", kVillageA, 2024, f), 100), &changes));
  ASSERT_TRUE(agg_.Apply(Value(7, Key("EDU-02", kVillageB, 2024, f), 100), &changes));
  d = MustGet(Key("EDU-01", kDistrict, 2024, f));
  // (1000 + 3600 + 8·200) / 600
  EXPECT_DOUBLE_EQ(d.value(), 6200.0 / 600.0);
  EXPECT_EQ(d.contributing_area_count(), 3);
  EXPECT_EQ(d.as_of_sequence(), 7);
  // The weight change marked EDU-01's district cell as changed.
  const int edu01 = agg_.IndicatorIndex("EDU-01");
  EXPECT_TRUE(changes.indicators.contains(edu01));
}

TEST_F(AggregatorTest, LaterRevisionReplacesAndReplayIsHarmless) {
  Rate(kEast, 1, 1000);
  Rate(kWest, 0, 4000);
  const auto first = Fraction(3, Key("HEALTH-01", kEast, 2022), 2, 1000);
  seq_ = 3;
  ASSERT_TRUE(agg_.Apply(first, nullptr));
  EXPECT_DOUBLE_EQ(MustGet(Key("HEALTH-01", kDistrict, 2022)).numerator(), 2);
  // Replaying revisions (a reconnect re-delivers them) counts nothing twice.
  ASSERT_TRUE(agg_.Apply(first, nullptr));
  ASSERT_TRUE(agg_.Apply(Fraction(1, Key("HEALTH-01", kEast, 2022), 1, 1000), nullptr));
  const auto d = MustGet(Key("HEALTH-01", kDistrict, 2022));
  EXPECT_DOUBLE_EQ(d.numerator(), 2);
  EXPECT_DOUBLE_EQ(d.denominator(), 5000);
  EXPECT_EQ(agg_.data_value_count(), 2);
}

TEST_F(AggregatorTest, SexAndResidenceAreSeparateDimensions) {
  using halfsky::v1::RESIDENCE_RURAL;
  using halfsky::v1::RESIDENCE_URBAN;
  ASSERT_TRUE(agg_.Apply(
      Fraction(1, Key("HEALTH-02", kEast, 2023, halfsky::v1::SEX_TOTAL, RESIDENCE_URBAN), 30, 40),
      nullptr));
  ASSERT_TRUE(agg_.Apply(
      Fraction(2, Key("HEALTH-02", kWest, 2023, halfsky::v1::SEX_TOTAL, RESIDENCE_RURAL), 5, 10),
      nullptr));
  const auto urban =
      MustGet(Key("HEALTH-02", kDistrict, 2023, halfsky::v1::SEX_TOTAL, RESIDENCE_URBAN));
  EXPECT_DOUBLE_EQ(urban.value(), 75);
  const auto rural =
      MustGet(Key("HEALTH-02", kDistrict, 2023, halfsky::v1::SEX_TOTAL, RESIDENCE_RURAL));
  EXPECT_DOUBLE_EQ(rural.value(), 50);
  EXPECT_FALSE(agg_.Get(Key("HEALTH-02", kDistrict, 2023)).has_value());
  // UNSPECIFIED reads as TOTAL / ALL.
  EXPECT_FALSE(agg_.Get(Key("HEALTH-02", kDistrict, 2023, halfsky::v1::SEX_UNSPECIFIED,
                            halfsky::v1::RESIDENCE_UNSPECIFIED))
                   .has_value());
}

TEST_F(AggregatorTest, QualitativeIsKeptButNeverAggregated) {
  ASSERT_TRUE(agg_.Apply(Narrative(1, Key("HEALTH-04", kEast, 2022), "开展了宣传"), nullptr));
  EXPECT_TRUE(agg_.Reported(Key("HEALTH-04", kEast, 2022)));
  EXPECT_FALSE(agg_.Get(Key("HEALTH-04", kEast, 2022)).has_value());
  EXPECT_FALSE(agg_.Get(Key("HEALTH-04", kDistrict, 2022)).has_value());
  EXPECT_EQ(agg_.aggregate_count(), 0);
  EXPECT_EQ(agg_.data_value_count(), 1);
}

// Narratives are kept per unit (DataKey.unit_code): two responsible units'
// narratives of one objective, area and year make it reported there once;
// nothing aggregates them, and either unit's later revision (or a replay of
// an older one) keeps it reported.
TEST_F(AggregatorTest, TwoUnitsNarrativesOfOneObjectiveAreOneReportedCell) {
  halfsky::v1::DataKey health = Key("HEALTH-04", kEast, 2022);
  health.set_unit_code("HEALTH_BUREAU");
  halfsky::v1::DataKey women = Key("HEALTH-04", kEast, 2022);
  women.set_unit_code("WOMENS_FEDERATION");
  ASSERT_TRUE(agg_.Apply(Narrative(1, health, "卫健局开展了宣传"), nullptr));
  ASSERT_TRUE(agg_.Apply(Narrative(2, women, "妇联开展了宣讲"), nullptr));
  ASSERT_TRUE(agg_.Apply(Narrative(3, health, "卫健局更正"), nullptr));
  ASSERT_TRUE(agg_.Apply(Narrative(1, health, "卫健局开展了宣传"), nullptr));  // replay
  EXPECT_TRUE(agg_.Reported(Key("HEALTH-04", kEast, 2022)));
  EXPECT_TRUE(agg_.Reported(women));
  EXPECT_FALSE(agg_.Reported(Key("HEALTH-04", kDistrict, 2022)));
  EXPECT_FALSE(agg_.Get(Key("HEALTH-04", kEast, 2022)).has_value());
  EXPECT_EQ(agg_.aggregate_count(), 0);
  EXPECT_EQ(agg_.last_sequence(), 3);
}

TEST_F(AggregatorTest, UnusableRevisionsAreSkippedAndCounted) {
  EXPECT_FALSE(agg_.Apply(Fraction(1, Key("NOPE-01", kEast, 2022), 1, 2), nullptr));
  EXPECT_FALSE(agg_.Apply(Fraction(2, Key("HEALTH-01", "999999", 2022), 1, 2), nullptr));
  EXPECT_FALSE(agg_.Apply(Fraction(3, Key("HEALTH-01", kEast, 2019), 1, 2), nullptr));
  EXPECT_FALSE(agg_.Apply(Value(4, Key("HEALTH-01", kEast, 2022), 1), nullptr));  // wrong payload
  // A sequence a leaf's cell cannot hold (2^56 and above): never truncated.
  EXPECT_FALSE(
      agg_.Apply(Fraction(int64_t{1} << 56, Key("HEALTH-01", kVillageA, 2022), 1, 2), nullptr));
  EXPECT_EQ(agg_.skipped_count(), 5);
  EXPECT_EQ(agg_.aggregate_count(), 0);
  EXPECT_EQ(agg_.last_sequence(), 0);
}

// A leaf's 24-byte cell holds sequences up to 2^56 - 1 exactly, beside
// its flags; a negative sequence is skipped like one too large.
TEST_F(AggregatorTest, LeafCellsHoldTheLargestSequenceExactly) {
  constexpr int64_t kLargest = (int64_t{1} << 56) - 1;
  ASSERT_TRUE(agg_.Apply(Fraction(kLargest, Key("HEALTH-01", kVillageA, 2022), 3, 4), nullptr));
  auto leaf = agg_.Get(Key("HEALTH-01", kVillageA, 2022));
  ASSERT_TRUE(leaf.has_value());
  EXPECT_EQ(leaf->as_of_sequence(), kLargest);
  EXPECT_TRUE(leaf->direct());
  EXPECT_EQ(leaf->part_count(), 1);
  EXPECT_DOUBLE_EQ(leaf->numerator(), 3);
  EXPECT_DOUBLE_EQ(leaf->denominator(), 4);
  auto parent = agg_.Get(Key("HEALTH-01", kTown, 2022));
  ASSERT_TRUE(parent.has_value());
  EXPECT_EQ(parent->as_of_sequence(), kLargest);
  EXPECT_FALSE(agg_.Apply(Fraction(-1, Key("HEALTH-01", kVillageB, 2022), 1, 2), nullptr));
  EXPECT_EQ(agg_.skipped_count(), 1);
  EXPECT_FALSE(agg_.Get(Key("HEALTH-01", kVillageB, 2022)).has_value());
}

TEST_F(AggregatorTest, ChangeSetNamesExactlyTheAffectedCells) {
  Rate(kVillageA, 2, 2000);
  ChangeSet changes;
  ASSERT_TRUE(agg_.Apply(Fraction(2, Key("HEALTH-01", kVillageB, 2022), 1, 1000), &changes));
  std::vector<std::string> areas;
  for (CellId cell : changes.cells) {
    areas.push_back(agg_.KeyOf(cell).area_code());
  }
  std::sort(areas.begin(), areas.end());
  EXPECT_THAT(areas, ElementsAre(kDistrict, kTown, kVillageB));
  EXPECT_EQ(changes.indicators.size(), 1u);
}

TEST_F(AggregatorTest, ZeroDenominatorHasNoValue) {
  Rate(kEast, 0, 0);
  const auto a = MustGet(Key("HEALTH-01", kDistrict, 2022));
  EXPECT_FALSE(a.has_value());
  EXPECT_EQ(a.contributing_area_count(), 1);
}

// Issue #12 item 1: one town's figure is a part of the district, never its
// figure. Coverage = contributing / expected children, the expected ones
// being the area's children in the catalog.
TEST_F(AggregatorTest, OneChildOfThreeIsIncompleteWithItsCoverage) {
  Rate(kEast, 1, 731, 2023);
  const auto district = MustGet(Key("HEALTH-01", kDistrict, 2023));
  EXPECT_FALSE(district.direct());
  EXPECT_EQ(district.contributing_area_count(), 1);
  EXPECT_EQ(district.expected_area_count(), 3);
  EXPECT_TRUE(district.incomplete());
  EXPECT_THAT(district.missing_area_codes(), ElementsAre(kWest, kTown));
  // The figure itself is still the part's (Σnum / Σden), for display with
  // its coverage.
  EXPECT_NEAR(district.value(), 136.8, 0.05);

  const auto leaf = MustGet(Key("HEALTH-01", kEast, 2023));
  EXPECT_TRUE(leaf.direct());
  EXPECT_FALSE(leaf.incomplete());
  EXPECT_EQ(leaf.expected_area_count(), 0);
}

TEST_F(AggregatorTest, EveryChildReportingIsComplete) {
  Rate(kEast, 1, 731, 2023);
  Rate(kWest, 0, 900, 2023);
  Rate(kTown, 1, 1400, 2023);  // the town's own direct figure
  const auto district = MustGet(Key("HEALTH-01", kDistrict, 2023));
  EXPECT_EQ(district.contributing_area_count(), 3);
  EXPECT_EQ(district.expected_area_count(), 3);
  EXPECT_FALSE(district.incomplete());
  EXPECT_THAT(district.missing_area_codes(), IsEmpty());
}

// A contributing child whose own figure is a part does not make its parent
// complete: the town has one village of two, so the district is incomplete
// although all three of its children have a figure.
TEST_F(AggregatorTest, IncompleteChildKeepsTheParentIncomplete) {
  Rate(kEast, 1, 1000);
  Rate(kWest, 0, 4000);
  Rate(kVillageA, 2, 2000);
  auto town = MustGet(Key("HEALTH-01", kTown, 2022));
  EXPECT_TRUE(town.incomplete());
  EXPECT_EQ(town.contributing_area_count(), 1);
  EXPECT_EQ(town.expected_area_count(), 2);
  auto district = MustGet(Key("HEALTH-01", kDistrict, 2022));
  EXPECT_EQ(district.contributing_area_count(), 3);
  EXPECT_TRUE(district.incomplete());

  Rate(kVillageB, 0, 3000);
  town = MustGet(Key("HEALTH-01", kTown, 2022));
  EXPECT_FALSE(town.incomplete());
  district = MustGet(Key("HEALTH-01", kDistrict, 2022));
  EXPECT_FALSE(district.incomplete());
}

TEST_F(AggregatorTest, DirectParentFigureIsCompleteWhateverItsChildren) {
  Rate(kEast, 1, 731, 2023);
  Rate(kDistrict, 2, 3100, 2023);
  const auto district = MustGet(Key("HEALTH-01", kDistrict, 2023));
  EXPECT_TRUE(district.direct());
  EXPECT_FALSE(district.incomplete());
  EXPECT_EQ(district.expected_area_count(), 3);
  EXPECT_NEAR(district.value(), 2.0 / 3100 * 100000, 1e-9);
  // The district's own denominator is the whole: the reporting child covers
  // 731 of 3 100 births.
  ASSERT_TRUE(district.has_children_denominator_share_percent());
  EXPECT_NEAR(district.children_denominator_share_percent(), 731.0 / 3100 * 100, 1e-9);
  // Without a direct figure the whole is not known.
  Rate(kEast, 1, 700, 2024);
  EXPECT_FALSE(MustGet(Key("HEALTH-01", kDistrict, 2024)).has_children_denominator_share_percent());
}

// HEALTH-02 sets coverage_threshold_percent: 60 in the test catalog: two of
// three children (66.7 %) make the district's figure, one (33.3 %) does not.
TEST_F(AggregatorTest, CatalogCoverageThresholdDecides) {
  ASSERT_TRUE(agg_.Apply(Fraction(++seq_, Key("HEALTH-02", kEast, 2022), 50, 100), nullptr));
  auto district = MustGet(Key("HEALTH-02", kDistrict, 2022));
  EXPECT_TRUE(district.incomplete());
  ASSERT_TRUE(agg_.Apply(Fraction(++seq_, Key("HEALTH-02", kWest, 2022), 70, 100), nullptr));
  district = MustGet(Key("HEALTH-02", kDistrict, 2022));
  EXPECT_EQ(district.contributing_area_count(), 2);
  EXPECT_FALSE(district.incomplete());
  EXPECT_DOUBLE_EQ(district.value(), 60);
}

// Issue #12 item 2: a published rate (no counts) is a figure of its own
// area, as it stands, and is never summed into the parent, which names it.
TEST_F(AggregatorTest, PublishedRateIsNotSummedAndTheParentSaysSo) {
  ASSERT_TRUE(agg_.Apply(testing::Published(++seq_, Key("HEALTH-01", kEast, 2022), 13.2), nullptr));
  Rate(kWest, 1, 1000);
  Rate(kTown, 0, 2000);

  const auto east = MustGet(Key("HEALTH-01", kEast, 2022));
  EXPECT_TRUE(east.published());
  EXPECT_TRUE(east.direct());
  EXPECT_DOUBLE_EQ(east.value(), 13.2);
  EXPECT_DOUBLE_EQ(east.numerator(), 0);
  EXPECT_DOUBLE_EQ(east.denominator(), 0);

  const auto district = MustGet(Key("HEALTH-01", kDistrict, 2022));
  EXPECT_FALSE(district.published());
  EXPECT_DOUBLE_EQ(district.numerator(), 1);  // 13.2 was not taken for 13.2 events
  EXPECT_DOUBLE_EQ(district.denominator(), 3000);
  EXPECT_EQ(district.contributing_area_count(), 2);
  EXPECT_THAT(district.published_area_codes(), ElementsAre(kEast));
  EXPECT_THAT(district.missing_area_codes(), IsEmpty());
  EXPECT_TRUE(district.incomplete());

  // Counts replace the published figure: it is summed again.
  Rate(kEast, 1, 1000);
  const auto again = MustGet(Key("HEALTH-01", kDistrict, 2022));
  EXPECT_FALSE(MustGet(Key("HEALTH-01", kEast, 2022)).published());
  EXPECT_THAT(again.published_area_codes(), IsEmpty());
  EXPECT_DOUBLE_EQ(again.numerator(), 2);
  EXPECT_FALSE(again.incomplete());
}

// A parent whose only reporting child holds a published figure keeps an
// aggregate (never a silent gap) without a value, naming the child.
TEST_F(AggregatorTest, OnlyPublishedChildrenGiveAnIncompleteParentWithoutValue) {
  ASSERT_TRUE(agg_.Apply(testing::Published(++seq_, Key("HEALTH-01", kEast, 2022), 13.2), nullptr));
  const auto district = MustGet(Key("HEALTH-01", kDistrict, 2022));
  EXPECT_FALSE(district.has_value());
  EXPECT_EQ(district.contributing_area_count(), 0);
  EXPECT_THAT(district.published_area_codes(), ElementsAre(kEast));
  EXPECT_THAT(district.missing_area_codes(), ElementsAre(kWest, kTown));
  EXPECT_TRUE(district.incomplete());
}

TEST_F(AggregatorTest, PublishedRateOnlyForRatesAndProportions) {
  EXPECT_FALSE(agg_.Apply(testing::Published(++seq_, Key("HEALTH-03", kEast, 2022), 4), nullptr));
  EXPECT_EQ(agg_.skipped_count(), 1);
}

}  // namespace
}  // namespace halfsky::aggregation
