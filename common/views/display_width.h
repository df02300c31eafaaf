#ifndef HALFSKY_COMMON_VIEWS_DISPLAY_WIDTH_H_
#define HALFSKY_COMMON_VIEWS_DISPLAY_WIDTH_H_

// Terminal display width of UTF-8 text, shared by every halfskyctl command
// that prints tables. Pure functions, thread-safe.

#include <string>

#include "absl/strings/string_view.h"

namespace halfsky {

// Terminal columns `text` (UTF-8) takes: East Asian wide and fullwidth
// characters (CJK ideographs, kana, hangul, fullwidth forms such as "％")
// take 2, combining marks 0, everything else 1. Invalid bytes count 1 each.
int DisplayWidth(absl::string_view text);

// `text` followed by spaces up to `width` display columns (unchanged if
// already as wide or wider).
std::string PadToWidth(absl::string_view text, int width);

// Spaces up to `width` display columns followed by `text` (right-aligned).
std::string PadLeftToWidth(absl::string_view text, int width);

// `text` cut to at most `width` display columns, never inside a code point
// or a wide character; ends with "…" when cut (width >= 1).
std::string TruncateToWidth(absl::string_view text, int width);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_VIEWS_DISPLAY_WIDTH_H_
