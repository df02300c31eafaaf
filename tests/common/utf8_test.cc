#include "common/text/utf8.h"

#include <string>

#include "gtest/gtest.h"

namespace halfsky {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII"));
  EXPECT_TRUE(IsValidUtf8("妇女发展规划 ok"));
  EXPECT_TRUE(IsValidUtf8("\xc2\x80"));          // U+0080, shortest 2-byte
  EXPECT_TRUE(IsValidUtf8("\xef\xbb\xbf"));      // BOM, U+FEFF
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
}

TEST(Utf8Test, RefusesMalformedText) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // overlong, 4 bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xe5\xa6"));          // truncated
  EXPECT_FALSE(IsValidUtf8("ok\xe5"));            // truncated at the end
  EXPECT_FALSE(IsValidUtf8("\xe5\x28\xa5"));      // bad continuation
}

TEST(Utf8Test, NextCodePointDecodesAndSkipsBadBytesOneByOne) {
  const std::string s = "a妇\xc0\xaf\xf0\x9f\x98\x80";
  size_t i = 0;
  EXPECT_EQ(NextCodePoint(s, &i), 'a');
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(NextCodePoint(s, &i), 0x5987);  // 妇
  EXPECT_EQ(i, 4u);
  EXPECT_EQ(NextCodePoint(s, &i), -1);  // overlong: one byte at a time
  EXPECT_EQ(i, 5u);
  EXPECT_EQ(NextCodePoint(s, &i), -1);
  EXPECT_EQ(i, 6u);
  EXPECT_EQ(NextCodePoint(s, &i), 0x1F600);
  EXPECT_EQ(i, s.size());
}

}  // namespace
}  // namespace halfsky
