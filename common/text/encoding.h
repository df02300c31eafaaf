#ifndef HALFSKY_COMMON_TEXT_ENCODING_H_
#define HALFSKY_COMMON_TEXT_ENCODING_H_

// Decoding the text files people really have into UTF-8: what Excel saves on
// Chinese Windows (GB18030/GBK), UTF-8 with or without a BOM, and Excel's
// "Unicode text" (UTF-16 with a BOM). Pure; thread-safe (each call opens
// its own glibc iconv descriptor).
//
// Detection (TextEncoding::kAuto), nothing guessed beyond this:
//   1. a byte order mark decides: EF BB BF UTF-8, FF FE UTF-16LE,
//      FE FF UTF-16BE (the BOM is removed);
//   2. else well-formed UTF-8 (common/text/utf8.h) is UTF-8: a file that is
//      valid UTF-8 and happens to be valid GB18030 too stays UTF-8;
//   3. else the bytes are decoded as GB18030 (a superset of GBK and
//      GB2312) with iconv;
//   4. else the text is refused, naming the first byte that is bad as UTF-8
//      and the first byte that is bad as GB18030 (offset and line).
// A forced encoding skips detection; only a BOM of that encoding is removed
// (a UTF-16 file without a BOM is read as little-endian, as Windows writes).

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace halfsky {

enum class TextEncoding {
  kAuto,
  kUtf8,
  kUtf8Bom,  // UTF-8 that began with a byte order mark
  kGb18030,
  kGbk,  // only when forced: GB18030's 4-byte sequences are refused
  kUtf16Le,
  kUtf16Be,
};

// "utf-8"/"utf8", "gb18030", "gbk"/"cp936", "utf-16"/"utf-16le",
// "utf-16be", "auto" (case-insensitive) → the encoding; INVALID_ARGUMENT
// (Chinese and English, listing the names) otherwise.
absl::StatusOr<TextEncoding> ParseTextEncoding(absl::string_view name);

// The encoding's display name: "UTF-8", "UTF-8 (BOM)", "GB18030", "GBK",
// "UTF-16LE", "UTF-16BE", "auto".
const char* TextEncodingName(TextEncoding encoding);

struct DecodedText {
  std::string utf8;       // well-formed UTF-8, BOM removed
  TextEncoding encoding;  // what it was read as (never kAuto)
};

// `bytes` decoded as `encoding` (kAuto: detected, see above). On failure
// INVALID_ARGUMENT with a Chinese + English message naming the byte offset
// (0-based) and line (1-based) of the first byte that cannot be decoded;
// nothing is returned then.
absl::StatusOr<DecodedText> DecodeText(absl::string_view bytes,
                                       TextEncoding encoding = TextEncoding::kAuto);

// Offset of the first byte of `s` that does not start a well-formed UTF-8
// sequence, or s.size() when s is valid UTF-8.
size_t FirstInvalidUtf8(absl::string_view s);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_TEXT_ENCODING_H_
