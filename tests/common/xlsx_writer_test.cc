// common/xlsx/writer.h: errors as absl::Status, nothing written without
// Close, no file left when the file cannot be written. (What the files
// hold is read back with openpyxl by tests/halfskyctl/form_e2e_test.cc and
// halfskyctl_e2e_test.cc.)
#include <fstream>
#include <limits>
#include <string>

#include "common/xlsx/writer.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"

namespace halfsky::xlsx {
namespace {

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

TEST(XlsxWriterTest, WritesOnCloseOnly) {
  const std::string dir = testing::MakeTempDir("xlsx-writer");
  const std::string path = dir + "/a.xlsx";
  {
    auto book = Workbook::Create(path);
    ASSERT_TRUE(book.ok()) << book.status();
    auto sheet = (*book)->AddSheet("表式");
    ASSERT_TRUE(sheet.ok()) << sheet.status();
    EXPECT_TRUE((*sheet)->Text(0, 0, "指标代码").ok());
  }
  EXPECT_FALSE(Exists(path)) << "destroyed without Close must write nothing";

  auto book = Workbook::Create(path);
  ASSERT_TRUE(book.ok());
  auto sheet = (*book)->AddSheet("表式");
  ASSERT_TRUE(sheet.ok());
  EXPECT_TRUE((*sheet)->Text(0, 0, "=1+2").ok());
  EXPECT_TRUE((*sheet)->Number(0, 1, 2024).ok());
  EXPECT_EQ((*sheet)->Number(0, 2, std::numeric_limits<double>::infinity()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*sheet)->Text(0, 3, std::string(40000, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      (*sheet)
          ->DecimalAtLeast(1, 0, 5, 0, 0, "填写数字", "请填写数字", "数字无效", "只能填写数字")
          .ok());
  EXPECT_EQ((*sheet)->DecimalAtLeast(1, 0, 5, 0, 0, std::string(40, 'x'), "m", "t", "m").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*book)->AddSheet("表式").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*book)->AddSheet("a/b").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*book)->AddSheet("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*book)->AddSheet(std::string(32, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*book)->Close().ok());
  EXPECT_TRUE(Exists(path));
  EXPECT_EQ((*book)->Close().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*sheet)->Text(1, 0, "x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(XlsxWriterTest, UnwritablePathFailsInCloseAndLeavesNoFile) {
  const std::string path = "/nonexistent-dir-halfsky/a.xlsx";
  auto book = Workbook::Create(path);
  ASSERT_TRUE(book.ok()) << book.status();
  ASSERT_TRUE((*book)->AddSheet("s").ok());
  absl::Status st = (*book)->Close();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_FALSE(Exists(path));
}

}  // namespace
}  // namespace halfsky::xlsx
