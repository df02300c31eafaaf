#ifndef HALFSKY_COMMON_XLSX_READER_H_
#define HALFSKY_COMMON_XLSX_READER_H_

// Reads the cells of an Office Open XML workbook (.xlsx) from memory: the
// zip container with libzip, every XML part with expat (Debian's libzip4 and
// libexpat1; no zip or XML parsing of our own). Pure; thread-safe (no shared
// state). What it reads:
//
//   * _rels/.rels → the workbook part (default xl/workbook.xml);
//   * the workbook's sheets, in workbook order, with their names and
//     visibility; the workbook's relationships → each worksheet's part and
//     the shared string table (chartsheets and other parts are skipped);
//   * the shared strings: rich text runs joined, phonetic runs (<rPh>)
//     left out, "_xHHHH_" escapes decoded;
//   * every worksheet's cells: references "D7" (or, when a writer leaves
//     them out, the position after the previous cell / row), types
//     s (shared string), str (formula text), inlineStr, n (number, the
//     default), b (boolean), e (error, e.g. "#DIV/0!"), d (ISO date, kept as
//     text). A formula cell is read as its cached value (<v>, as Excel saves
//     it); a formula without a cached value is an error naming the cell
//     (unless ReadLimits::refuse_uncached_formulas is false).
//     Cells without a value (only a style) are left out. Dates are not
//     interpreted: a date-formatted number is its serial number.
//
// Transitional and strict OOXML namespaces are both understood; elements of
// other namespaces (extensions) are skipped. A document type declaration is
// refused (no entities, so no entity expansion and nothing external).
//
// Bounded (ReadLimits): the file size, the number of zip entries, each
// part's and the total uncompressed size (counted while inflating, never
// trusted from the zip directory: a zip bomb stops at the cap), sheets,
// cells, the row/column range (Excel's own: 1048576 rows, 16384 columns,
// XFD) and the bytes of one string.
//
// Every error is INVALID_ARGUMENT (a bound exceeded too) and says where:
// the part ("xl/worksheets/sheet1.xml 第3行 / line 3") or the sheet and cell
// ("表式!D7：公式没有缓存值…"). Cell problems (a formula without a cached
// value, a bad number, a shared string index out of range, a string over
// the bound) do not stop the reading: all of them are listed in the one
// error, one per line (the first 100, then how many in all).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace halfsky::xlsx {

struct ReadLimits {
  int64_t max_file_bytes = 32 << 20;
  int64_t max_entries = 4096;
  // Uncompressed bytes of one part, and of all the parts read together.
  int64_t max_part_bytes = 64 << 20;
  int64_t max_total_bytes = 128 << 20;
  int max_sheets = 256;
  // Cells with a value, in the whole workbook.
  int64_t max_cells = 1000000;
  // Bytes of one string (Excel's limit is 32767 characters).
  int64_t max_string_bytes = 32767 * 4;
  int64_t max_shared_strings = 1000000;
  // A formula without a cached value is an error naming the cell (true), or
  // (false) a cell of type kNoValue, for a caller that refuses it only
  // where the cell matters (halfskyctl submit ignores the form's
  // informational columns and sheets without a table).
  bool refuse_uncached_formulas = true;
};

enum class CellType {
  kNumber,   // number (t="n" or none), `number` holds it, `text` the <v> as written
  kText,     // s, str, inlineStr, d
  kBool,     // b: `text` is "TRUE" or "FALSE", `number` 1 or 0
  kError,    // e: `text` is the error, e.g. "#DIV/0!"
  kNoValue,  // a formula without a cached value (only without refuse_uncached_formulas)
};

struct Cell {
  int row = 0;     // 1-based
  int column = 0;  // 1-based (A = 1)
  CellType type = CellType::kText;
  std::string text;
  double number = 0;
  bool formula = false;  // the value is a formula's cached result
};

struct Sheet {
  std::string name;
  bool hidden = false;      // state="hidden" or "veryHidden"
  std::string part;         // e.g. "xl/worksheets/sheet1.xml"
  std::vector<Cell> cells;  // ordered by row, then column; no two at one place
};

struct Workbook {
  std::vector<Sheet> sheets;  // the worksheets, in workbook order
};

// "D7" for row 7, column 4. row ≥ 1, 1 ≤ column ≤ 16384.
std::string CellName(int row, int column);
// "A" for 1, "XFD" for 16384.
std::string ColumnName(int column);

// "表式!D7", or "'My sheet'!D7" when the name needs Excel's quotes (spaces
// or punctuation; a quote inside is doubled).
std::string CellLabel(absl::string_view sheet, int row, int column);

// Reads `bytes` (a whole .xlsx file). See the file comment.
absl::StatusOr<Workbook> ReadWorkbook(absl::string_view bytes, const ReadLimits& limits = {});

// Whether `bytes` start like a zip file ("PK\x03\x04", or an empty
// archive's "PK\x05\x06").
bool LooksLikeZip(absl::string_view bytes);

}  // namespace halfsky::xlsx

#endif  // HALFSKY_COMMON_XLSX_READER_H_
