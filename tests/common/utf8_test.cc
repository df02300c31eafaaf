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

}  // namespace
}  // namespace halfsky
