// Unit tests of the table path of `halfskyctl submit` for workbooks
// (submit/xlsx.h) and for the form rules it shares with CSV (submit/table.h),
// on workbooks written by openpyxl at test time
// (tests/common/xlsx/xlsx_fixtures.py form).
#include <string>

#include "absl/strings/str_cat.h"
#include "common/submission_file/csv.h"
#include "common/submission_file/xlsx.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/python.h"

namespace halfsky::submit {
namespace {

namespace ht = ::halfsky::testing;
namespace v1 = ::halfsky::v1;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class XlsxSubmitTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(ht::MakeTempDir("xlsx-submit"));
    absl::StatusOr<std::string> python = ht::FindPython("openpyxl", "python3-openpyxl");
    ASSERT_TRUE(python.ok()) << python.status();
    absl::Status st = ht::RunPython(
        *python, absl::StrCat(HALFSKY_SOURCE_DIR, "/tests/common/xlsx/xlsx_fixtures.py"),
        {"form", *dir_});
    ASSERT_TRUE(st.ok()) << st;
  }
  static WorkbookParseResult Parse(const std::string& name) {
    const std::string bytes = ht::ReadFile(*dir_ + "/" + name);
    EXPECT_FALSE(bytes.empty()) << name;
    return ParseSubmissionXlsx(bytes);
  }
  static std::string* dir_;
};
std::string* XlsxSubmitTest::dir_ = nullptr;

TEST(ShortestDecimalTest, IntegersAndRoundTrips) {
  EXPECT_EQ(ShortestDecimal(610303100), "610303100");
  EXPECT_EQ(ShortestDecimal(2024), "2024");
  EXPECT_EQ(ShortestDecimal(610000000), "610000000");
  EXPECT_EQ(ShortestDecimal(-0.0), "0");
  EXPECT_EQ(ShortestDecimal(0.1), "0.1");
  EXPECT_EQ(ShortestDecimal(79.35), "79.35");
  EXPECT_EQ(ShortestDecimal(0.30000000000000004), "0.30000000000000004");
}

TEST_F(XlsxSubmitTest, FilledFormIsReadBlankRowsCounted) {
  WorkbookParseResult r = Parse("form.xlsx");
  ASSERT_TRUE(r.table.errors.empty()) << r.table.errors[0];
  EXPECT_TRUE(r.table.form);
  EXPECT_EQ(r.table.blank_form_rows, 2);
  ASSERT_THAT(r.sheets, SizeIs(2));
  EXPECT_EQ(r.sheets[0].name, "表式");
  EXPECT_TRUE(r.sheets[0].has_table);
  EXPECT_EQ(r.sheets[0].header_row, 7);
  EXPECT_EQ(r.sheets[0].values, 3);
  EXPECT_EQ(r.sheets[1].name, "指标解释");
  EXPECT_FALSE(r.sheets[1].has_table);
  ASSERT_THAT(r.table.values, SizeIs(3));
  const TableValue& a = r.table.values[0];
  EXPECT_EQ(a.sheet, "表式");
  EXPECT_EQ(a.line, 8);
  EXPECT_EQ(a.value.key().indicator_id(), "HEALTH-11");
  EXPECT_EQ(a.value.key().area_code(), "610303");  // a number cell, read as its digits
  EXPECT_EQ(a.value.key().year(), 2023);
  EXPECT_EQ(a.value.key().sex(), v1::SEX_TOTAL);
  EXPECT_EQ(a.value.fraction().numerator(), 12);
  EXPECT_EQ(a.value.fraction().denominator(), 1000);  // =600+400, its cached value
  EXPECT_EQ(a.value.source(), "妇幼年报（Excel）");
  const TableValue& b = r.table.values[1];
  EXPECT_EQ(b.line, 10);
  EXPECT_EQ(b.value.value(), 79.35);  // exactly the double Excel stored
  EXPECT_EQ(b.value.note(), "Excel表式");
  const TableValue& c = r.table.values[2];
  EXPECT_EQ(c.line, 11);
  EXPECT_EQ(c.value.fraction().numerator(), 7);  // a text cell "7", read as CSV reads it
  EXPECT_EQ(c.value.key().year(), 2021);
}

TEST_F(XlsxSubmitTest, BadCellsAreNamedAsSheetCellAllAtOnce) {
  WorkbookParseResult r = Parse("form_bad.xlsx");
  ASSERT_THAT(r.table.errors, SizeIs(3));
  EXPECT_THAT(r.table.errors[0],
              AllOf(HasSubstr("表式!L9 (数值)："), HasSubstr("ambiguous comma")));
  EXPECT_THAT(r.table.errors[1],
              AllOf(HasSubstr("表式!K10 (分母)："), HasSubstr("#DIV/0!"), HasSubstr("不是数字")));
  EXPECT_THAT(r.table.errors[2], AllOf(HasSubstr("表式!J11 (分子)："), HasSubstr("not a number")));
}

TEST_F(XlsxSubmitTest, FormulaWithoutCachedValue) {
  WorkbookParseResult r = Parse("form_uncached.xlsx");
  ASSERT_THAT(r.table.errors, SizeIs(1));
  // Only the formula in a column that is read: 上年数值 (O8) and the
  // 指标解释 sheet's formula are not.
  EXPECT_THAT(r.table.errors[0], HasSubstr("表式!K8 (分母)：公式没有缓存值"));
  EXPECT_TRUE(r.table.values.empty());
}

TEST_F(XlsxSubmitTest, NothingFilledInPlainWorkbookAndNoTable) {
  WorkbookParseResult blank = Parse("form_blank.xlsx");
  ASSERT_THAT(blank.table.errors, SizeIs(1));
  EXPECT_THAT(blank.table.errors[0], HasSubstr("没有填写任何数据（未填 2 行）"));

  WorkbookParseResult plain = Parse("plain.xlsx");
  ASSERT_TRUE(plain.table.errors.empty()) << plain.table.errors[0];
  EXPECT_FALSE(plain.table.form);
  ASSERT_THAT(plain.table.values, SizeIs(1));
  EXPECT_EQ(plain.table.values[0].line, 2);
  EXPECT_EQ(plain.table.values[0].value.fraction().numerator(), 5);
  EXPECT_EQ(plain.table.values[0].value.key().area_code(), "610303");

  WorkbookParseResult none = Parse("nothing.xlsx");
  ASSERT_THAT(none.table.errors, SizeIs(1));
  EXPECT_THAT(none.table.errors[0], HasSubstr("工作簿中没有报表"));

  WorkbookParseResult garbage = ParseSubmissionXlsx("not a zip");
  ASSERT_THAT(garbage.table.errors, SizeIs(1));
  EXPECT_THAT(garbage.table.errors[0], HasSubstr("不是 .xlsx 文件"));
}

// A sheet's table (built as xlsx.cc builds it): an unknown column is still
// an error, a cell under no header is refused, a plain table (no 填报内容)
// keeps the "no payload" error.
TEST(TableTest, SheetRules) {
  Table t;
  t.sheet = "Sheet1";
  t.header_line = 3;
  t.header = {"指标代码", "区域代码", "年份", "数值", "颜色"};
  EXPECT_THAT(ParseSubmissionTable(t).errors, ElementsAre(HasSubstr("Sheet1!E3：未知列“颜色”")));
  t.header = {"指标代码", "区域代码", "年份", "数值", "指标名称"};
  Table::Row row;
  row.line = 4;
  row.cells = {TableCell::Text("HEALTH-03"), TableCell::Number(610303), TableCell::Number(2024),
               TableCell::Number(5),         TableCell::Text("名称"),   TableCell::Text("多余")};
  t.rows.push_back(row);
  Table::Row empty_payload;
  empty_payload.line = 5;
  empty_payload.cells = {TableCell::Text("HEALTH-03"), TableCell::Number(610303),
                         TableCell::Number(2024)};
  t.rows.push_back(empty_payload);
  TableParseResult r = ParseSubmissionTable(t);
  EXPECT_FALSE(r.form);
  ASSERT_THAT(r.errors, ElementsAre(HasSubstr("Sheet1!F4："), HasSubstr("Sheet1 第5行")));
  EXPECT_THAT(r.errors[0], HasSubstr("no column header"));
  EXPECT_THAT(r.errors[1], HasSubstr("no payload"));
}

// The form rules hold for a CSV too (the form's --format csv): a header
// block above the header record, informational columns ignored, blank form
// rows skipped and counted.
TEST(TableTest, CsvFormWithHeaderBlock) {
  CsvParseResult r = ParseSubmissionCsv(
      "妇女发展纲要监测统计报表\n"
      "表号：HS-01,,\n"
      "填报单位：区卫生健康局\n"
      "指标代码,指标名称,区域代码,年份,计量单位,填报内容,分子,分母,上年分子,上年分母,数据来源\n"
      "HEALTH-11,孕产妇系统管理率,610303,2023,%,分子/分母,12,1000,10,900,妇幼年报\n"
      "HEALTH-11,孕产妇系统管理率,610303,2022,%,分子/分母,,,9,950,\n"
      "HEALTH-11,孕产妇系统管理率,610303,2021,%,分子/分母,,,,,妇幼年报\n");
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  EXPECT_TRUE(r.form);
  EXPECT_EQ(r.blank_form_rows, 2);
  ASSERT_THAT(r.values, SizeIs(1));
  EXPECT_EQ(r.values[0].line, 5);
  EXPECT_EQ(r.values[0].value.fraction().denominator(), 1000);

  // Without 填报内容 it is a plain table: a row without payload is an error.
  CsvParseResult plain = ParseSubmissionCsv(
      "指标代码,指标名称,区域代码,年份,分子,分母,数据来源\n"
      "HEALTH-11,孕产妇系统管理率,610303,2022,,,\n");
  ASSERT_THAT(plain.errors, SizeIs(1));
  EXPECT_THAT(plain.errors[0], AllOf(HasSubstr("line 2"), HasSubstr("no payload")));

  // Nothing filled in at all.
  CsvParseResult blank =
      ParseSubmissionCsv("指标代码,区域代码,年份,填报内容,数值\nHEALTH-03,610303,2024,数值,\n");
  ASSERT_THAT(blank.errors, SizeIs(1));
  EXPECT_THAT(blank.errors[0], HasSubstr("未填 1 行"));
}

}  // namespace
}  // namespace halfsky::submit
