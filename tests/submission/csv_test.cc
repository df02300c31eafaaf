// Unit tests of the CSV reader of `halfskyctl submit`.
#include "services/halfskyctl/submit/csv.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace halfsky::submit {
namespace {

namespace v1 = ::halfsky::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST(ParseCsvTest, Rfc4180QuotesAndLineNumbers) {
  auto r = ParseCsv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\n1,,3\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(*r, SizeIs(3));
  EXPECT_THAT((*r)[1].fields, ElementsAre("x, y", "say \"hi\"", "two\nlines"));
  EXPECT_EQ((*r)[1].line, 2);
  EXPECT_EQ((*r)[2].line, 5);  // after the two-line field and a blank line
  EXPECT_THAT((*r)[2].fields, ElementsAre("1", "", "3"));
}

TEST(ParseCsvTest, NoTrailingNewlineAndBom) {
  auto r = ParseCsv("\xEF\xBB\xBFh1,h2\nv1,v2");
  ASSERT_TRUE(r.ok());
  ASSERT_THAT(*r, SizeIs(2));
  EXPECT_EQ((*r)[0].fields[0], "h1");
  EXPECT_THAT((*r)[1].fields, ElementsAre("v1", "v2"));
}

TEST(ParseCsvTest, Errors) {
  EXPECT_THAT(std::string(ParseCsv("a\n\"open").status().message()), HasSubstr("line 2"));
  EXPECT_FALSE(ParseCsv("\"a\"b\n").ok());
  EXPECT_FALSE(ParseCsv("a,\xff\n").ok());
}

TEST(ParseSubmissionCsvTest, ChineseHeadersEveryPayload) {
  const std::string csv =
      "\xEF\xBB\xBF指标代码,区域代码,年份,性别,城乡,分子,分母,数值,数据来源,备注,工作进展,自评,"
      "佐证材料\n"
      "HEALTH-01,610303,2024,合计,农村,2,\"20,000\",,妇幼年报,,,,\n"
      "HEALTH-03,610303,2024,女,全部,,,3,部门统计,备注一,,,\n"
      "HEALTH-05,610303,2024,,,,,,工作总结,,\"建成新院区，\n开展培训\",基本达标,文件1；文件2;"
      "文件3\n";
  CsvParseResult r = ParseSubmissionCsv(csv);
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_THAT(r.values, SizeIs(3));
  const v1::DataValue& a = r.values[0].value;
  EXPECT_EQ(r.values[0].line, 2);
  EXPECT_EQ(a.key().indicator_id(), "HEALTH-01");
  EXPECT_EQ(a.key().residence(), v1::RESIDENCE_RURAL);
  EXPECT_EQ(a.key().sex(), v1::SEX_TOTAL);
  EXPECT_EQ(a.fraction().denominator(), 20000);
  EXPECT_EQ(a.source(), "妇幼年报");
  const v1::DataValue& b = r.values[1].value;
  EXPECT_EQ(b.key().sex(), v1::SEX_FEMALE);
  EXPECT_EQ(b.value(), 3);
  EXPECT_EQ(b.note(), "备注一");
  const v1::DataValue& c = r.values[2].value;
  EXPECT_EQ(r.values[2].line, 4);
  EXPECT_EQ(c.narrative().self_assessment(), v1::SELF_ASSESSMENT_MOSTLY_MET);
  EXPECT_THAT(c.narrative().evidence_refs(), ElementsAre("文件1", "文件2", "文件3"));
  EXPECT_THAT(c.narrative().text(), HasSubstr("开展培训"));
}

TEST(ParseSubmissionCsvTest, EnglishHeadersAnyOrder) {
  CsvParseResult r = ParseSubmissionCsv(
      "year,value,area_code,indicator_id,sex,residence,source\n2023,5,610303,HEALTH-03,male,urban,"
      "x\n");
  ASSERT_TRUE(r.errors.empty());
  ASSERT_THAT(r.values, SizeIs(1));
  EXPECT_EQ(r.values[0].value.key().year(), 2023);
  EXPECT_EQ(r.values[0].value.key().sex(), v1::SEX_MALE);
  EXPECT_EQ(r.values[0].value.key().residence(), v1::RESIDENCE_URBAN);
}

TEST(ParseSubmissionCsvTest, ErrorsNameTheLine) {
  CsvParseResult r = ParseSubmissionCsv(
      "indicator_id,area_code,year,value,numerator,denominator,sex,self_assessment\n"
      "HEALTH-03,610303,twenty,1,,,,\n"       // line 2: year
      "HEALTH-03,610303,2024,1,1,2,,\n"       // line 3: two payloads
      "HEALTH-03,610303,2024,,,,,\n"          // line 4: no payload
      "HEALTH-03,610303,2024,x,,,,\n"         // line 5: not a number
      "HEALTH-03,610303,2024,1,,,unknown,\n"  // line 6: sex
      "HEALTH-05,610303,2024,,,,,maybe\n");   // line 7: self assessment
  ASSERT_THAT(r.errors, SizeIs(6));
  EXPECT_THAT(r.errors[0], HasSubstr("line 2"));
  EXPECT_THAT(r.errors[1], HasSubstr("line 3"));
  EXPECT_THAT(r.errors[2], HasSubstr("line 4"));
  EXPECT_THAT(r.errors[3], HasSubstr("line 5"));
  EXPECT_THAT(r.errors[4], HasSubstr("line 6"));
  EXPECT_THAT(r.errors[5], HasSubstr("line 7"));
}

// 填报单位 / unit_code: whose narrative a row is; optional (a unit's own
// token may leave the column out or a cell empty).
TEST(ParseSubmissionCsvTest, UnitColumnInBothLanguages) {
  CsvParseResult zh = ParseSubmissionCsv(
      "指标代码,区域代码,年份,工作进展,自评,数据来源,填报单位\n"
      "HEALTH-05,610303,2024,妇联开展宣讲,达标,工作总结,WOMENS_FEDERATION\n"
      "HEALTH-05,610303,2024,卫健局建成新院区,基本达标,工作总结, HEALTH_BUREAU \n"
      "HEALTH-05,610303,2023,本单位,达标,工作总结,\n");
  ASSERT_TRUE(zh.errors.empty()) << zh.errors[0];
  ASSERT_THAT(zh.values, SizeIs(3));
  EXPECT_EQ(zh.values[0].value.key().unit_code(), "WOMENS_FEDERATION");
  EXPECT_EQ(zh.values[1].value.key().unit_code(), "HEALTH_BUREAU");  // trimmed
  EXPECT_EQ(zh.values[2].value.key().unit_code(), "");

  CsvParseResult en = ParseSubmissionCsv(
      "unit_code,indicator_id,area_code,year,narrative,self_assessment,source\n"
      "EDU_BUREAU,HEALTH-05,610303,2024,x,met,s\n");
  ASSERT_TRUE(en.errors.empty()) << en.errors[0];
  ASSERT_THAT(en.values, SizeIs(1));
  EXPECT_EQ(en.values[0].value.key().unit_code(), "EDU_BUREAU");

  // Without the column every key's unit_code is empty.
  CsvParseResult none =
      ParseSubmissionCsv("indicator_id,area_code,year,value\nHEALTH-03,610303,2024,1\n");
  ASSERT_THAT(none.values, SizeIs(1));
  EXPECT_EQ(none.values[0].value.key().unit_code(), "");
  // Named twice (once per language) is a header error like any other column.
  EXPECT_FALSE(ParseSubmissionCsv("indicator_id,area_code,year,value,填报单位,unit_code\n"
                                  "HEALTH-03,610303,2024,1,A,A\n")
                   .errors.empty());
}

TEST(ParseSubmissionCsvTest, HeaderProblems) {
  CsvParseResult r = ParseSubmissionCsv("indicator_id,colour\nHEALTH-03,red\n");
  ASSERT_THAT(r.errors, SizeIs(3));  // unknown column, missing area_code, missing year
  EXPECT_THAT(r.errors[0], HasSubstr("colour"));
  EXPECT_FALSE(ParseSubmissionCsv("").errors.empty());
  EXPECT_FALSE(ParseSubmissionCsv("indicator_id,area_code,year,value\n").errors.empty());
}

}  // namespace
}  // namespace halfsky::submit
