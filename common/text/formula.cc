#include "common/text/formula.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace halfsky {

namespace {

// [+-]digits[.digits][(e|E)[+-]digits][%], or [+-].digits…; nothing else.
bool IsPlainNumber(absl::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    ++i;
  }
  size_t digits = 0;
  while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
    ++i;
    ++digits;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      ++digits;
    }
  }
  if (digits == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      ++i;
    }
    size_t exp_digits = 0;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      ++exp_digits;
    }
    if (exp_digits == 0) {
      return false;
    }
  }
  if (i < s.size() && s[i] == '%') {
    ++i;
  }
  return i == s.size();
}

}  // namespace

bool LooksLikeFormula(absl::string_view text) {
  if (text.empty()) {
    return false;
  }
  switch (text[0]) {
    case '=':
    case '@':
    case '\t':
    case '\r':
      return true;
    case '+':
    case '-':
      // "-" alone is the tables' "no value" ("+" alone is as harmless).
      return text.size() > 1 && !IsPlainNumber(text);
    default:
      return false;
  }
}

std::string FormulaSafeText(absl::string_view text) {
  return LooksLikeFormula(text) ? absl::StrCat("'", text) : std::string(text);
}

}  // namespace halfsky
