#include "common/submission_file/xlsx.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/xlsx/reader.h"

namespace halfsky::submit {

namespace {

TableCell ToTableCell(const xlsx::Cell& c) {
  switch (c.type) {
    case xlsx::CellType::kNumber:
      return TableCell::Number(c.number);
    case xlsx::CellType::kBool: {
      TableCell t;
      t.kind = TableCell::Kind::kBool;
      t.text = c.text;
      t.number = c.number;
      return t;
    }
    case xlsx::CellType::kError: {
      TableCell t;
      t.kind = TableCell::Kind::kError;
      t.text = c.text;
      return t;
    }
    case xlsx::CellType::kNoValue: {
      TableCell t;
      t.kind = TableCell::Kind::kNoValue;
      return t;
    }
    case xlsx::CellType::kText:
      break;
  }
  return TableCell::Text(c.text);
}

// The sheet's rows: cells grouped by row (ordered, as the reader returns
// them), index = column - 1.
std::vector<Table::Row> Rows(const xlsx::Sheet& sheet) {
  std::vector<Table::Row> rows;
  for (const xlsx::Cell& c : sheet.cells) {
    if (rows.empty() || rows.back().line != c.row) {
      rows.emplace_back();
      rows.back().line = c.row;
    }
    auto& cells = rows.back().cells;
    if (cells.size() < static_cast<size_t>(c.column)) {
      cells.resize(static_cast<size_t>(c.column));
    }
    cells[static_cast<size_t>(c.column - 1)] = ToTableCell(c);
  }
  return rows;
}

std::vector<std::string> Texts(const Table::Row& row) {
  std::vector<std::string> out;
  out.reserve(row.cells.size());
  for (const TableCell& c : row.cells) {
    out.push_back(c.text);
  }
  return out;
}

}  // namespace

WorkbookParseResult ParseSubmissionXlsx(absl::string_view bytes) {
  WorkbookParseResult out;
  // A formula without a cached value matters only where it is read: in a
  // table's used column (refused there, naming the cell), not in an
  // informational column or a sheet without a table.
  xlsx::ReadLimits limits;
  limits.refuse_uncached_formulas = false;
  absl::StatusOr<xlsx::Workbook> wb = xlsx::ReadWorkbook(bytes, limits);
  if (!wb.ok()) {
    // The reader lists every cell problem, one a line.
    for (absl::string_view line : absl::StrSplit(wb.status().message(), '\n')) {
      out.table.errors.emplace_back(line);
    }
    return out;
  }
  int blank = 0;
  for (const xlsx::Sheet& sheet : wb->sheets) {
    SheetSummary summary;
    summary.name = sheet.name;
    std::vector<Table::Row> rows = Rows(sheet);
    auto header = std::find_if(rows.begin(), rows.end(),
                               [](const Table::Row& r) { return IsHeaderRow(Texts(r)); });
    if (header == rows.end()) {
      out.sheets.push_back(std::move(summary));
      continue;
    }
    Table table;
    table.sheet = sheet.name;
    table.header_line = header->line;
    table.header = Texts(*header);
    table.rows.assign(std::make_move_iterator(header + 1), std::make_move_iterator(rows.end()));
    TableParseResult r = ParseSubmissionTable(table);
    summary.has_table = true;
    summary.header_row = table.header_line;
    summary.form = r.form;
    summary.values = static_cast<int>(r.values.size());
    summary.blank_form_rows = r.blank_form_rows;
    out.table.form = out.table.form || r.form;
    blank += r.blank_form_rows;
    for (TableValue& v : r.values) {
      out.table.values.push_back(std::move(v));
    }
    for (std::string& e : r.errors) {
      out.table.errors.push_back(std::move(e));
    }
    out.sheets.push_back(std::move(summary));
  }
  out.table.blank_form_rows = blank;
  if (std::none_of(out.sheets.begin(), out.sheets.end(),
                   [](const SheetSummary& s) { return s.has_table; })) {
    out.table.errors.push_back(
        "工作簿中没有报表：没有一个工作表有含“指标代码”“区域代码”“年份”的表头行 / no sheet of the "
        "workbook has a header row with 指标代码 (indicator_id), 区域代码 (area_code) and 年份 "
        "(year)");
  } else if (out.table.values.empty() && out.table.errors.empty()) {
    out.table.errors.push_back(blank > 0 ? absl::StrCat("表中没有填写任何数据（未填 ", blank,
                                                        " 行） / nothing is filled in (", blank,
                                                        " rows left blank)")
                                         : "工作簿没有数据行 / the workbook has no data rows");
  }
  return out;
}

}  // namespace halfsky::submit
