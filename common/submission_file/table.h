#ifndef HALFSKY_COMMON_SUBMISSION_FILE_TABLE_H_
#define HALFSKY_COMMON_SUBMISSION_FILE_TABLE_H_

// A table of submitted rows → DataValue: the one path of `halfskyctl submit`
// for a CSV file (csv.h) and for each sheet of an .xlsx workbook (xlsx.h).
// Pure; thread-safe.
//
// The header row names the columns (the vocabulary is in csv.h), in Chinese
// or English, any order. Besides those, these INFORMATIONAL columns of the
// report form (`halfskyctl form`) are recognised and ignored: 指标名称
// 区域名称 计量单位 填报内容 上年分子 上年分母 上年数值 上年公布数 指标解释. Any
// other column is an error. The header is "the first row whose cells
// include 指标代码/indicator_id, 区域代码/area_code and 年份/year"
// (IsHeaderRow); rows above it (a form's title, 表号, 制表机关, 填报单位,
// 报告期, 报送截止日期) are the caller's to drop.
//
// A FORM is a table whose header has 填报内容: its rows without a payload
// (nothing filled in) are skipped and counted (blank_form_rows), instead of
// the "no payload" error of a plain table.
//
// Cells are text as read (CSV, a spreadsheet's text cells) or typed by a
// spreadsheet (a formula without a cached value is refused wherever it is
// read, ignored in an informational column). A number cell in a number column (分子 分母 数值
// 公布数) is taken exactly; a text cell there follows the strict rules of csv.h (one plain number,
// or thousands separators used consistently by the column's text cells); a boolean or error cell
// (#DIV/0!) is refused. In a text or key column a number cell reads as its shortest round-trip
// decimal (610303100, 2024, 0.1). Errors name the cell: "第3行第4列“数值” / line 3, column 4
// (数值): ..." for a CSV file, "表式!D7 (数值)：..." for a sheet; every problem of the table at
// once.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::submit {

struct TableCell {
  // kNoValue: a spreadsheet's formula without a cached value (refused in
  // any column that is read, ignored in an informational one).
  enum class Kind { kText, kNumber, kBool, kError, kNoValue };
  Kind kind = Kind::kText;
  // kText: as read; kNumber: the shortest round-trip decimal of `number`;
  // kBool: "TRUE" / "FALSE"; kError: e.g. "#DIV/0!".
  std::string text;
  double number = 0;  // kNumber (and kBool: 1 / 0)

  static TableCell Text(std::string s);
  static TableCell Number(double x);
};

struct Table {
  // "" for a CSV file (labels by line and column), else the sheet's name
  // (labels "表式!D7").
  std::string sheet;
  int header_line = 0;  // the header's line (CSV) or row (sheet), 1-based
  // The header cells' text; index = column (0-based: A = 0).
  std::vector<std::string> header;
  struct Row {
    int line = 0;                  // 1-based line (CSV) or row (sheet)
    std::vector<TableCell> cells;  // index = column; may be shorter than the header
  };
  std::vector<Row> rows;  // the rows below the header, in order
  // CSV: a row with more or fewer cells than the header is an error (a
  // ragged row). Sheet: rows may be shorter; a non-empty cell right of the
  // header's last column is an error.
  bool fixed_width = false;
};

struct TableValue {
  std::string sheet;  // as Table::sheet
  int line = 0;
  halfsky::v1::DataValue value;
};

struct TableParseResult {
  std::vector<TableValue> values;
  // One message per problem, each naming its cell (or row); values is
  // meaningless if not empty.
  std::vector<std::string> errors;
  bool form = false;        // the header has 填报内容
  int blank_form_rows = 0;  // form rows without a payload, skipped
};

// Whether `cells` (a row's texts) hold the indicator, area and year columns.
bool IsHeaderRow(const std::vector<std::string>& cells);

// Reads `table` (see the file comment). A table without data rows is no
// error here: whether a file had any data is the caller's decision.
TableParseResult ParseSubmissionTable(const Table& table);

// "12", "-3.5", "610303100", "0.30000000000000004": integers as integers,
// others the shortest decimal that reads back as the same double.
std::string ShortestDecimal(double x);

}  // namespace halfsky::submit

#endif  // HALFSKY_COMMON_SUBMISSION_FILE_TABLE_H_
