#ifndef HALFSKY_COMMON_VIEWS_TABLE_H_
#define HALFSKY_COMMON_VIEWS_TABLE_H_

// Plain-text tables aligned by display width (CJK = 2 columns), optional
// ANSI colour, and the terminal test that decides whether to colour.
// Pure except UseColour, which reads the environment; thread-safe.

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace halfsky::views {

struct Cell {
  std::string text;
  // ANSI SGR parameters, e.g. "1;31"; "" = none. Used only when the table
  // is rendered with colour; never counted in the width.
  std::string sgr;
};

struct Column {
  std::string header;
  bool right_align = false;
  // Cells wider than this are cut with "…" (0 = never).
  int max_width = 0;
};

// Header, a rule of '-' and one line per row; columns separated by two
// spaces; the last column is not padded; no trailing spaces. Rows shorter
// than the header are padded with empty cells.
std::string RenderTable(const std::vector<Column>& columns,
                        const std::vector<std::vector<Cell>>& rows, bool colour);

// `text` wrapped in the SGR sequence when `colour` and sgr is not empty.
std::string Paint(absl::string_view text, absl::string_view sgr, bool colour);

// True when `out` is std::cout and stdout is a terminal, $NO_COLOR is unset
// or empty (https://no-color.org) and $TERM is not "dumb".
bool UseColour(const std::ostream& out);

// RFC 4180 fields (common/text/csv.h's CsvField) joined with ',' and "\r\n"-free: ends with "\n".
std::string CsvLine(const std::vector<std::string>& fields);

// The SGR for a severity / status name token ("red", "orange", "yellow").
const char* SeveritySgr(absl::string_view token);

}  // namespace halfsky::views

#endif  // HALFSKY_COMMON_VIEWS_TABLE_H_
