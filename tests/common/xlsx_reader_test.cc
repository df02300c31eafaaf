// Unit tests of common/xlsx/reader.h on workbooks written at test time by
// openpyxl (tests/common/xlsx/xlsx_fixtures.py), an independent writer,
// with the parts openpyxl does not write (shared strings with rich text,
// cached formula values) or broken ones patched in as Excel would write them.
#include <string>

#include "absl/strings/str_cat.h"
#include "common/xlsx/reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/python.h"

namespace halfsky::xlsx {
namespace {

namespace ht = ::halfsky::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

class XlsxReaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(ht::MakeTempDir("xlsx-reader"));
    absl::StatusOr<std::string> python = ht::FindPython("openpyxl", "python3-openpyxl");
    ASSERT_TRUE(python.ok()) << python.status();
    absl::Status st = ht::RunPython(
        *python, absl::StrCat(HALFSKY_SOURCE_DIR, "/tests/common/xlsx/xlsx_fixtures.py"),
        {"reader", *dir_});
    ASSERT_TRUE(st.ok()) << st;
  }
  static std::string File(const std::string& name) { return ht::ReadFile(*dir_ + "/" + name); }
  static absl::StatusOr<Workbook> Read(const std::string& name, const ReadLimits& limits = {}) {
    const std::string bytes = File(name);
    EXPECT_FALSE(bytes.empty()) << name;
    return ReadWorkbook(bytes, limits);
  }
  static const Cell* Find(const Sheet& s, int row, int column) {
    for (const Cell& c : s.cells) {
      if (c.row == row && c.column == column) {
        return &c;
      }
    }
    return nullptr;
  }
  static std::string* dir_;
};
std::string* XlsxReaderTest::dir_ = nullptr;

TEST(XlsxNamesTest, CellNamesAndLabels) {
  EXPECT_EQ(CellName(7, 4), "D7");
  EXPECT_EQ(ColumnName(26), "Z");
  EXPECT_EQ(ColumnName(27), "AA");
  EXPECT_EQ(ColumnName(16384), "XFD");
  EXPECT_EQ(CellLabel("表式", 7, 4), "表式!D7");
  EXPECT_EQ(CellLabel("Sheet1", 1, 1), "Sheet1!A1");
  EXPECT_EQ(CellLabel("Data 2", 3, 2), "'Data 2'!B3");
  EXPECT_EQ(CellLabel("it's", 1, 1), "'it''s'!A1");
  EXPECT_EQ(CellLabel("A1", 1, 1), "'A1'!A1");
}

TEST_F(XlsxReaderTest, EveryCellTypeSheetsInOrder) {
  absl::StatusOr<Workbook> wb = Read("cells.xlsx");
  ASSERT_TRUE(wb.ok()) << wb.status();
  ASSERT_THAT(wb->sheets, SizeIs(3));
  EXPECT_EQ(wb->sheets[0].name, "表式");
  EXPECT_EQ(wb->sheets[1].name, "Data 2");
  EXPECT_EQ(wb->sheets[2].name, "lists");
  EXPECT_FALSE(wb->sheets[0].hidden);
  EXPECT_TRUE(wb->sheets[2].hidden);
  const Sheet& s = wb->sheets[0];
  const Cell* title = Find(s, 1, 1);
  ASSERT_NE(title, nullptr);
  EXPECT_EQ(title->type, CellType::kText);
  EXPECT_EQ(title->text, "标题");
  const Cell* b2 = Find(s, 2, 2);
  ASSERT_NE(b2, nullptr);
  EXPECT_EQ(b2->type, CellType::kNumber);
  EXPECT_EQ(b2->number, 12);
  EXPECT_EQ(Find(s, 2, 3)->number, -3.5);
  EXPECT_EQ(Find(s, 2, 4)->number, 0.1);
  EXPECT_EQ(Find(s, 2, 5)->number, 1e-7);
  EXPECT_EQ(Find(s, 2, 6)->type, CellType::kBool);
  EXPECT_EQ(Find(s, 2, 6)->text, "TRUE");
  EXPECT_EQ(Find(s, 2, 7)->type, CellType::kError);
  EXPECT_EQ(Find(s, 2, 7)->text, "#DIV/0!");
  // Rich text runs joined, the phonetic run left out.
  EXPECT_EQ(Find(s, 2, 8)->text, "富文本 ");
  EXPECT_EQ(Find(s, 2, 9)->number, 610303100);
  // Taken exactly: 17 significant digits are not rounded to 0.3.
  EXPECT_EQ(Find(s, 2, 10)->number, 0.30000000000000004);
  EXPECT_NE(Find(s, 2, 10)->number, 0.3);
  // Formulas: their cached values, number and text.
  const Cell* a3 = Find(s, 3, 1);
  ASSERT_NE(a3, nullptr);
  EXPECT_TRUE(a3->formula);
  EXPECT_EQ(a3->type, CellType::kNumber);
  EXPECT_EQ(a3->number, 24);
  EXPECT_EQ(Find(s, 3, 2)->type, CellType::kText);
  EXPECT_EQ(Find(s, 3, 2)->text, "ok");
  EXPECT_FALSE(Find(s, 2, 2)->formula);
  // "_x0007_" is the escape of a control character.
  EXPECT_EQ(Find(s, 3, 3)->text,
            "a\x07"
            "b");
  // The last cell Excel has.
  const Cell* corner = Find(s, 1048576, 16384);
  ASSERT_NE(corner, nullptr);
  EXPECT_EQ(corner->text, "corner");
  // Ordered by row then column.
  for (size_t i = 1; i < s.cells.size(); ++i) {
    EXPECT_LT(std::pair(s.cells[i - 1].row, s.cells[i - 1].column),
              std::pair(s.cells[i].row, s.cells[i].column));
  }
  EXPECT_EQ(Find(wb->sheets[1], 1, 1)->text, "second");
  EXPECT_EQ(Find(wb->sheets[2], 1, 1)->text, "合计");
}

TEST_F(XlsxReaderTest, FormulaWithoutCachedValueNamesEveryCell) {
  absl::StatusOr<Workbook> wb = Read("uncached.xlsx");
  ASSERT_FALSE(wb.ok());
  EXPECT_EQ(wb.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wb.status().message(),
              AllOf(HasSubstr("表式!D7：公式没有缓存值"), HasSubstr("表式!E9：公式没有缓存值"),
                    HasSubstr("no cached value")));
  // Or kept as kNoValue cells, for a caller that decides where they matter.
  ReadLimits keep;
  keep.refuse_uncached_formulas = false;
  absl::StatusOr<Workbook> kept = Read("uncached.xlsx", keep);
  ASSERT_TRUE(kept.ok()) << kept.status();
  const Cell* d7 = Find(kept->sheets[0], 7, 4);
  ASSERT_NE(d7, nullptr);
  EXPECT_EQ(d7->type, CellType::kNoValue);
  EXPECT_TRUE(d7->formula);
  EXPECT_EQ(Find(kept->sheets[0], 9, 5)->type, CellType::kNoValue);
}

TEST_F(XlsxReaderTest, CellsWithoutReferencesFollowEachOther) {
  absl::StatusOr<Workbook> wb = Read("norefs.xlsx");
  ASSERT_TRUE(wb.ok()) << wb.status();
  const Sheet& s = wb->sheets[0];
  ASSERT_THAT(s.cells, SizeIs(3));
  EXPECT_EQ(Find(s, 1, 1)->number, 1);
  EXPECT_EQ(Find(s, 1, 2)->number, 2);
  EXPECT_EQ(Find(s, 2, 1)->number, 3);
}

TEST_F(XlsxReaderTest, StrictNamespaces) {
  absl::StatusOr<Workbook> wb = Read("strict.xlsx");
  ASSERT_TRUE(wb.ok()) << wb.status();
  ASSERT_THAT(wb->sheets, SizeIs(1));
  ASSERT_THAT(wb->sheets[0].cells, SizeIs(1));
  EXPECT_EQ(wb->sheets[0].cells[0].number, 42);
}

TEST_F(XlsxReaderTest, BadCellsAreListedTogether) {
  absl::StatusOr<Workbook> wb = Read("badcells.xlsx");
  ASSERT_FALSE(wb.ok());
  EXPECT_EQ(wb.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wb.status().message(), AllOf(HasSubstr("表式!B2：数字“5x”无效"),
                                           HasSubstr("表式!C2：共享字符串编号“99”无效"),
                                           HasSubstr("单元格引用“XFE2”无效")));
}

TEST_F(XlsxReaderTest, DoctypeIsRefused) {
  absl::StatusOr<Workbook> wb = Read("doctype.xlsx");
  ASSERT_FALSE(wb.ok());
  EXPECT_THAT(wb.status().message(),
              AllOf(HasSubstr("xl/worksheets/sheet1.xml"), HasSubstr("DOCTYPE")));
}

TEST_F(XlsxReaderTest, BoundsStopZipBombsAndHugeSheets) {
  // The bomb's sheet inflates to 3 MiB; a 1 MiB cap stops it while inflating.
  ReadLimits small;
  small.max_part_bytes = 1 << 20;
  absl::StatusOr<Workbook> bomb = Read("bomb.xlsx", small);
  ASSERT_FALSE(bomb.ok());
  EXPECT_EQ(bomb.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bomb.status().message(), AllOf(HasSubstr("压缩炸弹"), HasSubstr("sheet1.xml")));
  ReadLimits total;
  total.max_total_bytes = 1 << 20;
  EXPECT_FALSE(Read("bomb.xlsx", total).ok());
  EXPECT_TRUE(Read("bomb.xlsx").ok());  // within the default limits

  absl::StatusOr<Workbook> many = Read("many.xlsx");
  ASSERT_FALSE(many.ok());
  EXPECT_THAT(many.status().message(), HasSubstr("超过 4096 个上限"));

  ReadLimits cells;
  cells.max_cells = 5;
  absl::StatusOr<Workbook> huge = Read("cells.xlsx", cells);
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.status().message(), HasSubstr("单元格上限"));

  ReadLimits file;
  file.max_file_bytes = 1000;
  EXPECT_THAT(Read("cells.xlsx", file).status().message(), HasSubstr("MiB"));
}

TEST_F(XlsxReaderTest, NotAWorkbook) {
  absl::StatusOr<Workbook> zip = Read("notworkbook.xlsx");
  ASSERT_FALSE(zip.ok());
  EXPECT_THAT(zip.status().message(), HasSubstr("不是Excel工作簿"));
  EXPECT_THAT(ReadWorkbook("a,b\n1,2\n").status().message(), HasSubstr("不是zip压缩包"));
  EXPECT_FALSE(ReadWorkbook("").ok());
  // Cut in half: the central directory is gone.
  const std::string whole = File("cells.xlsx");
  absl::StatusOr<Workbook> cut = ReadWorkbook(whole.substr(0, whole.size() / 2));
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.status().message(), HasSubstr("zip"));
  // One byte changed inside a compressed part: a CRC or inflate error, never a crash.
  std::string flipped = whole;
  flipped[whole.size() / 3] ^= 0x55;
  EXPECT_FALSE(ReadWorkbook(flipped).ok());
  EXPECT_TRUE(LooksLikeZip(whole));
  EXPECT_FALSE(LooksLikeZip("PK"));
}

}  // namespace
}  // namespace halfsky::xlsx
