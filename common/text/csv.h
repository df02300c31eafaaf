#ifndef HALFSKY_COMMON_TEXT_CSV_H_
#define HALFSKY_COMMON_TEXT_CSV_H_

// Writing CSV (RFC 4180), the one way halfsky's exports and halfskyctl's
// tables quote a field. Reading CSV is not here (halfskyctl submit has its
// own strict reader). Pure; thread-safe.

#include <string>

#include "absl/strings/string_view.h"

namespace halfsky {

// `text` as one CSV field: first made formula-safe (common/text/formula.h:
// text a spreadsheet would run as a formula, "=1+2", "@SUM(A1)", "-2+3",
// gets a leading apostrophe; plain numbers such as "-3.5" stay as they
// are); then unchanged unless it holds a comma, a double quote, CR or LF,
// else enclosed in double quotes with each quote doubled.
std::string CsvField(absl::string_view text);

}  // namespace halfsky

#endif  // HALFSKY_COMMON_TEXT_CSV_H_
