#include "common/text/encoding.h"

#include <errno.h>
#include <iconv.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/text/utf8.h"

namespace halfsky {

namespace {

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr absl::string_view kUtf16LeBom = "\xFF\xFE";
constexpr absl::string_view kUtf16BeBom = "\xFE\xFF";

// The outcome of one iconv conversion to UTF-8.
struct Converted {
  bool ok = false;
  std::string utf8;
  size_t bad_offset = 0;   // offset in the input of the byte iconv stopped at
  bool truncated = false;  // the input ends inside a character (EINVAL)
};

// `in` converted from `from` (an iconv name) to UTF-8 with glibc's iconv.
// An invalid or truncated sequence stops the conversion (ok false,
// bad_offset where it begins). An iconv that cannot be opened is reported
// as a failure at offset 0 by the caller's message.
absl::StatusOr<Converted> Iconv(const char* from, absl::string_view in) {
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return absl::InternalError(absl::StrCat("iconv 不支持 / iconv cannot convert from ", from));
  }
  Converted result;
  std::string& out = result.utf8;
  out.resize(in.size() * 2 + 16);
  size_t used = 0;
  char* inp = const_cast<char*>(in.data());
  size_t in_left = in.size();
  while (true) {
    char* outp = out.data() + used;
    size_t out_left = out.size() - used;
    const size_t r = iconv(cd, &inp, &in_left, &outp, &out_left);
    const int error = errno;
    used = static_cast<size_t>(outp - out.data());
    if (r != static_cast<size_t>(-1)) {
      break;
    }
    if (error == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    // EILSEQ (invalid sequence) or EINVAL (truncated at the end).
    iconv_close(cd);
    result.bad_offset = static_cast<size_t>(inp - in.data());
    result.truncated = error == EINVAL;
    out.clear();
    return result;
  }
  iconv_close(cd);
  out.resize(used);
  // iconv writes UTF-8; checked anyway, as the promise is well-formed text.
  if (!IsValidUtf8(out)) {
    out.clear();
    return result;
  }
  result.ok = true;
  return result;
}

// 1-based line of byte `offset` of a byte-oriented text (LF counted).
int LineOfByte(absl::string_view bytes, size_t offset) {
  int line = 1;
  for (size_t i = 0; i < offset && i < bytes.size(); ++i) {
    if (bytes[i] == '\n') {
      ++line;
    }
  }
  return line;
}

// 1-based line of byte `offset` of UTF-16 text (LF code units counted).
int LineOfUtf16Byte(absl::string_view bytes, size_t offset, bool little_endian) {
  int line = 1;
  for (size_t i = 0; i + 1 < bytes.size() && i < offset; i += 2) {
    const uint8_t lo = static_cast<uint8_t>(bytes[little_endian ? i : i + 1]);
    const uint8_t hi = static_cast<uint8_t>(bytes[little_endian ? i + 1 : i]);
    if (lo == 0x0A && hi == 0) {
      ++line;
    }
  }
  return line;
}

// "第L行，第O字节（0xAB）" / "line L, byte offset O (0xAB)".
std::string WhereZh(absl::string_view bytes, size_t offset, int line, bool truncated) {
  if (offset >= bytes.size()) {
    return absl::StrFormat("第%d行，第%d字节（文件在多字节字符中间结束）", line, offset);
  }
  return absl::StrFormat("第%d行，第%d字节（0x%02X%s）", line, offset,
                         static_cast<uint8_t>(bytes[offset]),
                         truncated ? "，文件在多字节字符中间结束" : "");
}
std::string WhereEn(absl::string_view bytes, size_t offset, int line, bool truncated) {
  if (offset >= bytes.size()) {
    return absl::StrFormat("line %d, byte offset %d (the file ends inside a character)", line,
                           offset);
  }
  return absl::StrFormat("line %d, byte offset %d (0x%02X%s)", line, offset,
                         static_cast<uint8_t>(bytes[offset]),
                         truncated ? ", the file ends inside a character" : "");
}

absl::Status NotEncoded(absl::string_view name, absl::string_view bytes, size_t offset, int line,
                        bool truncated) {
  return absl::InvalidArgumentError(
      absl::StrCat("文件不是有效的", name, "编码：", WhereZh(bytes, offset, line, truncated),
                   " / file is not valid ", name, ": ", WhereEn(bytes, offset, line, truncated)));
}

absl::StatusOr<DecodedText> DecodeUtf8(absl::string_view bytes, bool bom) {
  const absl::string_view body = bom ? bytes.substr(kUtf8Bom.size()) : bytes;
  const size_t bad = FirstInvalidUtf8(body);
  if (bad != body.size()) {
    const size_t offset = bad + (bom ? kUtf8Bom.size() : 0);
    return NotEncoded("UTF-8", bytes, offset, LineOfByte(bytes, offset), false);
  }
  return DecodedText{std::string(body), bom ? TextEncoding::kUtf8Bom : TextEncoding::kUtf8};
}

absl::StatusOr<DecodedText> DecodeWithIconv(absl::string_view bytes, TextEncoding encoding) {
  const bool utf16 = encoding == TextEncoding::kUtf16Le || encoding == TextEncoding::kUtf16Be;
  const bool le = encoding == TextEncoding::kUtf16Le;
  size_t skip = 0;
  if (utf16 && absl::StartsWith(bytes, le ? kUtf16LeBom : kUtf16BeBom)) {
    skip = 2;
  }
  const char* from = encoding == TextEncoding::kGbk       ? "GBK"
                     : encoding == TextEncoding::kGb18030 ? "GB18030"
                     : le                                 ? "UTF-16LE"
                                                          : "UTF-16BE";
  absl::StatusOr<Converted> c = Iconv(from, bytes.substr(skip));
  if (!c.ok()) {
    return c.status();
  }
  if (!c->ok) {
    const size_t offset = c->bad_offset + skip;
    const int line = utf16 ? LineOfUtf16Byte(bytes, offset, le) : LineOfByte(bytes, offset);
    return NotEncoded(TextEncodingName(encoding), bytes, offset, line, c->truncated);
  }
  return DecodedText{std::move(c->utf8), encoding};
}

}  // namespace

size_t FirstInvalidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t at = i;
    if (NextCodePoint(s, &i) < 0) {
      return at;
    }
  }
  return s.size();
}

absl::StatusOr<TextEncoding> ParseTextEncoding(absl::string_view name) {
  const std::string n = absl::AsciiStrToLower(name);
  if (n == "auto") return TextEncoding::kAuto;
  if (n == "utf-8" || n == "utf8") return TextEncoding::kUtf8;
  if (n == "gb18030") return TextEncoding::kGb18030;
  if (n == "gbk" || n == "cp936") return TextEncoding::kGbk;
  if (n == "utf-16" || n == "utf16" || n == "utf-16le") return TextEncoding::kUtf16Le;
  if (n == "utf-16be") return TextEncoding::kUtf16Be;
  return absl::InvalidArgumentError(
      absl::StrCat("未知编码“", name,
                   "”，可用 utf-8、gb18030、gbk、utf-16、utf-16be、auto / unknown encoding \"",
                   name, "\" (utf-8, gb18030, gbk, utf-16, utf-16be, auto)"));
}

const char* TextEncodingName(TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::kAuto:
      return "auto";
    case TextEncoding::kUtf8:
      return "UTF-8";
    case TextEncoding::kUtf8Bom:
      return "UTF-8 (BOM)";
    case TextEncoding::kGb18030:
      return "GB18030";
    case TextEncoding::kGbk:
      return "GBK";
    case TextEncoding::kUtf16Le:
      return "UTF-16LE";
    case TextEncoding::kUtf16Be:
      return "UTF-16BE";
  }
  return "?";
}

absl::StatusOr<DecodedText> DecodeText(absl::string_view bytes, TextEncoding encoding) {
  switch (encoding) {
    case TextEncoding::kUtf8:
    case TextEncoding::kUtf8Bom:
      return DecodeUtf8(bytes, absl::StartsWith(bytes, kUtf8Bom));
    case TextEncoding::kGb18030:
    case TextEncoding::kGbk:
    case TextEncoding::kUtf16Le:
    case TextEncoding::kUtf16Be:
      return DecodeWithIconv(bytes, encoding);
    case TextEncoding::kAuto:
      break;
  }
  if (absl::StartsWith(bytes, kUtf8Bom)) {
    return DecodeUtf8(bytes, true);
  }
  if (absl::StartsWith(bytes, kUtf16LeBom)) {
    return DecodeWithIconv(bytes, TextEncoding::kUtf16Le);
  }
  if (absl::StartsWith(bytes, kUtf16BeBom)) {
    return DecodeWithIconv(bytes, TextEncoding::kUtf16Be);
  }
  const size_t bad_utf8 = FirstInvalidUtf8(bytes);
  if (bad_utf8 == bytes.size()) {
    return DecodedText{std::string(bytes), TextEncoding::kUtf8};
  }
  absl::StatusOr<Converted> gb = Iconv("GB18030", bytes);
  if (!gb.ok()) {
    return gb.status();
  }
  if (gb->ok) {
    return DecodedText{std::move(gb->utf8), TextEncoding::kGb18030};
  }
  const size_t bad_gb = gb->bad_offset;
  const int utf8_line = LineOfByte(bytes, bad_utf8), gb_line = LineOfByte(bytes, bad_gb);
  return absl::InvalidArgumentError(absl::StrCat(
      "无法识别文件编码：不是有效的UTF-8（", WhereZh(bytes, bad_utf8, utf8_line, false),
      "），也不是有效的GB18030/GBK（", WhereZh(bytes, bad_gb, gb_line, gb->truncated),
      "）；请在Excel中另存为“CSV UTF-8”，或用 --encoding 指定编码 / cannot tell the "
      "file's encoding: not valid UTF-8 (",
      WhereEn(bytes, bad_utf8, utf8_line, false), ") nor GB18030/GBK (",
      WhereEn(bytes, bad_gb, gb_line, gb->truncated),
      "); save it from Excel as \"CSV UTF-8\" or name the encoding with --encoding"));
}

}  // namespace halfsky
