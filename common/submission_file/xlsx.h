#ifndef HALFSKY_COMMON_SUBMISSION_FILE_XLSX_H_
#define HALFSKY_COMMON_SUBMISSION_FILE_XLSX_H_

// .xlsx workbook → DataValue for `halfskyctl submit`: the filled report form
// of `halfskyctl form`, or any workbook with the CSV's columns. Pure;
// thread-safe.
//
// The workbook is read by common/xlsx/reader.h (cached values of formulas;
// a formula without one is an error naming the cell where it is read — a
// used column of a table — and ignored in an informational column or a
// sheet without a table, as a program that filled the form may leave it). Every worksheet, in
// workbook order, hidden ones too, is searched for a form table: its header
// is the first row whose cells include 指标代码/indicator_id,
// 区域代码/area_code and 年份/year; rows above it (title, 表号, 制表机关,
// 填报单位, 报告期, 报送截止日期) are the form's header block, ignored. The
// rows below it go through the one table path (table.h: the CSV's column
// vocabulary plus the form's informational columns; a header with 填报内容
// makes it a form, whose rows without a payload are skipped and counted).
// A sheet without such a header row (e.g. 指标解释) is skipped; a workbook
// without any is an error. Errors name the sheet and cell ("表式!D7 (数值)：
// 不是数字 / not a number"), every problem of every sheet at once.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/submission_file/table.h"

namespace halfsky::submit {

struct SheetSummary {
  std::string name;
  bool has_table = false;   // false: skipped (no header row)
  int header_row = 0;       // 1-based, when has_table
  bool form = false;        // its header has 填报内容
  int values = 0;           // rows read as values
  int blank_form_rows = 0;  // form rows left blank
};

struct WorkbookParseResult {
  // Every sheet's values (TableValue.sheet names the sheet) and errors, in
  // workbook order; a workbook-level problem (not a workbook, no form
  // table, nothing filled in) is one error too.
  TableParseResult table;
  std::vector<SheetSummary> sheets;  // every worksheet, in order
};

WorkbookParseResult ParseSubmissionXlsx(absl::string_view bytes);

}  // namespace halfsky::submit

#endif  // HALFSKY_COMMON_SUBMISSION_FILE_XLSX_H_
