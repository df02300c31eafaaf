// Unit tests of the CSV reader of `halfskyctl submit`.
#include "common/submission_file/csv.h"

#include "absl/strings/str_cat.h"
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

// Excel's "Unicode text" is tab separated (halfskyctl submit passes '\t'
// for UTF-16 files): commas are then ordinary text.
TEST(ParseSubmissionCsvTest, TabSeparatedWhenAsked) {
  const std::string tsv =
      "指标代码\t区域代码\t年份\t数值\t数据来源\nHEALTH-03\t610303\t2023\t5\t年报, 第2版\n";
  CsvParseResult r = ParseSubmissionCsv(tsv, '\t');
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_THAT(r.values, SizeIs(1));
  EXPECT_EQ(r.values[0].value.key().indicator_id(), "HEALTH-03");
  EXPECT_EQ(r.values[0].value.source(), "年报, 第2版");
  // Read as comma separated, the header is one unknown column.
  EXPECT_FALSE(ParseSubmissionCsv(tsv).errors.empty());
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

// 公布数 / published: a rate as a publication prints it, instead of its
// counts; 修改原因 / change_reason: optional free text kept with the value.
TEST(ParseSubmissionCsvTest, PublishedAndChangeReasonInBothLanguages) {
  CsvParseResult zh = ParseSubmissionCsv(
      "指标代码,区域代码,年份,分子,分母,公布数,数据来源,修改原因\n"
      "HEALTH-01,610303,2024,,,13.2,统计年鉴2025,年鉴更正\n"
      "HEALTH-01,610303100,2024,2,\"20,000\",,妇幼年报,\n");
  ASSERT_TRUE(zh.errors.empty()) << zh.errors[0];
  ASSERT_THAT(zh.values, SizeIs(2));
  const v1::DataValue& a = zh.values[0].value;
  ASSERT_EQ(a.payload_case(), v1::DataValue::kPublished);
  EXPECT_DOUBLE_EQ(a.published().value(), 13.2);
  EXPECT_EQ(a.change_reason(), "年鉴更正");
  EXPECT_EQ(a.source(), "统计年鉴2025");
  const v1::DataValue& b = zh.values[1].value;
  ASSERT_EQ(b.payload_case(), v1::DataValue::kFraction);
  EXPECT_EQ(b.fraction().denominator(), 20000);
  EXPECT_EQ(b.change_reason(), "");

  CsvParseResult en = ParseSubmissionCsv(
      "indicator_id,area_code,year,published,change_reason,source\n"
      "HEALTH-02,610303,2023,\" 45.5 \",\"corrected, see letter 12\",s\n");
  ASSERT_TRUE(en.errors.empty()) << en.errors[0];
  ASSERT_THAT(en.values, SizeIs(1));
  EXPECT_DOUBLE_EQ(en.values[0].value.published().value(), 45.5);
  EXPECT_EQ(en.values[0].value.change_reason(), "corrected, see letter 12");
  // A reason also goes with the other payloads.
  CsvParseResult value = ParseSubmissionCsv(
      "indicator_id,area_code,year,value,修改原因\nHEALTH-03,610303,2024,5,复核\n");
  ASSERT_TRUE(value.errors.empty()) << value.errors[0];
  EXPECT_EQ(value.values[0].value.change_reason(), "复核");
}

TEST(ParseSubmissionCsvTest, PublishedIsOneFormOneNumber) {
  CsvParseResult r = ParseSubmissionCsv(
      "indicator_id,area_code,year,numerator,denominator,published,value,source\n"
      "HEALTH-01,610303,2024,2,100,2.0,,s\n"    // line 2: counts and published
      "HEALTH-01,610303,2024,,,\"1,5\",,s\n"    // line 3: ambiguous number
      "HEALTH-01,610303,2024,,,13.2/10万,,s\n"  // line 4: not one number
      "HEALTH-01,610303,2024,,,13.2,7,s\n"      // line 5: published and value
      "HEALTH-01,610303,2024,,,13.2,,s\n");     // line 6: fine
  ASSERT_THAT(r.errors, SizeIs(4));
  EXPECT_THAT(r.errors[0], HasSubstr("line 2, column 6 (published)"));
  EXPECT_THAT(r.errors[0], HasSubstr("分子分母与公布数只能填一种"));
  EXPECT_THAT(r.errors[1], HasSubstr("line 3, column 6 (published)"));
  EXPECT_THAT(r.errors[2], HasSubstr("line 4, column 6 (published)"));
  EXPECT_THAT(r.errors[3], HasSubstr("line 5"));
  EXPECT_THAT(r.errors[3], HasSubstr("只能填一种数据"));
  ASSERT_THAT(r.values, SizeIs(1));
  EXPECT_EQ(r.values[0].line, 6);
  // Named twice (once per language) is a header error.
  EXPECT_FALSE(ParseSubmissionCsv("indicator_id,area_code,year,公布数,published\n"
                                  "HEALTH-01,610303,2024,1,1\n")
                   .errors.empty());
}

TEST(ParseSubmissionCsvTest, HeaderProblems) {
  CsvParseResult r = ParseSubmissionCsv("indicator_id,colour\nHEALTH-03,red\n");
  ASSERT_THAT(r.errors, SizeIs(3));  // unknown column, missing area_code, missing year
  EXPECT_THAT(r.errors[0], HasSubstr("colour"));
  EXPECT_THAT(r.errors[0], HasSubstr("line 1, column 2"));
  EXPECT_FALSE(ParseSubmissionCsv("").errors.empty());
  EXPECT_FALSE(ParseSubmissionCsv("indicator_id,area_code,year,value\n").errors.empty());
}

// Issue #13: no silent misreads. An unquoted thousands separator splits a
// number into two cells: the row has more cells than the header, refused
// at its line and the first extra column (it stored 12 with source "345").
TEST(ParseSubmissionCsvTest, RaggedRowsAreRefusedAtLineAndColumn) {
  CsvParseResult r = ParseSubmissionCsv(
      "指标代码,区域代码,年份,数值,数据来源\n"
      "EDUCATION-06,610303,2023,12,345,教育统计年报\n"
      "EDUCATION-06,610303,2022,7\n"
      "EDUCATION-06,610303,2021,8,教育统计年报\n");
  ASSERT_THAT(r.errors, SizeIs(2));
  EXPECT_THAT(r.errors[0], HasSubstr("line 2, column 6"));
  EXPECT_THAT(r.errors[0], HasSubstr("6 cells but the header has 5"));
  EXPECT_THAT(r.errors[1], HasSubstr("line 3, column 5 (数据来源)"));
  EXPECT_THAT(r.errors[1], HasSubstr("only 4 cells"));
}

// A comma in a number is taken as a thousands separator only when the
// whole column uses them consistently; "1,5" (a decimal comma) is refused,
// never read as 15.
TEST(ParseSubmissionCsvTest, CommasInNumbersAreNeverGuessed) {
  CsvParseResult decimal_comma = ParseSubmissionCsv(
      "indicator_id,area_code,year,value,source\n"
      "HEALTH-03,610303,2023,\"1,5\",x\n");
  ASSERT_THAT(decimal_comma.errors, SizeIs(1));
  EXPECT_THAT(decimal_comma.errors[0], HasSubstr("line 2, column 4 (value)"));
  EXPECT_THAT(decimal_comma.errors[0], HasSubstr("ambiguous comma"));
  EXPECT_TRUE(decimal_comma.values.empty());

  CsvParseResult consistent = ParseSubmissionCsv(
      "indicator_id,area_code,year,value,source\n"
      "HEALTH-03,610303,2021,\"12,345\",x\n"
      "HEALTH-03,610303,2022,\"1,234,567.5\",x\n"
      "HEALTH-03,610303,2023,987,x\n");
  ASSERT_TRUE(consistent.errors.empty()) << consistent.errors[0];
  ASSERT_THAT(consistent.values, SizeIs(3));
  EXPECT_EQ(consistent.values[0].value.value(), 12345);
  EXPECT_EQ(consistent.values[1].value.value(), 1234567.5);
  EXPECT_EQ(consistent.values[2].value.value(), 987);

  // "1,234" next to "5678": is it 1234 or 1.234? Refused.
  CsvParseResult mixed = ParseSubmissionCsv(
      "indicator_id,area_code,year,value,source\n"
      "HEALTH-03,610303,2021,\"1,234\",x\n"
      "HEALTH-03,610303,2022,5678,x\n");
  ASSERT_THAT(mixed.errors, SizeIs(1));
  EXPECT_THAT(mixed.errors[0], HasSubstr("line 2, column 4"));
  EXPECT_THAT(mixed.errors[0], HasSubstr("inconsistently"));

  for (const char* cell : {"12 345", "1.2.3", "0x10", "１２", "12abc", "--1", "1e"}) {
    CsvParseResult bad = ParseSubmissionCsv(absl::StrCat(
        "indicator_id,area_code,year,value,source\nHEALTH-03,610303,2021,\"", cell, "\",x\n"));
    EXPECT_THAT(bad.errors, SizeIs(1)) << cell;
  }
}

// A NUL (or any control character but tab and newline) in a cell is
// refused at its line and column; every problem of the file at once.
TEST(ParseSubmissionCsvTest, ControlCharactersAreRefusedAtLineAndColumn) {
  static const char kCsv[] =
      "indicator_id,area_code,year,value,source,note\n"
      "HEALTH-03,610303,2021,1,a\0b,\n"
      "HEALTH-03,610303,2022,2,x,\"bell\x07\"\n"
      "HEALTH-03,610303,2023,3,x,\"tab\tand\nnewline\"\n";
  CsvParseResult r = ParseSubmissionCsv(std::string(kCsv, sizeof(kCsv) - 1));
  ASSERT_THAT(r.errors, SizeIs(2));
  EXPECT_THAT(r.errors[0], HasSubstr("line 2, column 5 (source)"));
  EXPECT_THAT(r.errors[0], HasSubstr("U+0000"));
  EXPECT_THAT(r.errors[1], HasSubstr("line 3, column 6 (note)"));
  EXPECT_THAT(r.errors[1], HasSubstr("U+0007"));
}

// A CRLF file leaves no carriage return anywhere: not at a record's end,
// not in a quoted cell spanning lines (kept as "\n").
TEST(ParseSubmissionCsvTest, CrlfLeavesNoCarriageReturn) {
  CsvParseResult r = ParseSubmissionCsv(
      "指标代码,区域代码,年份,工作进展,自评,数据来源\r\n"
      "HEALTH-05,610303,2024,\"第一段\r\n第二段\",达标,工作总结\r\n"
      "HEALTH-05,610302,2024,x,达标,\"工作总结\"\r\n");
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_THAT(r.values, SizeIs(2));
  EXPECT_EQ(r.values[0].value.source(), "工作总结");
  EXPECT_EQ(r.values[0].value.narrative().text(), "第一段\n第二段");
  EXPECT_EQ(r.values[1].value.source(), "工作总结");
  EXPECT_EQ(r.values[1].line, 4);
}

}  // namespace
}  // namespace halfsky::submit
