#include "common/views/display_width.h"

#include <cstdint>
#include <string>

#include "common/text/utf8.h"

namespace halfsky {
namespace {

bool IsWide(int32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) ||    // Hangul Jamo
         (cp >= 0x2E80 && cp <= 0x303E) ||    // CJK radicals, punctuation
         (cp >= 0x3041 && cp <= 0x33FF) ||    // kana, CJK compatibility
         (cp >= 0x3400 && cp <= 0x4DBF) ||    // CJK extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||    // CJK unified ideographs
         (cp >= 0xA000 && cp <= 0xA4CF) ||    // Yi
         (cp >= 0xAC00 && cp <= 0xD7A3) ||    // Hangul syllables
         (cp >= 0xF900 && cp <= 0xFAFF) ||    // CJK compatibility ideographs
         (cp >= 0xFE30 && cp <= 0xFE4F) ||    // CJK compatibility forms
         (cp >= 0xFF00 && cp <= 0xFF60) ||    // fullwidth forms
         (cp >= 0xFFE0 && cp <= 0xFFE6) ||    // fullwidth signs
         (cp >= 0x1F300 && cp <= 0x1F64F) ||  // pictographs
         (cp >= 0x20000 && cp <= 0x3FFFD);    // CJK extensions B..
}

bool IsZeroWidth(int32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || cp == 0x200B || cp == 0x200D ||
         (cp >= 0xFE00 && cp <= 0xFE0F);
}

}  // namespace

int DisplayWidth(absl::string_view text) {
  int width = 0;
  size_t i = 0;
  while (i < text.size()) {
    const int32_t cp = NextCodePoint(text, &i);
    if (cp < 0) {
      width += 1;
    } else if (IsZeroWidth(cp)) {
      // nothing
    } else if (IsWide(cp)) {
      width += 2;
    } else {
      width += 1;
    }
  }
  return width;
}

std::string PadToWidth(absl::string_view text, int width) {
  std::string out(text);
  const int w = DisplayWidth(text);
  if (w < width) {
    out.append(width - w, ' ');
  }
  return out;
}

std::string PadLeftToWidth(absl::string_view text, int width) {
  const int w = DisplayWidth(text);
  std::string out;
  if (w < width) {
    out.append(width - w, ' ');
  }
  out.append(text.data(), text.size());
  return out;
}

std::string TruncateToWidth(absl::string_view text, int width) {
  if (DisplayWidth(text) <= width) {
    return std::string(text);
  }
  const int budget = width - 1;  // room for "…"
  int used = 0;
  size_t i = 0;
  size_t keep = 0;
  while (i < text.size()) {
    size_t next = i;
    const int32_t cp = NextCodePoint(text, &next);
    const int w = cp < 0 ? 1 : IsZeroWidth(cp) ? 0 : IsWide(cp) ? 2 : 1;
    if (used + w > budget) {
      break;
    }
    used += w;
    i = next;
    keep = i;
  }
  std::string out(text.substr(0, keep));
  if (width >= 1) {
    out += "…";
  }
  return out;
}

}  // namespace halfsky
