// Series with derived figures, the annual report, exports, the writer's
// transaction (against the in-memory Redis fake) and the stored series of
// an Aggregator (the layout itself: tests/common/cache_layout_test.cc).
#include "services/aggregation/reports.h"

#include <algorithm>

#include "absl/strings/str_split.h"
#include "common/cache/cache_layout.h"
#include "common/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/aggregation/redis_writer.h"
#include "tests/aggregation/test_util.h"
#include "tests/support/in_memory_redis.h"

namespace halfsky::aggregation {
namespace {

using cache::AppendStoredAggregate;
using cache::IndexRedisKey;
using cache::kCursorKey;
using cache::kFormCursorKey;
using cache::kVersionKey;
using cache::OpenSeriesValue;
using cache::ParseStoredSeries;
using cache::SealSeriesValue;
using cache::SeriesRedisKey;
using halfsky::v1::RESIDENCE_ALL;
using halfsky::v1::RESIDENCE_RURAL;
using halfsky::v1::RESIDENCE_URBAN;
using halfsky::v1::SEX_FEMALE;
using halfsky::v1::SEX_MALE;
using halfsky::v1::SEX_TOTAL;
using testing::Fraction;
using ::testing::HasSubstr;
using testing::Key;
using testing::TestCatalog;
using testing::Value;

class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int64_t s = 0;
    // HEALTH-02 (proportion) at the two subdistricts, 2021 and 2022, by residence too.
    agg_.Apply(Fraction(++s, Key("HEALTH-02", "610303001", 2021), 40, 100), nullptr);
    agg_.Apply(Fraction(++s, Key("HEALTH-02", "610303002", 2021), 20, 100), nullptr);
    agg_.Apply(Fraction(++s, Key("HEALTH-02", "610303001", 2022), 50, 100), nullptr);
    agg_.Apply(Fraction(++s, Key("HEALTH-02", "610303002", 2022), 30, 100), nullptr);
    agg_.Apply(
        Fraction(++s, Key("HEALTH-02", "610303001", 2022, SEX_TOTAL, RESIDENCE_URBAN), 60, 100),
        nullptr);
    agg_.Apply(
        Fraction(++s, Key("HEALTH-02", "610303100", 2022, SEX_TOTAL, RESIDENCE_RURAL), 20, 100),
        nullptr);
    agg_.Apply(Value(++s, Key("HEALTH-03", "610303", 2022, SEX_FEMALE), 7), nullptr);
    agg_.Apply(Value(++s, Key("HEALTH-03", "610303", 2022, SEX_MALE), 4), nullptr);
  }
  Aggregator agg_{TestCatalog()};
};

TEST_F(ReportsTest, SeriesWithChangeAndGaps) {
  halfsky::v1::GetSeriesRequest req;
  req.set_indicator_id("HEALTH-02");
  auto series = BuildSeries(agg_, req);
  ASSERT_TRUE(series.ok()) << series.status();
  EXPECT_EQ(series->area_code(), "610303");
  ASSERT_EQ(series->points_size(), 2);
  const auto& p2021 = series->points(0);
  EXPECT_EQ(p2021.year(), 2021);
  EXPECT_DOUBLE_EQ(p2021.value(), 30);
  EXPECT_FALSE(p2021.has_change_from_previous());
  EXPECT_NEAR(p2021.completeness_percent(), 200.0 / 3, 1e-9);  // 2 of 3 children
  const auto& p2022 = series->points(1);
  EXPECT_DOUBLE_EQ(p2022.value(), 40);
  EXPECT_DOUBLE_EQ(p2022.change_from_previous(), 10);
  EXPECT_DOUBLE_EQ(p2022.urban_minus_rural(), 40);  // 60 − 20
  EXPECT_DOUBLE_EQ(p2022.urban_to_rural_ratio(), 3);
  EXPECT_FALSE(p2022.has_female_minus_male());
  EXPECT_EQ(series->targets_size(), 1);

  req.set_indicator_id("HEALTH-03");
  series = BuildSeries(agg_, req);
  ASSERT_TRUE(series.ok());
  // No total for HEALTH-03: no points, but the sexes exist.
  EXPECT_EQ(series->points_size(), 0);
  req.set_sex(SEX_FEMALE);
  series = BuildSeries(agg_, req);
  ASSERT_EQ(series->points_size(), 1);
  EXPECT_DOUBLE_EQ(series->points(0).female_minus_male(), 3);
  EXPECT_DOUBLE_EQ(series->points(0).female_to_male_ratio(), 1.75);
  EXPECT_EQ(series->points(0).completeness_percent(), 100);  // direct
}

TEST_F(ReportsTest, SeriesErrors) {
  halfsky::v1::GetSeriesRequest req;
  req.set_indicator_id("NOPE-01");
  EXPECT_EQ(BuildSeries(agg_, req).status().code(), absl::StatusCode::kNotFound);
  req.set_indicator_id("HEALTH-02");
  req.set_area_code("123456");
  EXPECT_EQ(BuildSeries(agg_, req).status().code(), absl::StatusCode::kNotFound);
  req.set_area_code("");
  req.set_from_year(2019);
  req.set_to_year(2031);
  auto st = BuildSeries(agg_, req).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BadRequestViolations(st).size(), 2u);
  req.set_from_year(2025);
  req.set_to_year(2022);
  EXPECT_EQ(BuildSeries(agg_, req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ReportsTest, AnnualReport) {
  halfsky::v1::GetAnnualReportRequest req;
  req.set_year(2022);
  auto report = BuildAnnualReport(agg_, req, absl::FromUnixSeconds(1700000000));
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->domains_size(), 2);
  EXPECT_EQ(report->domains(0).domain_id(), "HEALTH");
  const halfsky::v1::AnnualReportRow* row = nullptr;
  for (const auto& r : report->domains(0).rows()) {
    if (r.indicator_id() == "HEALTH-02") {
      row = &r;
    }
  }
  ASSERT_NE(row, nullptr);
  EXPECT_DOUBLE_EQ(row->value(), 40);
  EXPECT_DOUBLE_EQ(row->previous_value(), 30);
  EXPECT_DOUBLE_EQ(row->change(), 10);
  EXPECT_DOUBLE_EQ(row->urban_minus_rural(), 40);
  // Expected: 4 areas (district + 3 children, AREA required) × 3 groups
  // (total, urban, rural). Present: district total/urban/rural, 001 total
  // and urban, 002 total, town rural = 7 of 12.
  EXPECT_NEAR(row->completeness_percent(), 700.0 / 12, 1e-9);
  req.set_year(2031);
  EXPECT_EQ(BuildAnnualReport(agg_, req, absl::Now()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Issue #12: a part of the district (one child of three) carries its
// coverage in GetSeries and the annual report, and no change is computed
// between a part and the whole.
TEST_F(ReportsTest, PartialFiguresCarryTheirCoverageAndNoChange) {
  int64_t s = 100;
  for (const char* area : {"610303001", "610303002", "610303100"}) {
    agg_.Apply(Fraction(++s, Key("HEALTH-01", area, 2022), 1, 1000), nullptr);
  }
  agg_.Apply(Fraction(++s, Key("HEALTH-01", "610303100001", 2023), 1, 731), nullptr);
  halfsky::v1::GetSeriesRequest req;
  req.set_indicator_id("HEALTH-01");
  auto series = BuildSeries(agg_, req);
  ASSERT_TRUE(series.ok()) << series.status();
  ASSERT_EQ(series->points_size(), 2);
  EXPECT_FALSE(series->points(0).incomplete());
  EXPECT_EQ(series->points(0).contributing_area_count(), 3);
  EXPECT_EQ(series->points(0).expected_area_count(), 3);
  const auto& part = series->points(1);
  EXPECT_TRUE(part.incomplete());
  EXPECT_EQ(part.contributing_area_count(), 1);  // the town, itself a part
  EXPECT_EQ(part.expected_area_count(), 3);
  EXPECT_FALSE(part.has_change_from_previous());

  halfsky::v1::GetAnnualReportRequest annual;
  annual.set_year(2024);
  auto report = BuildAnnualReport(agg_, annual, absl::FromUnixSeconds(1700000000));
  ASSERT_TRUE(report.ok()) << report.status();
  const halfsky::v1::AnnualReportRow* row = nullptr;
  for (const auto& r : report->domains(0).rows()) {
    if (r.indicator_id() == "HEALTH-01") {
      row = &r;
    }
  }
  ASSERT_NE(row, nullptr);
  EXPECT_FALSE(row->has_value());
  EXPECT_NEAR(row->previous_value(), 136.8, 0.05);
  ASSERT_TRUE(row->has_previous_point());
  EXPECT_TRUE(row->previous_point().incomplete());
  EXPECT_EQ(row->previous_point().contributing_area_count(), 1);
  EXPECT_EQ(row->previous_point().expected_area_count(), 3);
  EXPECT_FALSE(row->has_value_point());

  annual.set_year(2023);
  report = BuildAnnualReport(agg_, annual, absl::FromUnixSeconds(1700000000));
  ASSERT_TRUE(report.ok());
  for (const auto& r : report->domains(0).rows()) {
    if (r.indicator_id() == "HEALTH-01") {
      EXPECT_TRUE(r.has_value());
      EXPECT_TRUE(r.has_previous_value());
      EXPECT_FALSE(r.has_change()) << "a change from the whole (2022) to a part (2023)";
    }
  }
}

TEST_F(ReportsTest, CsvAndSdmxExport) {
  halfsky::v1::ExportRequest req;
  req.add_indicator_ids("HEALTH-02");
  req.add_area_codes("610303");
  req.set_format(halfsky::v1::EXPORT_FORMAT_SDMX_CSV);
  auto plan = PlanExport(agg_, req);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::string sdmx = ExportHeader(plan->format) + ExportIndicatorRows(agg_, *plan, 0);
  const std::vector<std::string> lines = absl::StrSplit(sdmx, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u);  // header + 2021 total, 2022 total/urban/rural
  EXPECT_EQ(lines[0],
            "DATAFLOW,FREQ,INDICATOR,REF_AREA,SEX,URBANISATION,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,"
            "OBS_STATUS");
  EXPECT_EQ(lines[1], "HALFSKY:JINTAI_WOMEN_DEV(1.0),A,HEALTH-02,610303,_T,_T,2021,30,%,A");
  EXPECT_THAT(sdmx, HasSubstr(",_T,U,2022,60,%,A"));

  req.set_format(halfsky::v1::EXPORT_FORMAT_CSV);
  plan = PlanExport(agg_, req);
  const std::string csv = ExportIndicatorRows(agg_, *plan, 0);
  EXPECT_THAT(csv, HasSubstr("HEALTH-02,宫颈癌筛查率,610303,金台区,2021,total,all,30,60,200,%,"
                             "false,2,610303100,,false,2\n"));

  req.add_indicator_ids("NOPE");
  EXPECT_EQ(PlanExport(agg_, req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RedisWriterTest, CommitIsOneTransactionAndNeverRecreatesAVanishedCursor) {
  Aggregator agg(TestCatalog());
  ChangeSet changes;
  agg.Apply(Fraction(1, Key("HEALTH-01", "610303001", 2022), 1, 1000), &changes);
  InMemoryRedisClient redis;
  RedisWriter writer(&redis);
  // No cursor yet: the commit writes hashes but leaves the cursor absent.
  std::vector<CellId> cells(changes.cells.begin(), changes.cells.end());
  auto r = writer.Commit(agg, cells, 1, /*create_cursor=*/false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->previous_cursor.has_value());
  EXPECT_FALSE(redis.Get(kCursorKey)->has_value());

  auto full = writer.RewriteAll(agg, 1);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->aggregate_count, 2);  // the subdistrict and the district
  EXPECT_EQ(full->indicator_ids, std::vector<std::string>{"HEALTH-01"});
  EXPECT_EQ(*redis.Get(kCursorKey), std::optional<std::string>("1"));

  changes.Clear();
  agg.Apply(Fraction(2, Key("HEALTH-01", "610303002", 2022), 1, 1000), &changes);
  cells.assign(changes.cells.begin(), changes.cells.end());
  r = writer.Commit(agg, cells, 2, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->previous_cursor, std::optional<CachePosition>(CachePosition(1, 0)));
  EXPECT_EQ(r->version, full->version + 1);
  EXPECT_EQ(*redis.Get(kCursorKey), std::optional<std::string>("2"));
  auto value = redis.Get(SeriesRedisKey("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL));
  ASSERT_TRUE(value.ok() && value->has_value());
  auto payload =
      OpenSeriesValue("", SeriesRedisKey("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL), **value);
  ASSERT_TRUE(payload.ok()) << payload.status();
  auto series = ParseStoredSeries("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL, *payload);
  ASSERT_TRUE(series.ok()) << series.status();
  ASSERT_EQ(series->size(), 1u);
  EXPECT_DOUBLE_EQ((*series)[0].value(), 100);
  // Stored as in a rebuild: the whole series, key reduced to the year.
  EXPECT_EQ((*series)[0].key().year(), 2022);
  EXPECT_EQ((*series)[0].key().indicator_id(), "HEALTH-01");
  EXPECT_EQ(**value, [&] {
    std::string expected;
    AppendStoredAggregate(*agg.Get(Key("HEALTH-01", "610303", 2022)), &expected);
    // v3: tagged with the writer's (empty) MAC key, bound to the key name.
    return SealSeriesValue("", SeriesRedisKey("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL),
                           expected);
  }());
}

TEST(RedisWriterTest, GuardedCommitWritesNothingOnACursorItRefuses) {
  // A Redis that lost our last commits (a promoted replica) holds position
  // 1/forms 0 while we committed 5/forms 0: a guarded commit must neither
  // write the series nor move the cursor past the writes Redis lacks.
  Aggregator agg(TestCatalog());
  ChangeSet changes;
  agg.Apply(Fraction(6, Key("HEALTH-01", "610303001", 2022), 1, 1000), &changes);
  InMemoryRedisClient redis;
  ASSERT_TRUE(redis.Set(kCursorKey, "1").ok());
  ASSERT_TRUE(redis.Set(kFormCursorKey, "0").ok());
  RedisWriter writer(&redis);
  std::vector<CellId> cells(changes.cells.begin(), changes.cells.end());
  std::optional<CachePosition> shown;
  auto refused = writer.Commit(agg, cells, CachePosition(6, 0), /*create_cursor=*/false,
                               [&](const std::optional<CachePosition>& c) {
                                 shown = c;
                                 return c == std::optional<CachePosition>(CachePosition(5, 0));
                               });
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_FALSE(refused->applied);
  EXPECT_EQ(refused->previous_cursor, std::optional<CachePosition>(CachePosition(1, 0)));
  EXPECT_EQ(shown, std::optional<CachePosition>(CachePosition(1, 0)));
  EXPECT_EQ(*redis.Get(kCursorKey), std::optional<std::string>("1"));
  auto keys = redis.ScanKeys("halfsky:agg:*");
  ASSERT_TRUE(keys.ok());
  std::sort(keys->begin(), keys->end());
  std::vector<std::string> only_cursors = {kCursorKey, kFormCursorKey};
  std::sort(only_cursors.begin(), only_cursors.end());
  EXPECT_EQ(*keys, only_cursors);

  // The form cursor is part of the base: same sequence, other form cursor
  // (a lost form change) is refused too.
  ASSERT_TRUE(redis.Set(kFormCursorKey, "2").ok());
  auto other_form = writer.Commit(agg, cells, CachePosition(6, 3), false,
                                  [](const std::optional<CachePosition>& c) {
                                    return c == std::optional<CachePosition>(CachePosition(1, 3));
                                  });
  ASSERT_TRUE(other_form.ok()) << other_form.status();
  EXPECT_FALSE(other_form->applied);
  EXPECT_EQ(other_form->previous_cursor, std::optional<CachePosition>(CachePosition(1, 2)));
  EXPECT_EQ(*redis.Get(kFormCursorKey), std::optional<std::string>("2"));

  // Accepted: written, both cursors move.
  auto applied = writer.Commit(agg, cells, CachePosition(6, 2), false,
                               [](const std::optional<CachePosition>& c) { return c.has_value(); });
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(applied->applied);
  EXPECT_EQ(applied->previous_cursor, std::optional<CachePosition>(CachePosition(1, 2)));
  EXPECT_EQ(*redis.Get(kCursorKey), std::optional<std::string>("6"));
  EXPECT_EQ(*redis.Get(kFormCursorKey), std::optional<std::string>("2"));
  EXPECT_TRUE(*redis.Exists(SeriesRedisKey("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL)));

  // A missing form cursor (a cache of before form changes) reads as absent.
  ASSERT_TRUE(redis.Command({"DEL", kFormCursorKey}).ok());
  std::optional<CachePosition> absent_shown = CachePosition(-1, -1);
  auto absent = writer.Commit(agg, cells, CachePosition(7, 2), false,
                              [&](const std::optional<CachePosition>& c) {
                                absent_shown = c;
                                return false;
                              });
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_FALSE(absent->applied);
  EXPECT_FALSE(absent_shown.has_value());

  // A malformed cursor is refused without asking (previous: nullopt).
  ASSERT_TRUE(redis.Set(kFormCursorKey, "2").ok());
  ASSERT_TRUE(redis.Set(kCursorKey, "garbage").ok());
  bool asked = false;
  auto malformed = writer.Commit(agg, cells, CachePosition(7, 2), false,
                                 [&](const std::optional<CachePosition>&) {
                                   asked = true;
                                   return true;
                                 });
  ASSERT_TRUE(malformed.ok()) << malformed.status();
  EXPECT_FALSE(malformed->applied);
  EXPECT_FALSE(malformed->previous_cursor.has_value());
  EXPECT_FALSE(asked);
}

TEST(RedisWriterTest, RewriteAllReplacesEveryAggregateKeyButTheVersion) {
  Aggregator agg(TestCatalog());
  agg.Apply(Fraction(1, Key("HEALTH-01", "610303001", 2022), 1, 1000), nullptr);
  InMemoryRedisClient redis;
  const std::string district = SeriesRedisKey("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL);
  const std::string stale = SeriesRedisKey("HEALTH-02", "610303", SEX_TOTAL, RESIDENCE_ALL);
  ASSERT_TRUE(redis.Set(district, "old value").ok());
  ASSERT_TRUE(redis.Set(stale, "a series that no longer exists").ok());
  ASSERT_TRUE(redis.HSet(IndexRedisKey("HEALTH-01"), {{"610303999:total:all", ""}}).ok());
  ASSERT_TRUE(redis.Set("halfsky:agg:v1:cursor", "7").ok());
  ASSERT_TRUE(redis.HSet("halfsky:agg:v1:s:HEALTH-01:610303:total:all", {{"2022", "x"}}).ok());
  ASSERT_TRUE(redis.Set(kVersionKey, "41").ok());
  ASSERT_TRUE(redis.Set("unrelated", "kept").ok());

  RedisWriter writer(&redis);
  writer.set_pipeline_chunk(1);  // several round trips through the render queue
  auto r = writer.RewriteAll(agg, 1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 42);
  auto keys = redis.ScanKeys("*");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(*keys, (std::vector<std::string>{
                       kCursorKey, kFormCursorKey, IndexRedisKey("HEALTH-01"),
                       SeriesRedisKey("HEALTH-01", "610303001", SEX_TOTAL, RESIDENCE_ALL),
                       SeriesRedisKey("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL), kVersionKey,
                       "unrelated"}));  // sorted
  std::string expected;
  AppendStoredAggregate(*agg.Get(Key("HEALTH-01", "610303", 2022)), &expected);
  EXPECT_EQ(redis.Get(district)->value_or(""), SealSeriesValue("", district, expected));
  auto index = redis.HGetAll(IndexRedisKey("HEALTH-01"));
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->size(), 2u);
  EXPECT_FALSE(index->count("610303999:total:all"));
}

TEST(RedisLayoutTest, StoredSeriesRoundTrip) {
  Aggregator agg(TestCatalog());
  agg.Apply(Fraction(1, Key("HEALTH-01", "610303001", 2021), 1, 1000), nullptr);
  agg.Apply(Fraction(2, Key("HEALTH-01", "610303001", 2023), 3, 2000), nullptr);
  std::string value;
  std::vector<halfsky::v1::Aggregate> expected;
  for (int year : {2021, 2023}) {
    auto a = agg.Get(Key("HEALTH-01", "610303001", year));
    ASSERT_TRUE(a.has_value());
    AppendStoredAggregate(*a, &value);
    expected.push_back(*a);
  }
  auto parsed = ParseStoredSeries("HEALTH-01", "610303001", SEX_TOTAL, RESIDENCE_ALL, value);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*parsed)[i].SerializeAsString(), expected[i].SerializeAsString()) << i;
  }
  // The stored form drops everything of the key but the year.
  halfsky::v1::Aggregate alone;
  alone.ParseFromString(value.substr(1, static_cast<unsigned char>(value[0])));
  EXPECT_EQ(alone.key().indicator_id(), "");
  EXPECT_EQ(alone.key().year(), 2021);

  EXPECT_TRUE(ParseStoredSeries("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL, "")->empty());
  EXPECT_FALSE(ParseStoredSeries("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL,
                                 value.substr(0, value.size() - 1))
                   .ok());
  EXPECT_FALSE(ParseStoredSeries("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL, "\x05\xff").ok());
}

}  // namespace
}  // namespace halfsky::aggregation
