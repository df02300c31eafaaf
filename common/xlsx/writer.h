#ifndef HALFSKY_COMMON_XLSX_WRITER_H_
#define HALFSKY_COMMON_XLSX_WRITER_H_

// Writing an Office Open XML workbook (.xlsx) with libxlsxwriter (Debian's
// libxlsxwriter4; no zip or XML written by us). A small RAII layer: a
// Workbook owns the lxw_workbook and its Sheets; every call returns
// absl::Status naming what failed (libxlsxwriter's own message).
//
// Cells are typed: Text writes a string cell and never a formula (there is
// no formula API here at all), Number a number. Text that
// common/text/formula.h calls formula-like ("=…", "@…", "-2+3") is kept
// verbatim and also given the Text number format ("@"), so that Excel
// keeps it text even when someone retypes the cell.
//
// Protection: Sheet::Protect locks every cell except those written with
// Style::unlocked (the cells people fill), without a password — it guards
// against accidental edits, not against a determined user.
//
// The file is written by Close (libxlsxwriter assembles it in a temporary
// file and writes `path` at the end); a Workbook destroyed without Close
// writes nothing. Thread-compatible: one thread per Workbook.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct lxw_workbook;
struct lxw_worksheet;
struct lxw_format;

namespace halfsky::xlsx {

// How a cell looks; equal styles share one format in the file.
struct Style {
  bool bold = false;
  bool wrap = false;
  bool border = false;
  bool unlocked = false;  // fillable when the sheet is protected
  bool center = false;
  double font_size = 0;       // 0 = the default (11)
  uint32_t fill_rgb = 0;      // background 0xRRGGBB; 0 = none
  std::string number_format;  // e.g. "0.0", "@"; "" = General

  bool operator<(const Style& o) const;
};

class Workbook;

// One worksheet. Rows and columns are 0-based (A1 is 0, 0). Owned by its
// Workbook; valid until the Workbook is closed or destroyed.
class Sheet {
 public:
  Sheet(const Sheet&) = delete;
  Sheet& operator=(const Sheet&) = delete;

  const std::string& name() const { return name_; }

  // A string cell with `text` (UTF-8, at most 32 767 characters: Excel's
  // limit; longer is INVALID_ARGUMENT). Never a formula (above).
  absl::Status Text(int row, int col, absl::string_view text, const Style& style = {});
  // A number cell; a non-finite `value` is INVALID_ARGUMENT.
  absl::Status Number(int row, int col, double value, const Style& style = {});
  // An empty cell carrying `style` (e.g. an unlocked cell to fill).
  absl::Status Blank(int row, int col, const Style& style);
  // `text` across first..last (inclusive) as one merged cell.
  absl::Status MergedText(int first_row, int first_col, int last_row, int last_col,
                          absl::string_view text, const Style& style = {});

  // Column width in characters (Excel's unit; a CJK character is about 2).
  absl::Status ColumnWidth(int first_col, int last_col, double width);
  // Freezes the rows above `row` and the columns left of `col`.
  void Freeze(int row, int col);
  // Locks every cell not written with Style::unlocked (no password).
  // Selecting cells, formatting columns and rows, and autofilter stay
  // allowed.
  void Protect();
  // Data validation on first..last: a decimal ≥ `min` (blank allowed), with
  // the input prompt and the error message shown by Excel (titles at most
  // 32 characters, messages at most 255: libxlsxwriter refuses longer).
  absl::Status DecimalAtLeast(int first_row, int first_col, int last_row, int last_col, double min,
                              absl::string_view input_title, absl::string_view input_message,
                              absl::string_view error_title, absl::string_view error_message);

 private:
  friend class Workbook;
  Sheet(Workbook* book, lxw_worksheet* sheet, std::string name)
      : book_(book), sheet_(sheet), name_(std::move(name)) {}
  Workbook* book_;
  lxw_worksheet* sheet_;
  std::string name_;
};

class Workbook {
 public:
  // A workbook to be written to `path` by Close. INTERNAL if libxlsxwriter
  // cannot start one (it writes nothing yet; an unwritable path fails in
  // Close).
  static absl::StatusOr<std::unique_ptr<Workbook>> Create(const std::string& path);
  ~Workbook();
  Workbook(const Workbook&) = delete;
  Workbook& operator=(const Workbook&) = delete;

  // A new sheet at the end. INVALID_ARGUMENT for a name Excel refuses
  // (empty, over 31 characters, one of []:*?/\ , or a duplicate).
  absl::StatusOr<Sheet*> AddSheet(absl::string_view name);

  // Document properties (title, author…) shown by Excel's File › Info.
  absl::Status SetTitle(absl::string_view title, absl::string_view author);

  // Writes the file. Once: later calls, and every Sheet call after it, are
  // FAILED_PRECONDITION. UNAVAILABLE (with libxlsxwriter's reason) if the
  // file cannot be written; no partial file is left at `path` then.
  absl::Status Close();

 private:
  friend class Sheet;
  Workbook(lxw_workbook* book, std::string path) : book_(book), path_(std::move(path)) {}
  // The format for `style`, created on first use; nullptr for the default.
  lxw_format* Format(const Style& style);

  lxw_workbook* book_;
  std::string path_;
  bool closed_ = false;
  std::vector<std::unique_ptr<Sheet>> sheets_;
  std::map<Style, lxw_format*> formats_;
  // Strings handed to libxlsxwriter that it keeps pointers to until close
  // (data validation messages, properties).
  std::vector<std::unique_ptr<std::string>> kept_;
};

}  // namespace halfsky::xlsx

#endif  // HALFSKY_COMMON_XLSX_WRITER_H_
