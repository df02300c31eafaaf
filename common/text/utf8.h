#ifndef HALFSKY_COMMON_TEXT_UTF8_H_
#define HALFSKY_COMMON_TEXT_UTF8_H_

// UTF-8 validation, the one definition every service and halfskyctl use.

#include "absl/strings/string_view.h"

namespace halfsky {

// True when `s` is well-formed UTF-8 (RFC 3629): no overlong encodings, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
// sequence. The empty string is valid. Thread-safe; no allocation.
bool IsValidUtf8(absl::string_view s);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_TEXT_UTF8_H_
