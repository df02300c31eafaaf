// Unit tests of submission validation and authorization, rule by rule.
#include "services/submission/validate.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/submission/read_access.h"
#include "tests/submission/test_util.h"

namespace halfsky::submission {
namespace {

namespace v1 = ::halfsky::v1;
using ::halfsky::submission::testing::Fraction;
using ::halfsky::submission::testing::MakePrincipal;
using ::halfsky::submission::testing::Number;
using ::halfsky::submission::testing::Story;
using ::halfsky::submission::testing::TestCatalog;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 6, 1, 0, 0, 0), absl::UTCTimeZone());

class ValidateTest : public ::testing::Test {
 protected:
  std::vector<FieldViolation> Check(const v1::DataValue& v) {
    return ValidateValue(v, *catalog_, kNow, limits_, "data_values[0]");
  }
  std::vector<std::string> Fields(const v1::DataValue& v) {
    std::vector<std::string> out;
    for (const auto& f : Check(v)) {
      out.push_back(f.field);
    }
    return out;
  }
  std::shared_ptr<const CatalogIndex> catalog_ = TestCatalog();
  ValidationLimits limits_;
};

TEST_F(ValidateTest, ValidValuesOfEveryKindPass) {
  EXPECT_THAT(Check(Fraction("HEALTH-01", 2024, 2, 10000)), IsEmpty());
  EXPECT_THAT(Check(Fraction("HEALTH-02", 2024, 99, 100)), IsEmpty());
  EXPECT_THAT(Check(Number("HEALTH-03", 2024, 3)), IsEmpty());
  EXPECT_THAT(Check(Number("HEALTH-04", 2024, 80.5)), IsEmpty());
  EXPECT_THAT(Check(Story("HEALTH-05", 2024, "建成妇幼保健院新院区", "HEALTH_BUREAU")), IsEmpty());
}

TEST_F(ValidateTest, UnknownIndicator) {
  auto v = Check(Number("NOPE-01", 2024, 3));
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_EQ(v[0].field, "data_values[0].key.indicator_id");
  EXPECT_THAT(v[0].description, HasSubstr("未知指标"));
  EXPECT_THAT(v[0].description, HasSubstr("unknown indicator"));
}

TEST_F(ValidateTest, MissingIndicatorAndArea) {
  v1::DataValue v = Number("HEALTH-03", 2024, 3);
  v.mutable_key()->clear_indicator_id();
  v.mutable_key()->clear_area_code();
  EXPECT_THAT(Fields(v),
              ElementsAre("data_values[0].key.indicator_id", "data_values[0].key.area_code"));
}

TEST_F(ValidateTest, UnknownArea) {
  EXPECT_THAT(Fields(Number("HEALTH-03", 2024, 3, "999999")),
              ElementsAre("data_values[0].key.area_code"));
}

TEST_F(ValidateTest, YearOutsideRange) {
  EXPECT_THAT(Fields(Number("HEALTH-03", 2019, 3)), ElementsAre("data_values[0].key.year"));
  EXPECT_THAT(Fields(Number("HEALTH-03", 2031, 3)), ElementsAre("data_values[0].key.year"));
  EXPECT_THAT(Check(Number("HEALTH-03", 2020, 3)), IsEmpty());
}

TEST_F(ValidateTest, YearInTheFutureByTheClock) {
  auto v = Check(Number("HEALTH-03", 2027, 3));
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_EQ(v[0].field, "data_values[0].key.year");
  EXPECT_THAT(v[0].description, HasSubstr("future"));
  EXPECT_THAT(Check(Number("HEALTH-03", 2026, 3)), IsEmpty());
}

TEST_F(ValidateTest, SexOnlyWhenTheIndicatorTakesIt) {
  v1::DataValue v = Number("HEALTH-03", 2024, 3);
  v.mutable_key()->set_sex(v1::SEX_FEMALE);
  EXPECT_THAT(Fields(v), ElementsAre("data_values[0].key.sex"));
  v.mutable_key()->set_sex(v1::SEX_TOTAL);
  EXPECT_THAT(Fields(v), IsEmpty());
  v1::DataValue w = Fraction("HEALTH-02", 2024, 90, 100);  // takes sex
  w.mutable_key()->set_sex(v1::SEX_MALE);
  EXPECT_THAT(Fields(w), IsEmpty());
  w.mutable_key()->set_sex(static_cast<v1::Sex>(9));
  EXPECT_THAT(Fields(w), ElementsAre("data_values[0].key.sex"));
}

TEST_F(ValidateTest, ResidenceOnlyWhenTheIndicatorTakesIt) {
  v1::DataValue v = Fraction("HEALTH-02", 2024, 90, 100);
  v.mutable_key()->set_residence(v1::RESIDENCE_RURAL);
  EXPECT_THAT(Fields(v), ElementsAre("data_values[0].key.residence"));
  v1::DataValue w = Fraction("HEALTH-01", 2024, 1, 10000);  // takes residence
  w.mutable_key()->set_residence(v1::RESIDENCE_URBAN);
  EXPECT_THAT(Fields(w), IsEmpty());
  w.mutable_key()->set_residence(v1::RESIDENCE_ALL);
  EXPECT_THAT(Fields(w), IsEmpty());
}

TEST_F(ValidateTest, QualitativeIndicatorGivenANumber) {
  v1::DataValue number = Number("HEALTH-05", 2024, 3);
  number.mutable_key()->set_unit_code("HEALTH_BUREAU");
  auto v = Check(number);
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_EQ(v[0].field, "data_values[0].value");
  EXPECT_THAT(v[0].description, HasSubstr("qualitative"));
}

TEST_F(ValidateTest, NumericIndicatorGivenANarrative) {
  EXPECT_THAT(Fields(Story("HEALTH-03", 2024, "做了很多")),
              ElementsAre("data_values[0].narrative"));
}

TEST_F(ValidateTest, FractionVersusValueByKind) {
  EXPECT_THAT(Fields(Number("HEALTH-01", 2024, 12.5)), ElementsAre("data_values[0].value"));
  EXPECT_THAT(Fields(Fraction("HEALTH-03", 2024, 1, 2)), ElementsAre("data_values[0].fraction"));
  v1::DataValue none = Number("HEALTH-03", 2024, 1);
  none.clear_value();
  EXPECT_THAT(Fields(none), ElementsAre("data_values[0]"));
}

TEST_F(ValidateTest, NaNAndInfinity) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THAT(Fields(Number("HEALTH-04", 2024, nan)), ElementsAre("data_values[0].value"));
  EXPECT_THAT(Fields(Number("HEALTH-04", 2024, inf)), ElementsAre("data_values[0].value"));
  EXPECT_THAT(
      Fields(Fraction("HEALTH-01", 2024, nan, inf)),
      ElementsAre("data_values[0].fraction.numerator", "data_values[0].fraction.denominator"));
}

TEST_F(ValidateTest, DenominatorNotPositive) {
  EXPECT_THAT(Fields(Fraction("HEALTH-01", 2024, 1, 0)),
              ElementsAre("data_values[0].fraction.denominator"));
  EXPECT_THAT(Fields(Fraction("HEALTH-01", 2024, 1, -5)),
              ElementsAre("data_values[0].fraction.denominator"));
}

TEST_F(ValidateTest, NegativeNumerator) {
  EXPECT_THAT(Fields(Fraction("HEALTH-01", 2024, -1, 100)),
              ElementsAre("data_values[0].fraction.numerator"));
}

TEST_F(ValidateTest, ProportionNumeratorAboveDenominator) {
  auto v = Check(Fraction("HEALTH-02", 2024, 101, 100));
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_EQ(v[0].field, "data_values[0].fraction.numerator");
  EXPECT_THAT(v[0].description, HasSubstr("exceeds denominator"));
}

TEST_F(ValidateTest, CountNegativeOrFractional) {
  EXPECT_THAT(Fields(Number("HEALTH-03", 2024, -1)), ElementsAre("data_values[0].value"));
  EXPECT_THAT(Fields(Number("HEALTH-03", 2024, 2.5)), ElementsAre("data_values[0].value"));
  EXPECT_THAT(Fields(Number("HEALTH-03", 2024, 0)), IsEmpty());
}

TEST_F(ValidateTest, ValueOutsideRangeUsesDisplayValueForFractions) {
  // 2 / 100 × 100 000 = 2 000 per 100 000 > max 1 000.
  auto v = Check(Fraction("HEALTH-01", 2024, 2, 100));
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_EQ(v[0].field, "data_values[0].fraction");
  EXPECT_THAT(v[0].description, HasSubstr("2000"));
  // 40 % < min 50 %.
  EXPECT_THAT(Fields(Fraction("HEALTH-02", 2024, 40, 100)), ElementsAre("data_values[0].fraction"));
  EXPECT_THAT(Fields(Number("HEALTH-04", 2024, 130)), ElementsAre("data_values[0].value"));
  EXPECT_THAT(Fields(Number("HEALTH-03", 2024, 1001)), ElementsAre("data_values[0].value"));
}

// Issue #12 item 2: a published rate or proportion without counts.
TEST_F(ValidateTest, PublishedValueOnlyForRatesAndProportionsAndWithinRange) {
  auto published = [](const std::string& indicator, double value) {
    v1::DataValue v = Number(indicator, 2024, 0);
    v.mutable_published()->set_value(value);
    return v;
  };
  EXPECT_THAT(Check(published("HEALTH-01", 13.2)), IsEmpty());
  EXPECT_THAT(Check(published("HEALTH-02", 61.5)), IsEmpty());
  // Not for a count or a value.
  auto count = Check(published("HEALTH-03", 4));
  ASSERT_THAT(count, SizeIs(1));
  EXPECT_EQ(count[0].field, "data_values[0].published");
  EXPECT_THAT(count[0].description, HasSubstr("RATE or PROPORTION only"));
  // Impossible values and the indicator's range.
  EXPECT_THAT(Fields(published("HEALTH-01", -1)), ElementsAre("data_values[0].published.value"));
  EXPECT_THAT(Fields(published("HEALTH-02", 101)), ElementsAre("data_values[0].published.value"));
  EXPECT_THAT(Fields(published("HEALTH-01", std::nan(""))),
              ElementsAre("data_values[0].published.value"));
  auto range = Check(published("HEALTH-01", 1500));
  ASSERT_THAT(range, SizeIs(1));
  EXPECT_EQ(range[0].field, "data_values[0].published");
  EXPECT_THAT(range[0].description, HasSubstr("1500"));
  EXPECT_THAT(Fields(published("HEALTH-02", 40)), ElementsAre("data_values[0].published"));
  // A qualitative objective takes no published number either.
  v1::DataValue story = Story("HEALTH-05", 2024, "x", "HEALTH_BUREAU");
  story.mutable_published()->set_value(1);
  EXPECT_THAT(Fields(story), ElementsAre("data_values[0].published"));
  EXPECT_DOUBLE_EQ(
      DisplayValue(*catalog_->FindIndicator("HEALTH-01"), published("HEALTH-01", 13.2)), 13.2);
}

TEST_F(ValidateTest, MissingSource) {
  v1::DataValue v = Number("HEALTH-03", 2024, 3);
  v.clear_source();
  EXPECT_THAT(Fields(v), ElementsAre("data_values[0].source"));
}

TEST_F(ValidateTest, OversizedStrings) {
  v1::DataValue v = Number("HEALTH-03", 2024, 3);
  v.set_source(std::string(501, 'x'));
  v.set_note(std::string(2001, 'x'));
  EXPECT_THAT(Fields(v), ElementsAre("data_values[0].source", "data_values[0].note"));
  v1::DataValue s = Story("HEALTH-05", 2024, std::string(8001, 'x'), "HEALTH_BUREAU");
  EXPECT_THAT(Fields(s), ElementsAre("data_values[0].narrative.text"));
  v1::DataValue e = Story("HEALTH-05", 2024, "ok", "HEALTH_BUREAU");
  for (int i = 0; i < 51; ++i) {
    e.mutable_narrative()->add_evidence_refs("ref");
  }
  EXPECT_THAT(Fields(e), ElementsAre("data_values[0].narrative.evidence_refs"));
}

// IsValidUtf8 itself: tests/common/utf8_test.cc.
TEST_F(ValidateTest, InvalidUtf8) {
  v1::DataValue v = Number("HEALTH-03", 2024, 3);
  v.set_note("bad \xff note");
  EXPECT_THAT(Fields(v), ElementsAre("data_values[0].note"));
}

TEST_F(ValidateTest, NarrativeWithoutTextOrSelfAssessment) {
  v1::DataValue v = Story("HEALTH-05", 2024, "", "HEALTH_BUREAU");
  v.mutable_narrative()->set_self_assessment(v1::SELF_ASSESSMENT_UNSPECIFIED);
  EXPECT_THAT(Fields(v), ElementsAre("data_values[0].narrative.text",
                                     "data_values[0].narrative.self_assessment"));
}

TEST_F(ValidateTest, BatchReportsEveryViolationOfEveryRowAtOnce) {
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  *values.Add() = Number("HEALTH-03", 2024, 3);
  *values.Add() = Number("HEALTH-03", 2019, -1);  // two problems
  *values.Add() = Number("NOPE", 2024, 1);
  *values.Add() = Number("HEALTH-03", 2024, 4);  // same key as [0]
  absl::Status st = ValidateBatch("req-1", values, *catalog_, kNow, limits_);
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  for (const auto& v : BadRequestViolations(st)) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ElementsAre("data_values[1].key.year", "data_values[1].value",
                                  "data_values[2].key.indicator_id", "data_values[3].key"));
}

TEST_F(ValidateTest, SameKeyTwiceAfterNormalization) {
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  *values.Add() = Number("HEALTH-03", 2024, 3);
  v1::DataValue explicit_total = Number("HEALTH-03", 2024, 3);
  explicit_total.mutable_key()->set_sex(v1::SEX_TOTAL);
  explicit_total.mutable_key()->set_residence(v1::RESIDENCE_ALL);
  *values.Add() = explicit_total;
  absl::Status st = ValidateBatch("r", values, *catalog_, kNow, limits_);
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  auto v = BadRequestViolations(st);
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_EQ(v[0].field, "data_values[1].key");
}

// DataKey.unit_code: a narrative names one of its indicator's responsible
// units; a figure names none.
TEST_F(ValidateTest, NarrativeUnitRequiredResponsibleAndFiguresHaveNone) {
  EXPECT_THAT(Check(Story("HEALTH-05", 2024, "x", "EDU_BUREAU")), IsEmpty());
  auto missing = Check(Story("HEALTH-05", 2024, "x"));
  ASSERT_THAT(missing, SizeIs(1));
  EXPECT_EQ(missing[0].field, "data_values[0].key.unit_code");
  EXPECT_THAT(missing[0].description, HasSubstr("缺少填报单位"));
  EXPECT_THAT(missing[0].description, HasSubstr("unit_code is required"));
  auto stranger = Check(Story("HEALTH-05", 2024, "x", "WOMENS_FEDERATION"));
  ASSERT_THAT(stranger, SizeIs(1));
  EXPECT_EQ(stranger[0].field, "data_values[0].key.unit_code");
  EXPECT_THAT(stranger[0].description, HasSubstr("不是定性指标HEALTH-05的责任单位"));
  EXPECT_THAT(stranger[0].description, HasSubstr("not a responsible unit"));
  v1::DataValue figure = Number("HEALTH-03", 2024, 3);
  figure.mutable_key()->set_unit_code("HEALTH_BUREAU");
  auto f = Check(figure);
  ASSERT_THAT(f, SizeIs(1));
  EXPECT_EQ(f[0].field, "data_values[0].key.unit_code");
  EXPECT_THAT(f[0].description, HasSubstr("must be empty"));
}

// The same (indicator, area, year, unit) twice is one key twice; two units'
// narratives of one objective and year are two keys.
TEST_F(ValidateTest, SameNarrativeKeyTwiceButTwoUnitsAreTwoKeys) {
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  *values.Add() = Story("HEALTH-05", 2024, "卫健局", "HEALTH_BUREAU");
  *values.Add() = Story("HEALTH-05", 2024, "教育局", "EDU_BUREAU");
  EXPECT_TRUE(ValidateBatch("r", values, *catalog_, kNow, limits_).ok());
  *values.Add() = Story("HEALTH-05", 2024, "卫健局又一次", "HEALTH_BUREAU");
  absl::Status st = ValidateBatch("r", values, *catalog_, kNow, limits_);
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  auto v = BadRequestViolations(st);
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_EQ(v[0].field, "data_values[2].key");
  EXPECT_THAT(v[0].description, HasSubstr("data_values[0]"));
}

TEST_F(ValidateTest, RequestIdAndBatchSize) {
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  absl::Status st = ValidateBatch("", values, *catalog_, kNow, limits_);
  std::vector<std::string> fields;
  for (const auto& v : BadRequestViolations(st)) {
    fields.push_back(v.field);
  }
  EXPECT_THAT(fields, ElementsAre("request_id", "data_values"));
  EXPECT_EQ(BadRequestViolations(
                ValidateBatch(std::string(129, 'r'), values, *catalog_, kNow, limits_))[0]
                .field,
            "request_id");
  ValidationLimits small;
  small.max_batch_values = 2;
  for (int i = 0; i < 3; ++i) {
    *values.Add() = Number("HEALTH-03", 2020 + i, 1);
  }
  st = ValidateBatch("r", values, *catalog_, kNow, small);
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BadRequestViolations(st)[0].field, "data_values");
  EXPECT_TRUE(ValidateBatch("r", values, *catalog_, kNow, limits_).ok());
}

TEST_F(ValidateTest, DisplayValue) {
  auto* rate = catalog_->FindIndicator("HEALTH-01");
  auto* prop = catalog_->FindIndicator("HEALTH-02");
  EXPECT_DOUBLE_EQ(DisplayValue(*rate, Fraction("HEALTH-01", 2024, 3, 30000)), 10.0);
  EXPECT_DOUBLE_EQ(DisplayValue(*prop, Fraction("HEALTH-02", 2024, 45, 50)), 90.0);
}

TEST(AuthorizeTest, UnitsWriteOnlyTheirIndicators) {
  auto catalog = TestCatalog();
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  *values.Add() = Number("HEALTH-03", 2024, 3);
  *values.Add() = Number("HEALTH-06", 2024, 3);
  *values.Add() = Number("NOPE", 2024, 3);  // unknown: left to validation
  std::vector<std::string> units;
  absl::Status st = AuthorizeWrite(MakePrincipal("h", v1::ROLE_KIND_UNIT, "HEALTH_BUREAU"), values,
                                   *catalog, &units);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(st.message()), HasSubstr("HEALTH-06"));
  EXPECT_THAT(std::string(st.message()), ::testing::Not(HasSubstr("HEALTH-03")));

  values.RemoveLast();
  values.RemoveLast();
  ASSERT_TRUE(AuthorizeWrite(MakePrincipal("h", v1::ROLE_KIND_UNIT, "HEALTH_BUREAU"), values,
                             *catalog, &units)
                  .ok());
  EXPECT_THAT(units, ElementsAre("HEALTH_BUREAU"));
}

// A lower instance's exchange (area:<code>) writes any indicator's figures
// of exactly its area, credited to no unit; not another area (a town below
// it included), not a narrative; it lists only its own area.
TEST(AuthorizeTest, ReportingAreaWritesOnlyItsOwnAreasFigures) {
  auto catalog = TestCatalog();
  v1::Principal area;
  area.set_name("jintai-exchange");
  area.add_roles()->set_kind(v1::ROLE_KIND_AREA);
  area.mutable_roles(0)->set_area_code("610303");
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  *values.Add() = Number("HEALTH-03", 2024, 3);
  *values.Add() = Fraction("HEALTH-02", 2024, 90, 100);
  std::vector<std::string> units;
  ASSERT_TRUE(AuthorizeWrite(area, values, *catalog, &units).ok());
  EXPECT_THAT(units, ElementsAre("", ""));

  *values.Add() = Number("HEALTH-03", 2024, 3, "610303001");
  absl::Status st = AuthorizeWrite(area, values, *catalog, &units);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(st), "NOT_REPORTING_AREA");
  EXPECT_THAT(std::string(st.message()), HasSubstr("HEALTH-03@610303001"));
  values.RemoveLast();
  *values.Add() = Story("HEALTH-05", 2024, "x", "HEALTH_BUREAU");
  EXPECT_EQ(AuthorizeWrite(area, values, *catalog, &units).code(),
            absl::StatusCode::kPermissionDenied);

  std::vector<std::string> areas;
  bool scoped = false;
  ASSERT_TRUE(ScopeListToReportingAreas(area, &areas, "", &scoped).ok());
  EXPECT_TRUE(scoped);
  EXPECT_THAT(areas, ElementsAre("610303"));
  areas = {"610303001"};
  EXPECT_EQ(ScopeListToReportingAreas(area, &areas, "", &scoped).code(),
            absl::StatusCode::kPermissionDenied);
  areas = {};
  EXPECT_EQ(ScopeListToReportingAreas(area, &areas, "HEALTH_BUREAU", &scoped).code(),
            absl::StatusCode::kPermissionDenied);
  // Other principals are left to the unit scope.
  ASSERT_TRUE(ScopeListToReportingAreas(MakePrincipal("h", v1::ROLE_KIND_UNIT, "HEALTH_BUREAU"),
                                        &areas, "", &scoped)
                  .ok());
  EXPECT_FALSE(scoped);
}

TEST(AuthorizeTest, SharedIndicatorCreditsTheCallersUnit) {
  auto catalog = TestCatalog();
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  *values.Add() = Fraction("HEALTH-02", 2024, 90, 100);
  std::vector<std::string> units;
  ASSERT_TRUE(
      AuthorizeWrite(MakePrincipal("e", v1::ROLE_KIND_UNIT, "EDU_BUREAU"), values, *catalog, &units)
          .ok());
  EXPECT_THAT(units, ElementsAre("EDU_BUREAU"));
}

// A unit writes its own narrative (unit_code empty → its own, or its own
// named), never another unit's; statistics may name any unit (validation
// then checks it is responsible) and is credited to none.
TEST(AuthorizeTest, NarrativesAreTheUnitsOwn) {
  auto catalog = TestCatalog();
  const v1::Principal health = MakePrincipal("h", v1::ROLE_KIND_UNIT, "HEALTH_BUREAU");
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  *values.Add() = Story("HEALTH-05", 2024, "x");
  *values.Add() = Story("HEALTH-05", 2023, "x", "HEALTH_BUREAU");
  *values.Add() = Number("HEALTH-03", 2024, 1);
  std::vector<std::string> units;
  ASSERT_TRUE(AuthorizeWrite(health, values, *catalog, &units).ok());
  EXPECT_THAT(units, ElementsAre("HEALTH_BUREAU", "HEALTH_BUREAU", "HEALTH_BUREAU"));
  AssignNarrativeUnits(&values, *catalog, units);
  EXPECT_EQ(values[0].key().unit_code(), "HEALTH_BUREAU");
  EXPECT_EQ(values[1].key().unit_code(), "HEALTH_BUREAU");
  EXPECT_EQ(values[2].key().unit_code(), "");  // a figure's key has no unit

  *values.Add() = Story("HEALTH-05", 2024, "x", "EDU_BUREAU");
  absl::Status st = AuthorizeWrite(health, values, *catalog, &units);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(st), "NOT_RESPONSIBLE_UNIT");
  EXPECT_THAT(std::string(st.message()), HasSubstr("HEALTH-05（EDU_BUREAU）"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("HEALTH-05 (EDU_BUREAU)"));

  google::protobuf::RepeatedPtrField<v1::DataValue> stats_values;
  *stats_values.Add() = Story("HEALTH-05", 2024, "x", "EDU_BUREAU");
  *stats_values.Add() = Story("HEALTH-05", 2024, "x");
  ASSERT_TRUE(
      AuthorizeWrite(MakePrincipal("s", v1::ROLE_KIND_STATISTICS), stats_values, *catalog, &units)
          .ok());
  EXPECT_THAT(units, ElementsAre("", ""));
  AssignNarrativeUnits(&stats_values, *catalog, units);
  EXPECT_EQ(stats_values[1].key().unit_code(), "");  // left to validation: required
}

TEST(AuthorizeTest, StatisticsAndAdminWriteAnythingAssessmentNothing) {
  auto catalog = TestCatalog();
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  *values.Add() = Number("HEALTH-03", 2024, 3);
  *values.Add() = Number("HEALTH-06", 2024, 3);
  std::vector<std::string> units;
  EXPECT_TRUE(
      AuthorizeWrite(MakePrincipal("s", v1::ROLE_KIND_STATISTICS), values, *catalog, &units).ok());
  EXPECT_THAT(units, ElementsAre("", ""));
  EXPECT_TRUE(
      AuthorizeWrite(MakePrincipal("a", v1::ROLE_KIND_ADMIN), values, *catalog, &units).ok());
  EXPECT_EQ(
      AuthorizeWrite(MakePrincipal("x", v1::ROLE_KIND_ASSESSMENT), values, *catalog, &units).code(),
      absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace halfsky::submission
