// The aggregate cache's contract (common/cache): tokens, key names, the
// value codec and its tag, the update message and the Aggregate ->
// SeriesPoint conversion. Pure logic; the writer and readers are tested
// against real Redis in tests/aggregation and tests/evaluation.
#include "common/cache/cache_layout.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/cache/series_point.h"
#include "gtest/gtest.h"
#include "halfsky/v1/aggregation.pb.h"

namespace halfsky::cache {
namespace {

using halfsky::v1::RESIDENCE_ALL;
using halfsky::v1::RESIDENCE_RURAL;
using halfsky::v1::RESIDENCE_UNSPECIFIED;
using halfsky::v1::RESIDENCE_URBAN;
using halfsky::v1::SEX_FEMALE;
using halfsky::v1::SEX_MALE;
using halfsky::v1::SEX_TOTAL;
using halfsky::v1::SEX_UNSPECIFIED;

TEST(CacheLayoutTest, TokensAndNormalization) {
  EXPECT_STREQ(SexToken(SEX_TOTAL), "total");
  EXPECT_STREQ(SexToken(SEX_FEMALE), "female");
  EXPECT_STREQ(SexToken(SEX_MALE), "male");
  EXPECT_STREQ(SexToken(SEX_UNSPECIFIED), "total");
  EXPECT_STREQ(SexToken(static_cast<halfsky::v1::Sex>(99)), "total");
  EXPECT_STREQ(ResidenceToken(RESIDENCE_ALL), "all");
  EXPECT_STREQ(ResidenceToken(RESIDENCE_URBAN), "urban");
  EXPECT_STREQ(ResidenceToken(RESIDENCE_RURAL), "rural");
  EXPECT_STREQ(ResidenceToken(RESIDENCE_UNSPECIFIED), "all");
  EXPECT_STREQ(ResidenceToken(static_cast<halfsky::v1::Residence>(99)), "all");

  EXPECT_EQ(NormalizeSex(SEX_FEMALE), SEX_FEMALE);
  EXPECT_EQ(NormalizeSex(SEX_MALE), SEX_MALE);
  EXPECT_EQ(NormalizeSex(SEX_TOTAL), SEX_TOTAL);
  EXPECT_EQ(NormalizeSex(SEX_UNSPECIFIED), SEX_TOTAL);
  EXPECT_EQ(NormalizeSex(static_cast<halfsky::v1::Sex>(99)), SEX_TOTAL);
  EXPECT_EQ(NormalizeResidence(RESIDENCE_URBAN), RESIDENCE_URBAN);
  EXPECT_EQ(NormalizeResidence(RESIDENCE_RURAL), RESIDENCE_RURAL);
  EXPECT_EQ(NormalizeResidence(RESIDENCE_ALL), RESIDENCE_ALL);
  EXPECT_EQ(NormalizeResidence(RESIDENCE_UNSPECIFIED), RESIDENCE_ALL);
  EXPECT_EQ(NormalizeResidence(static_cast<halfsky::v1::Residence>(99)), RESIDENCE_ALL);
}

TEST(CacheLayoutTest, KeyNames) {
  EXPECT_EQ(SeriesRedisKey("HEALTH-01", "610303", SEX_TOTAL, RESIDENCE_ALL),
            "halfsky:agg:v3:s:HEALTH-01:610303:total:all");
  EXPECT_EQ(SeriesRedisKey("HEALTH-01", "610303", SEX_UNSPECIFIED, RESIDENCE_UNSPECIFIED),
            "halfsky:agg:v3:s:HEALTH-01:610303:total:all");
  EXPECT_EQ(SeriesRedisKey("EDU-03", "610303001", SEX_MALE, RESIDENCE_RURAL),
            "halfsky:agg:v3:s:EDU-03:610303001:male:rural");
  EXPECT_EQ(IndexRedisKey("HEALTH-01"), "halfsky:agg:v3:idx:HEALTH-01");
  EXPECT_EQ(IndexField("610303", SEX_FEMALE, RESIDENCE_URBAN), "610303:female:urban");
  EXPECT_EQ(IndexField("610303", SEX_UNSPECIFIED, RESIDENCE_UNSPECIFIED), "610303:total:all");
  EXPECT_STREQ(kCursorKey, "halfsky:agg:v3:cursor");
  EXPECT_STREQ(kVersionKey, "halfsky:agg:v3:version");
  EXPECT_STREQ(kUpdatesChannel, "halfsky:aggregates:updated");

  // Every key of the layout is under kKeyPrefix, and kAnyLayoutKeyPattern
  // (what a full rewrite SCANs and deletes) covers them and the v1/v2 keys.
  const std::string pattern = kAnyLayoutKeyPattern;
  ASSERT_TRUE(absl::EndsWith(pattern, "*"));
  const std::string any_prefix = pattern.substr(0, pattern.size() - 1);
  std::vector<std::string> keys = {kCursorKey, kVersionKey, IndexRedisKey("HEALTH-01")};
  for (auto sex : {SEX_TOTAL, SEX_FEMALE, SEX_MALE}) {
    for (auto residence : {RESIDENCE_ALL, RESIDENCE_URBAN, RESIDENCE_RURAL}) {
      const std::string key = SeriesRedisKey("HEALTH-01", "610303", sex, residence);
      EXPECT_EQ(key,
                absl::StrCat(kSeriesKeyPrefix, "HEALTH-01:", IndexField("610303", sex, residence)));
      keys.push_back(key);
    }
  }
  for (const std::string& key : keys) {
    EXPECT_TRUE(absl::StartsWith(key, kKeyPrefix)) << key;
    EXPECT_TRUE(absl::StartsWith(key, any_prefix)) << key;
  }
  EXPECT_TRUE(absl::StartsWith(kSeriesKeyPrefix, kKeyPrefix));
  EXPECT_TRUE(absl::StartsWith(kIndexKeyPrefix, kKeyPrefix));
  EXPECT_TRUE(absl::StartsWith("halfsky:agg:v1:cursor", any_prefix));
  EXPECT_TRUE(absl::StartsWith("halfsky:agg:v2:s:HEALTH-01:610303:total:all", any_prefix));
  EXPECT_FALSE(absl::StartsWith(kUpdatesChannel, any_prefix));
}

halfsky::v1::Aggregate MakeAggregate(int year, double value, halfsky::v1::Sex sex,
                                     halfsky::v1::Residence residence) {
  halfsky::v1::Aggregate a;
  a.mutable_key()->set_indicator_id("HEALTH-01");
  a.mutable_key()->set_area_code("610303");
  a.mutable_key()->set_year(year);
  a.mutable_key()->set_sex(sex);
  a.mutable_key()->set_residence(residence);
  a.set_value(value);
  a.set_has_value(true);
  a.set_numerator(value);
  a.set_denominator(1000);
  a.set_contributing_area_count(2);
  a.set_expected_area_count(3);
  a.add_missing_area_codes("610303100");
  a.set_incomplete(true);
  return a;
}

TEST(CacheLayoutTest, SealedSeriesRoundTripThroughTheCodec) {
  for (auto [sex, residence] : std::vector<std::pair<halfsky::v1::Sex, halfsky::v1::Residence>>{
           {SEX_FEMALE, RESIDENCE_URBAN}, {SEX_UNSPECIFIED, RESIDENCE_UNSPECIFIED}}) {
    const std::vector<halfsky::v1::Aggregate> years = {MakeAggregate(2021, 12.5, sex, residence),
                                                       MakeAggregate(2024, 0, sex, residence)};
    std::string payload;
    for (const auto& a : years) {
      AppendStoredAggregate(a, &payload);
    }
    const std::string key = SeriesRedisKey("HEALTH-01", "610303", sex, residence);
    const std::string sealed = SealSeriesValue("mac-key", key, payload);
    auto opened = OpenSeriesValue("mac-key", key, sealed);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(*opened, payload);
    auto parsed = ParseStoredSeries("HEALTH-01", "610303", sex, residence, *opened);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->size(), years.size());
    for (size_t i = 0; i < years.size(); ++i) {
      halfsky::v1::Aggregate want = years[i];
      want.mutable_key()->set_sex(NormalizeSex(sex));
      want.mutable_key()->set_residence(NormalizeResidence(residence));
      EXPECT_EQ((*parsed)[i].SerializeAsString(), want.SerializeAsString()) << i;
    }
    // The stored bytes carry only the year of the key.
    halfsky::v1::Aggregate first;
    ASSERT_TRUE(first.ParseFromString(payload.substr(1, static_cast<unsigned char>(payload[0]))));
    EXPECT_EQ(first.key().indicator_id(), "");
    EXPECT_EQ(first.key().area_code(), "");
    EXPECT_EQ(first.key().sex(), SEX_UNSPECIFIED);
    EXPECT_EQ(first.key().year(), 2021);
  }
}

TEST(CacheLayoutTest, SeriesPointFromAggregateIsFillSeriesPoint) {
  const halfsky::v1::Aggregate a = MakeAggregate(2023, 40, SEX_TOTAL, RESIDENCE_ALL);
  const halfsky::v1::SeriesPoint p = SeriesPointFromAggregate(a);
  halfsky::v1::SeriesPoint filled;
  FillSeriesPoint(a, &filled);
  EXPECT_EQ(p.SerializeAsString(), filled.SerializeAsString());
  EXPECT_EQ(p.year(), 2023);
  EXPECT_DOUBLE_EQ(p.value(), 40);
  EXPECT_DOUBLE_EQ(p.numerator(), 40);
  EXPECT_DOUBLE_EQ(p.denominator(), 1000);
  EXPECT_EQ(p.contributing_area_count(), 2);
  EXPECT_EQ(p.expected_area_count(), 3);
  EXPECT_NEAR(p.completeness_percent(), 200.0 / 3, 1e-9);
  EXPECT_TRUE(p.incomplete());
  EXPECT_FALSE(p.has_change_from_previous());

  halfsky::v1::Aggregate direct = a;
  direct.set_direct(true);
  direct.set_incomplete(false);
  const halfsky::v1::SeriesPoint d = SeriesPointFromAggregate(direct);
  EXPECT_TRUE(d.direct());
  EXPECT_DOUBLE_EQ(d.completeness_percent(), 100);
  EXPECT_FALSE(d.incomplete());
}

TEST(RedisLayoutTest, FillSeriesPointReadsValuesCachedBeforeCoverage) {
  halfsky::v1::Aggregate old;
  old.mutable_key()->set_year(2023);
  old.set_value(136.8);
  old.set_has_value(true);
  old.set_contributing_area_count(1);
  old.add_missing_area_codes("610303002");
  old.add_missing_area_codes("610303100");
  halfsky::v1::SeriesPoint p;
  FillSeriesPoint(old, &p);
  EXPECT_TRUE(p.incomplete());
  EXPECT_EQ(p.expected_area_count(), 3);
  EXPECT_NEAR(p.completeness_percent(), 100.0 / 3, 1e-9);
  old.clear_missing_area_codes();
  halfsky::v1::SeriesPoint whole;
  FillSeriesPoint(old, &whole);
  EXPECT_FALSE(whole.incomplete());
}

TEST(RedisLayoutTest, SealedValuesOpenOnlyWithTheirKeyAndKeyName) {
  const std::string key = SeriesRedisKey("HEALTH-04", "610303", SEX_TOTAL, RESIDENCE_ALL);
  const std::string other = SeriesRedisKey("HEALTH-04", "610303001", SEX_TOTAL, RESIDENCE_ALL);
  const std::string payload = "\x03\x08\x01\x10";
  const std::string sealed = SealSeriesValue("k1", key, payload);
  ASSERT_EQ(sealed.size(), kSeriesMacSize + payload.size());
  EXPECT_EQ(sealed.substr(kSeriesMacSize), payload);
  // Plain HMAC-SHA256 (docs/ARCHITECTURE.md), e.g. Python's
  // hmac.new(b"k1", b"halfsky:agg:v3:mac\0" + key + b"\0" + payload, sha256).
  EXPECT_EQ(absl::BytesToHexString(sealed.substr(0, kSeriesMacSize)),
            "7940fb1b4c794ed91f23b0f871bc3ece118f19678d57bb5253b355b3ceffa788");
  auto opened = OpenSeriesValue("k1", key, sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, payload);
  // Another MAC key, another key name (a value moved), a changed byte, a
  // value without a tag: all refused.
  EXPECT_EQ(OpenSeriesValue("k2", key, sealed).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenSeriesValue("k1", other, sealed).status().code(),
            absl::StatusCode::kPermissionDenied);
  std::string flipped = sealed;
  flipped.back() ^= 1;
  EXPECT_FALSE(OpenSeriesValue("k1", key, flipped).ok());
  EXPECT_FALSE(OpenSeriesValue("k1", key, payload).ok());
  EXPECT_FALSE(OpenSeriesValue("k1", key, "").ok());
  // An empty series still carries its tag.
  EXPECT_TRUE(OpenSeriesValue("", key, SealSeriesValue("", key, "")).ok());
  EXPECT_FALSE(OpenSeriesValue("k1", key, SealSeriesValue("", key, "")).ok());
}

TEST(RedisLayoutTest, MessageRoundTrip) {
  UpdateMessage m{42, 7, false, {"EDU-01", "HEALTH-02"}};
  const std::string text = FormatUpdateMessage(m);
  EXPECT_EQ(text, "cursor=42 version=7 rebuild=0 indicators=EDU-01,HEALTH-02");
  auto parsed = ParseUpdateMessage(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->cursor, 42);
  EXPECT_EQ(parsed->indicator_ids, m.indicator_ids);
  auto empty = ParseUpdateMessage("cursor=1 version=2 rebuild=1 indicators=");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->rebuild);
  EXPECT_TRUE(empty->indicator_ids.empty());
  EXPECT_FALSE(ParseUpdateMessage("cursor=x version=2 rebuild=1 indicators=").ok());
  EXPECT_FALSE(ParseUpdateMessage("hello").ok());
  EXPECT_EQ(SeriesRedisKey("HEALTH-01", "610303", SEX_FEMALE, RESIDENCE_URBAN),
            "halfsky:agg:v3:s:HEALTH-01:610303:female:urban");  // v3: tagged values
}

}  // namespace
}  // namespace halfsky::cache
