#ifndef HALFSKY_COMMON_TEXT_UTF8_H_
#define HALFSKY_COMMON_TEXT_UTF8_H_

// UTF-8 decoding and validation, the one definition every service and
// halfskyctl use.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace halfsky {

// Decodes the code point starting at `*i` (< s.size()) and advances `*i`
// past it. A byte that does not start a well-formed sequence (as
// IsValidUtf8 defines it) returns -1 and advances `*i` by one.
int32_t NextCodePoint(absl::string_view s, size_t* i);

// True when `s` is well-formed UTF-8 (RFC 3629): no overlong encodings, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
// sequence. The empty string is valid. Thread-safe; no allocation.
bool IsValidUtf8(absl::string_view s);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_TEXT_UTF8_H_
