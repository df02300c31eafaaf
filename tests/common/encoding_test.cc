#include "common/text/encoding.h"

#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace halfsky {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// "指标代码,数据来源\n女,示例数据（合成）\n" as Excel saves it on Chinese
// Windows (code page 936 / GB18030).
constexpr char kGbkCsv[] =
    "\xd6\xb8\xb1\xea\xb4\xfa\xc2\xeb,\xca\xfd\xbe\xdd\xc0\xb4\xd4\xb4\n"
    "\xc5\xae,\xca\xbe\xc0\xfd\xca\xfd\xbe\xdd\xa3\xa8\xba\xcf\xb3\xc9\xa3\xa9\n";
constexpr char kUtf8Csv[] = "指标代码,数据来源\n女,示例数据（合成）\n";

TEST(DecodeTextTest, GbkIsDetectedAndConverted) {
  absl::StatusOr<DecodedText> d = DecodeText(kGbkCsv);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->encoding, TextEncoding::kGb18030);
  EXPECT_EQ(d->utf8, kUtf8Csv);
}

TEST(DecodeTextTest, Gb18030FourByteSequences) {
  // U+1F600 is outside GBK: GB18030 encodes it in four bytes.
  absl::StatusOr<DecodedText> d = DecodeText("\xc5\xae \x94\x39\xfc\x36");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->utf8, "女 \xf0\x9f\x98\x80");
  // Forced GBK refuses what only GB18030 has, at its offset.
  absl::StatusOr<DecodedText> gbk = DecodeText("\xc5\xae \x94\x39\xfc\x36", TextEncoding::kGbk);
  ASSERT_FALSE(gbk.ok());
  EXPECT_THAT(gbk.status().message(), HasSubstr("byte offset 3"));
  // GBK text forced as GBK.
  absl::StatusOr<DecodedText> ok = DecodeText(kGbkCsv, TextEncoding::kGbk);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->utf8, kUtf8Csv);
  EXPECT_EQ(ok->encoding, TextEncoding::kGbk);
}

TEST(DecodeTextTest, Utf8ThatIsAlsoValidGb18030StaysUtf8) {
  // "中文" in UTF-8 (E4 B8 AD E6 96 87) is also three valid GB18030 pairs
  // ("涓枃"): UTF-8 wins.
  const std::string utf8 = "\xe4\xb8\xad\xe6\x96\x87";
  absl::StatusOr<DecodedText> as_gb = DecodeText(utf8, TextEncoding::kGb18030);
  ASSERT_TRUE(as_gb.ok()) << as_gb.status();
  EXPECT_NE(as_gb->utf8, "中文");
  EXPECT_TRUE(absl::StartsWith(as_gb->utf8, "涓"));
  absl::StatusOr<DecodedText> d = DecodeText(utf8);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->encoding, TextEncoding::kUtf8);
  EXPECT_EQ(d->utf8, "中文");
  // ASCII is UTF-8.
  EXPECT_EQ(DecodeText("a,b\n1,2\n")->encoding, TextEncoding::kUtf8);
  EXPECT_EQ(DecodeText("")->encoding, TextEncoding::kUtf8);
}

TEST(DecodeTextTest, ByteOrderMarksDecideAndAreRemoved) {
  absl::StatusOr<DecodedText> bom = DecodeText(std::string("\xef\xbb\xbf") + kUtf8Csv);
  ASSERT_TRUE(bom.ok()) << bom.status();
  EXPECT_EQ(bom->encoding, TextEncoding::kUtf8Bom);
  EXPECT_EQ(bom->utf8, kUtf8Csv);
  // A UTF-8 BOM followed by GBK bytes is refused: the BOM said UTF-8. (GBK
  // 指 D6 B8 happens to be a valid UTF-8 pair; 标 B1 EA is not.)
  absl::StatusOr<DecodedText> liar = DecodeText(std::string("\xef\xbb\xbf") + kGbkCsv);
  ASSERT_FALSE(liar.ok());
  EXPECT_THAT(liar.status().message(),
              AllOf(HasSubstr("UTF-8"), HasSubstr("byte offset 5"), HasSubstr("0xB1")));

  // Excel's "Unicode text": UTF-16LE with a BOM, tab separated.
  const std::string le(
      "\xff\xfe\x07\x63\x07\x68\x09\x00\x74\x5e\x0a\x00\x73\x59\x09\x00\x32\x00\x30\x00\x0a\x00",
      22);
  absl::StatusOr<DecodedText> u16 = DecodeText(le);
  ASSERT_TRUE(u16.ok()) << u16.status();
  EXPECT_EQ(u16->encoding, TextEncoding::kUtf16Le);
  EXPECT_EQ(u16->utf8, "指标\t年\n女\t20\n");
  const std::string be("\xfe\xff\x63\x07\x00\x0a\x59\x73", 8);
  absl::StatusOr<DecodedText> u16be = DecodeText(be);
  ASSERT_TRUE(u16be.ok()) << u16be.status();
  EXPECT_EQ(u16be->encoding, TextEncoding::kUtf16Be);
  EXPECT_EQ(u16be->utf8, "指\n女");
  // Forced UTF-16 without a BOM is little-endian.
  absl::StatusOr<DecodedText> nobom = DecodeText(le.substr(2), TextEncoding::kUtf16Le);
  ASSERT_TRUE(nobom.ok()) << nobom.status();
  EXPECT_EQ(nobom->utf8, u16->utf8);
  // An unpaired surrogate on line 2 and an odd trailing byte.
  const std::string lone("\xff\xfe\x41\x00\x0a\x00\x00\xd8\x42\x00", 10);
  absl::StatusOr<DecodedText> bad = DecodeText(lone);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), AllOf(HasSubstr("UTF-16LE"), HasSubstr("line 2")));
  EXPECT_FALSE(DecodeText(std::string("\xff\xfe\x41", 3)).ok());
}

TEST(DecodeTextTest, NeitherUtf8NorGb18030IsRefusedNamingBothPlaces) {
  // Line 2 holds GBK 妇 B8 BE (bad as UTF-8 at offset 2: B8 is a
  // continuation byte); line 3 a 0xFF, which no encoding here has (bad as
  // GB18030 at offset 5).
  absl::StatusOr<DecodedText> d = DecodeText("h\n\xb8\xbe\n\xff");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(d.status().message(),
              AllOf(HasSubstr("无法识别文件编码"), HasSubstr("第2行，第2字节（0xB8）"),
                    HasSubstr("第3行，第5字节（0xFF）"), HasSubstr("line 2, byte offset 2"),
                    HasSubstr("line 3, byte offset 5"), HasSubstr("--encoding")));
  // A GBK lead byte cut off by the end of the file.
  absl::StatusOr<DecodedText> cut = DecodeText("ab\xc5");
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(cut.status().message(),
              AllOf(HasSubstr("（0xC5，文件在多字节字符中间结束）"),
                    HasSubstr("byte offset 2 (0xC5, the file ends inside a character)")));
  // Forced UTF-8 on GBK text names the first bad byte.
  absl::StatusOr<DecodedText> forced = DecodeText(kGbkCsv, TextEncoding::kUtf8);
  ASSERT_FALSE(forced.ok());
  EXPECT_THAT(forced.status().message(),
              AllOf(HasSubstr("文件不是有效的UTF-8编码"), HasSubstr("line 1, byte offset 2")));
}

TEST(ParseTextEncodingTest, NamesAndErrors) {
  EXPECT_EQ(*ParseTextEncoding("UTF-8"), TextEncoding::kUtf8);
  EXPECT_EQ(*ParseTextEncoding("gbk"), TextEncoding::kGbk);
  EXPECT_EQ(*ParseTextEncoding("GB18030"), TextEncoding::kGb18030);
  EXPECT_EQ(*ParseTextEncoding("utf-16"), TextEncoding::kUtf16Le);
  EXPECT_EQ(*ParseTextEncoding("auto"), TextEncoding::kAuto);
  absl::StatusOr<TextEncoding> bad = ParseTextEncoding("latin1");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), AllOf(HasSubstr("未知编码"), HasSubstr("latin1")));
  EXPECT_STREQ(TextEncodingName(TextEncoding::kGb18030), "GB18030");
}

TEST(FirstInvalidUtf8Test, Offsets) {
  EXPECT_EQ(FirstInvalidUtf8("abc"), 3u);
  EXPECT_EQ(FirstInvalidUtf8("女\xff"), 3u);
  EXPECT_EQ(FirstInvalidUtf8("\xe5\xa6"), 0u);
}

}  // namespace
}  // namespace halfsky
