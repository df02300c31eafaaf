// `halfskyctl submit FILE.xlsx` (issue #16 item 3): the report form as a
// unit fills it in Excel — a header block, the header row with the form's
// informational columns, numbers, a formula (its cached value), a number
// typed as text, rows left blank — written by an independent writer
// (python3-openpyxl, tests/common/xlsx/xlsx_fixtures.py form), submitted
// with the real halfskyctl binary to a real halfsky-submission process (its
// own SQLite file), the values read back through the service with
// `halfskyctl history`. A workbook with a bad cell is refused naming
// Sheet!Cell and writes nothing; a workbook with the CSV's plain columns
// loads too.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/token_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/python.h"
#include "tests/support/suite.h"

namespace halfsky {
namespace {

namespace ht = ::halfsky::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUnitToken[] = "e2e-unit-HEALTH";

std::string Describe(const ht::CommandResult& r) {
  return absl::StrCat("exit ", r.exit_code, "\n--- stdout ---\n", r.out, "\n--- stderr ---\n",
                      r.err);
}

class SubmitXlsxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = new std::string(ht::MakeTempDir("submit-xlsx-files"));
    absl::StatusOr<std::string> python = ht::FindPython("openpyxl", "python3-openpyxl");
    ASSERT_TRUE(python.ok()) << python.status();
    absl::Status st = ht::RunPython(
        *python, absl::StrCat(HALFSKY_SOURCE_DIR, "/tests/common/xlsx/xlsx_fixtures.py"),
        {"form", *files_});
    ASSERT_TRUE(st.ok()) << st;
  }

  void SetUp() override {
    dir_ = ht::MakeTempDir("submit-xlsx");
    const std::string tokens = dir_ + "/tokens";
    ASSERT_TRUE(ht::WriteTextFile(tokens, absl::StrCat(auth::HashToken(kUnitToken),
                                                       " health-system unit:HEALTH\n"))
                    .ok());
    absl::Status st = submission_.Start(
        dir_, "submission", ht::ServiceBinary("submission"),
        absl::StrCat(HALFSKY_SOURCE_DIR, "/deploy/catalog"), tokens,
        {"--db=" + dir_ + "/submission.db", "--fake_now=2025-03-01T00:00:00+08:00"});
    ASSERT_TRUE(st.ok()) << st;
  }
  void TearDown() override { EXPECT_TRUE(submission_.Stop().ok()); }

  ht::CommandResult Ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {ht::ServiceBinary("halfskyctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--server", submission_.address(), "--token", kUnitToken});
    if (args[0] == "submit") {
      argv.insert(argv.end(), {"--state-dir", dir_ + "/state"});
    }
    absl::StatusOr<ht::CommandResult> r =
        ht::RunCommand(argv, {{"HALFSKY_SERVER", ""}, {"HALFSKY_TOKEN", ""}, {"NO_COLOR", "1"}},
                       absl::Seconds(60));
    if (!r.ok()) {
      ADD_FAILURE() << absl::StrJoin(argv, " ") << ": " << r.status();
      return {};
    }
    return *r;
  }

  ht::CommandResult History(const std::string& indicator, int year) {
    return Ctl(
        {"history", "--indicator", indicator, "--area", "610303", "--year", absl::StrCat(year)});
  }

  // Every (indicator, year) the workbooks of this test touch has no
  // revision: nothing was written.
  void ExpectNothingWritten() {
    for (auto [indicator, year] : std::vector<std::pair<std::string, int>>{
             {"HEALTH-11", 2023}, {"HEALTH-11", 2021}, {"HEALTH-11", 2025}, {"HEALTH-01", 2023}}) {
      ht::CommandResult h = History(indicator, year);
      EXPECT_EQ(h.exit_code, 0) << Describe(h);
      EXPECT_THAT(h.out, HasSubstr("没有记录 / no revisions")) << indicator << " " << year << "\n"
                                                               << Describe(h);
    }
  }

  static std::string File(const std::string& name) { return *files_ + "/" + name; }

  static std::string* files_;
  std::string dir_;
  ht::ServiceProcess submission_;
};
std::string* SubmitXlsxTest::files_ = nullptr;

TEST_F(SubmitXlsxTest, FilledFormIsStoredAndReadBack) {
  ht::CommandResult r = Ctl({"submit", File("form.xlsx")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err,
              AllOf(HasSubstr("已读取工作表 表式（第7行表头，3 条，未填 2 行）"),
                    HasSubstr("跳过（无表头行） 指标解释"),
                    HasSubstr("read sheets: 表式 (header row 7, 3 values, 2 rows left blank)"),
                    HasSubstr("未填 2 行（跳过） / 2 rows left blank (skipped)")))
      << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("新增 3")) << Describe(r);

  ht::CommandResult h = History("HEALTH-11", 2023);
  ASSERT_EQ(h.exit_code, 0) << Describe(h);
  // The denominator is the formula =600+400, read as its cached value.
  EXPECT_THAT(
      h.out, AllOf(HasSubstr("数值 value: 12/1000"), HasSubstr("来源 source: 妇幼年报（Excel）\n")))
      << h.out;
  ht::CommandResult v = History("HEALTH-01", 2023);
  ASSERT_EQ(v.exit_code, 0) << Describe(v);
  EXPECT_THAT(v.out, AllOf(HasSubstr("数值 value: 79.35"), HasSubstr("备注 note: Excel表式")))
      << v.out;
  // "7" typed as text in the 分子 column.
  ht::CommandResult t = History("HEALTH-11", 2021);
  ASSERT_EQ(t.exit_code, 0) << Describe(t);
  EXPECT_THAT(t.out, HasSubstr("数值 value: 7/1000")) << t.out;
  // A row left blank writes nothing (上年分子/上年分母 beside it are for reference).
  for (int year : {2022, 2020}) {
    ht::CommandResult b = History("HEALTH-11", year);
    EXPECT_THAT(b.out, HasSubstr("没有记录 / no revisions")) << year << "\n" << Describe(b);
  }
}

TEST_F(SubmitXlsxTest, BadCellsAreNamedAndNothingIsWritten) {
  ht::CommandResult r = Ctl({"submit", File("form_bad.xlsx")});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  // Every bad cell at once, each as Sheet!Cell with the reason.
  EXPECT_THAT(r.err, AllOf(HasSubstr("form_bad.xlsx: 表式!L9 (数值)：数值数字中的逗号有歧义"),
                           HasSubstr("form_bad.xlsx: 表式!K10 (分母)：分母是错误值#DIV/0!"),
                           HasSubstr("form_bad.xlsx: 表式!J11 (分子)：分子不是数字 / not a number"),
                           HasSubstr("未上传任何数据 / nothing was uploaded")))
      << Describe(r);

  ht::CommandResult u = Ctl({"submit", File("form_uncached.xlsx")});
  EXPECT_EQ(u.exit_code, 1) << Describe(u);
  EXPECT_THAT(u.err, AllOf(HasSubstr("form_uncached.xlsx: 表式!K8 (分母)：公式没有缓存值"),
                           HasSubstr("未上传任何数据")))
      << Describe(u);

  ht::CommandResult b = Ctl({"submit", File("form_blank.xlsx")});
  EXPECT_EQ(b.exit_code, 1) << Describe(b);
  EXPECT_THAT(b.err, HasSubstr("没有填写任何数据（未填 2 行）")) << Describe(b);

  // Cells the server refuses: its dry run names the sheet and row.
  ht::CommandResult s = Ctl({"submit", File("server_bad.xlsx")});
  EXPECT_EQ(s.exit_code, 1) << Describe(s);
  EXPECT_THAT(s.err, AllOf(HasSubstr("server_bad.xlsx: 数据 第3行 / sheet 数据, row 3: "),
                           HasSubstr("未上传任何数据")))
      << Describe(s);

  ExpectNothingWritten();
}

TEST_F(SubmitXlsxTest, PlainColumnsWorkbookLoads) {
  ht::CommandResult r = Ctl({"submit", File("plain.xlsx")});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("已读取工作表 Sheet（第1行表头，1 条）")) << Describe(r);
  EXPECT_THAT(r.err, Not(HasSubstr("未填"))) << Describe(r);
  ht::CommandResult h = History("HEALTH-11", 2024);
  ASSERT_EQ(h.exit_code, 0) << Describe(h);
  EXPECT_THAT(h.out, AllOf(HasSubstr("数值 value: 5/1000"), HasSubstr("来源 source: 普通工作簿")))
      << h.out;

  // Not a workbook despite its name; an old .xls: refused, nothing written.
  const std::string fake = dir_ + "/fake.xlsx";
  ASSERT_TRUE(ht::WriteTextFile(fake, "指标代码,区域代码,年份\n").ok());
  ht::CommandResult f = Ctl({"submit", fake});
  EXPECT_EQ(f.exit_code, 1) << Describe(f);
  EXPECT_THAT(f.err, HasSubstr("不是 .xlsx 文件")) << Describe(f);
  const std::string xls = dir_ + "/old.xls";
  ASSERT_TRUE(ht::WriteTextFile(
                  xls, std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) + std::string(504, '\0'))
                  .ok());
  ht::CommandResult x = Ctl({"submit", xls});
  EXPECT_EQ(x.exit_code, 1) << Describe(x);
  EXPECT_THAT(x.err, HasSubstr("另存为")) << Describe(x);
}

}  // namespace
}  // namespace halfsky
