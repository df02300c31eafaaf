#include "common/submission_file/csv.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/text/utf8.h"

namespace halfsky::submit {

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view content, char delimiter) {
  if (absl::StartsWith(content, "\xEF\xBB\xBF")) {
    content.remove_prefix(3);
  }
  if (!IsValidUtf8(content)) {
    return absl::InvalidArgumentError("文件不是有效的UTF-8 / file is not valid UTF-8");
  }
  std::vector<CsvRecord> records;
  CsvRecord rec;
  std::string field;
  int line = 1;
  rec.line = 1;
  size_t i = 0;
  bool field_started = false;
  auto end_record = [&] {
    rec.fields.push_back(std::move(field));
    field.clear();
    bool blank = true;
    for (const auto& f : rec.fields) {
      if (!absl::StripAsciiWhitespace(f).empty()) {
        blank = false;
      }
    }
    if (!blank) {
      records.push_back(std::move(rec));
    }
    rec = CsvRecord();
    field_started = false;
  };
  while (i < content.size()) {
    const char c = content[i];
    if (!field_started && field.empty() && c == '"') {
      // Quoted field.
      const int start_line = line;
      ++i;
      while (true) {
        if (i >= content.size()) {
          return absl::InvalidArgumentError(absl::StrCat("第", start_line, "行：引号未闭合 / line ",
                                                         start_line,
                                                         ": unterminated quoted field"));
        }
        if (content[i] == '"') {
          if (i + 1 < content.size() && content[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (content[i] == '\r') {
          // A line break inside a quoted field is kept as "\n", whatever
          // the file's line ending (CRLF, or a lone CR).
          ++i;
          if (i < content.size() && content[i] == '\n') {
            ++i;
          }
          ++line;
          field.push_back('\n');
          continue;
        }
        if (content[i] == '\n') {
          ++line;
        }
        field.push_back(content[i++]);
      }
      field_started = true;
      if (i < content.size() && content[i] != delimiter && content[i] != '\n' &&
          content[i] != '\r') {
        return absl::InvalidArgumentError(absl::StrCat("第", line, "行：引号后有多余字符 / line ",
                                                       line, ": text after a closing quote"));
      }
      continue;
    }
    if (c == delimiter) {
      rec.fields.push_back(std::move(field));
      field.clear();
      field_started = false;
      ++i;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < content.size() && content[i + 1] == '\n') {
        ++i;
      }
      ++i;
      end_record();
      ++line;
      rec.line = line;
    } else {
      field.push_back(c);
      field_started = true;
      ++i;
    }
  }
  if (field_started || !field.empty() || !rec.fields.empty()) {
    end_record();
  }
  return records;
}

CsvParseResult ParseSubmissionCsv(absl::string_view content, char delimiter) {
  CsvParseResult out;
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(content, delimiter);
  if (!records.ok()) {
    out.errors.push_back(std::string(records.status().message()));
    return out;
  }
  if (records->empty()) {
    out.errors.push_back("文件为空 / the file is empty");
    return out;
  }
  // The header: the first record naming the key columns (a form's header
  // block above it is dropped); else the first record, whose problems are
  // then reported.
  size_t header = 0;
  for (size_t r = 0; r < records->size(); ++r) {
    if (IsHeaderRow((*records)[r].fields)) {
      header = r;
      break;
    }
  }
  Table table;
  table.fixed_width = true;
  table.header_line = (*records)[header].line;
  table.header = (*records)[header].fields;
  for (size_t r = header + 1; r < records->size(); ++r) {
    Table::Row row;
    row.line = (*records)[r].line;
    for (std::string& f : (*records)[r].fields) {
      row.cells.push_back(TableCell::Text(std::move(f)));
    }
    table.rows.push_back(std::move(row));
  }
  out = ParseSubmissionTable(table);
  if (out.values.empty() && out.errors.empty()) {
    out.errors.push_back(out.blank_form_rows > 0
                             ? absl::StrCat("表中没有填写任何数据（未填 ", out.blank_form_rows,
                                            " 行） / nothing is filled in (", out.blank_form_rows,
                                            " rows left blank)")
                             : "文件没有数据行 / the file has no data rows");
  }
  return out;
}

}  // namespace halfsky::submit
