// `halfskyctl submit` reads the CSV files people really have (issue #16
// item 3): GBK as Excel saves it on Chinese Windows, UTF-8 with a BOM, and
// Excel's "Unicode text" (UTF-16LE, tab separated); the real halfskyctl
// binary against a real halfsky-submission process (its own SQLite file),
// the values read back through the service with `halfskyctl history`. A
// file that is neither UTF-8 nor GB18030 is refused and writes nothing.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/auth/token_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/suite.h"

namespace halfsky {
namespace {

namespace ht = ::halfsky::testing;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUnitToken[] = "e2e-unit-HEALTH";

// "指标代码,区域代码,年份,性别,城乡,分子,分母,数值,数据来源,备注\n" in GBK.
constexpr char kGbkHeader[] =
    "\xd6\xb8\xb1\xea\xb4\xfa\xc2\xeb,\xc7\xf8\xd3\xf2\xb4\xfa\xc2\xeb,\xc4\xea\xb7\xdd,"
    "\xd0\xd4\xb1\xf0,\xb3\xc7\xcf\xe7,\xb7\xd6\xd7\xd3,\xb7\xd6\xc4\xb8,\xca\xfd\xd6\xb5,"
    "\xca\xfd\xbe\xdd\xc0\xb4\xd4\xb4,\xb1\xb8\xd7\xa2\r\n";
// "合计,全部," in GBK.
constexpr char kGbkTotalAll[] = "\xba\xcf\xbc\xc6,\xc8\xab\xb2\xbf,";
// "妇幼年报（GBK）" and "女性专项" in GBK.
constexpr char kGbkSource[] =
    "\xb8\xbe\xd3\xd7\xc4\xea\xb1\xa8\xa3\xa8"
    "GBK\xa3\xa9";
constexpr char kGbkNote[] = "\xc5\xae\xd0\xd4\xd7\xa8\xcf\xee";

std::string Describe(const ht::CommandResult& r) {
  return absl::StrCat("exit ", r.exit_code, "\n--- stdout ---\n", r.out, "\n--- stderr ---\n",
                      r.err);
}

// UTF-8 → UTF-16LE with a BOM (BMP only, enough for this test's text).
std::string Utf16Le(const std::string& utf8) {
  std::string out = "\xff\xfe";
  for (size_t i = 0; i < utf8.size();) {
    const unsigned char c = utf8[i];
    uint32_t cp = 0;
    int len = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else {
      cp = c & 0x0F;
      len = 3;
    }
    for (int k = 1; k < len; ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    }
    i += len;
    out.push_back(static_cast<char>(cp & 0xFF));
    out.push_back(static_cast<char>(cp >> 8));
  }
  return out;
}

class SubmitEncodingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ht::MakeTempDir("submit-encoding");
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

  // `history` of HEALTH-11 at 610303 for `year` (exit code and text).
  ht::CommandResult History(int year) {
    return Ctl(
        {"history", "--indicator", "HEALTH-11", "--area", "610303", "--year", absl::StrCat(year)});
  }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(ht::WriteTextFile(path, bytes).ok());
    return path;
  }

  std::string dir_;
  ht::ServiceProcess submission_;
};

TEST_F(SubmitEncodingTest, GbkCsvIsDetectedConvertedAndStored) {
  const std::string gbk =
      Write("gbk.csv", absl::StrCat(kGbkHeader, "HEALTH-11,610303,2023,", kGbkTotalAll, "12,1000,,",
                                    kGbkSource, ",", kGbkNote, "\r\n"));
  ht::CommandResult r = Ctl({"submit", gbk});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("已按 GB18030 编码读取 / read as GB18030")) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("新增 1")) << Describe(r);
  ht::CommandResult h = History(2023);
  ASSERT_EQ(h.exit_code, 0) << Describe(h);
  EXPECT_THAT(h.out,
              AllOf(HasSubstr("数值 value: 12/1000"), HasSubstr("来源 source: 妇幼年报（GBK）\n"),
                    HasSubstr("备注 note: 女性专项")))
      << h.out;

  // The same bytes forced as UTF-8 are refused, naming line 1 byte 2 (GBK 指
  // D6 B8 happens to be valid UTF-8; 标 B1 EA is not).
  ht::CommandResult forced = Ctl({"submit", gbk, "--encoding", "utf-8"});
  EXPECT_EQ(forced.exit_code, 1) << Describe(forced);
  EXPECT_THAT(forced.err,
              AllOf(HasSubstr("文件不是有效的UTF-8编码"), HasSubstr("line 1, byte offset 2 (0xB1)"),
                    HasSubstr("未上传任何数据 / nothing was uploaded")))
      << Describe(forced);
  ht::CommandResult unknown = Ctl({"submit", gbk, "--encoding", "latin1"});
  EXPECT_EQ(unknown.exit_code, 2) << Describe(unknown);
  EXPECT_THAT(unknown.err, HasSubstr("未知编码")) << Describe(unknown);
}

TEST_F(SubmitEncodingTest, Utf8BomAndUtf16CsvsAreStored) {
  const std::string header = "指标代码,区域代码,年份,性别,城乡,分子,分母,数值,数据来源,备注\n";
  const std::string bom =
      Write("bom.csv", absl::StrCat("\xef\xbb\xbf", header,
                                    "HEALTH-11,610303,2023,合计,全部,15,1000,,妇幼年报（BOM）,\n"));
  ht::CommandResult r = Ctl({"submit", bom});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("已按 UTF-8 (BOM) 编码读取")) << Describe(r);
  ht::CommandResult h = History(2023);
  ASSERT_EQ(h.exit_code, 0) << Describe(h);
  EXPECT_THAT(h.out,
              AllOf(HasSubstr("数值 value: 15/1000"), HasSubstr("来源 source: 妇幼年报（BOM）\n")))
      << h.out;

  // Excel's "Unicode text": UTF-16LE with a BOM, tab separated, CRLF.
  const std::string tsv =
      "指标代码\t区域代码\t年份\t性别\t城乡\t分子\t分母\t数值\t数据来源\t备注\r\n"
      "HEALTH-11\t610303\t2022\t合计\t全部\t9\t1000\t\t妇幼年报（UTF-16）\t\r\n";
  ht::CommandResult u = Ctl({"submit", Write("unicode.txt", Utf16Le(tsv))});
  ASSERT_EQ(u.exit_code, 0) << Describe(u);
  EXPECT_THAT(u.err, HasSubstr("read as UTF-16LE")) << Describe(u);
  ht::CommandResult h2 = History(2022);
  ASSERT_EQ(h2.exit_code, 0) << Describe(h2);
  EXPECT_THAT(h2.out, AllOf(HasSubstr("数值 value: 9/1000"),
                            HasSubstr("来源 source: 妇幼年报（UTF-16）\n")))
      << h2.out;
}

TEST_F(SubmitEncodingTest, UndecidableFileIsRefusedAndWritesNothing) {
  // Line 2 is good GBK; line 3 has a 0xFF, valid in neither UTF-8 nor
  // GB18030. Nothing may be written, not even line 2.
  const std::string bad =
      Write("bad.csv", absl::StrCat(kGbkHeader, "HEALTH-11,610303,2023,", kGbkTotalAll, "12,1000,,",
                                    kGbkSource, ",\r\n", "HEALTH-11,610303,2021,", kGbkTotalAll,
                                    "7,1000,,x,\xff\r\n"));
  ht::CommandResult r = Ctl({"submit", bad});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_THAT(r.err, AllOf(HasSubstr("bad.csv: 无法识别文件编码"), HasSubstr("第3行"),
                           HasSubstr("（0xFF）"), HasSubstr("nor GB18030/GBK (line 3"),
                           HasSubstr("未上传任何数据 / nothing was uploaded")))
      << Describe(r);
  EXPECT_THAT(r.err, Not(HasSubstr("read as"))) << Describe(r);
  for (int year : {2021, 2023}) {
    ht::CommandResult h = History(year);
    EXPECT_EQ(h.exit_code, 0) << Describe(h);
    EXPECT_THAT(h.out, HasSubstr("没有记录 / no revisions")) << year << "\n" << Describe(h);
  }
}

}  // namespace
}  // namespace halfsky
