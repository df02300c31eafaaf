#ifndef HALFSKY_COMMON_SUBMISSION_FILE_CSV_H_
#define HALFSKY_COMMON_SUBMISSION_FILE_CSV_H_

// CSV → DataValue for `halfskyctl submit`. Pure; thread-safe. The rows
// go through the path every table shares (table.h; xlsx.h for workbooks).
//
// Format: UTF-8 with or without BOM (halfskyctl submit decodes GB18030/GBK
// and UTF-16 files to UTF-8 first, common/text/encoding.h); RFC 4180
// (comma separated, or tab separated when the caller says so, fields may
// be double-quoted, "" inside quotes is a quote, quoted fields may span
// lines; CRLF or LF). The first record is the header; columns are matched
// by name, Chinese or English, in any order:
//
//   指标代码 indicator_id   (required)     区域代码 area_code (required)
//   年份 year (required)                   性别 sex: 合计/女/男, total/female/male
//   城乡 residence: 全部/城镇/农村, all/urban/rural
//   分子 numerator, 分母 denominator       数值 value
//   数据来源 source                        备注 note
//   工作进展 narrative, 自评 self_assessment (达标/基本达标/未达标/无法评估,
//   met/mostly_met/not_met/not_assessable), 佐证材料 evidence (separated
//   by ';' or '；')
//   填报单位 unit_code: the member unit whose narrative it is (optional:
//   a unit's own token may leave it empty; statistics/admin name it; empty
//   for figures)
//   公布数 published: a RATE/PROPORTION as a publication prints it, in the
//   indicator's display unit (13.2 for 13.2/10万), when its counts are not
//   known (DataValue.published)
//   修改原因 change_reason: why the value replaces the current one
//   (optional free text, DataValue.change_reason)
//
// The header is the first record that names 指标代码/indicator_id,
// 区域代码/area_code and 年份/year (records above it, such as the header
// block of `halfskyctl form --format csv`, are ignored; without such a
// record the first one is the header, and what it lacks is reported).
// The report form's informational columns (指标名称 区域名称 计量单位 填报内容
// 上年分子 上年分母 上年数值 上年公布数 指标解释) are recognised and ignored;
// with 填报内容 the file is a form, whose rows without a payload are skipped
// and counted (table.h).
//
// A row carries exactly one payload: numerator+denominator, published,
// value, or a narrative; numerator/denominator together with published is
// an error naming the 公布数 cell. Empty rows are skipped. Whether the payload fits the
// indicator is the server's decision (it knows the catalog).
//
// Nothing is guessed: every row has exactly the header's number of cells
// (an unquoted "12,345" makes a ragged row); a number cell is one plain
// number ("12", "-3.5", "1e6"; 公布数 too), or digits grouped by three with commas
// ("12,345") only when its whole column uses thousands separators
// consistently (every comma cell grouped, no 4+ digit number without them);
// "1,5" is refused. No cell may hold a control character other than tab
// and newline (NUL included). A line break inside a quoted cell is "\n"
// whatever the file's line ending, so a CRLF file leaves no carriage
// return. Errors name line, column and header ("第3行第4列“数值” / line 3,
// column 4 (数值): ..."), every problem of the file at once.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/submission_file/table.h"

namespace halfsky::submit {

struct CsvRecord {
  int line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

// RFC 4180 records (CRLF / CR inside quotes read as "\n"). INVALID_ARGUMENT
// ("line N: ...") for an unterminated quote or text after a closing quote,
// or invalid UTF-8. `delimiter` separates fields (',' or '\t').
absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view content, char delimiter = ',');

// A value and its line (sheet ""). table.h.
using CsvValue = TableValue;
// errors: "line N, column C (header): message" for each problem (line only
// when no single cell is at fault); values is meaningless if not empty. A
// file without any value is an error ("no data rows", or for a form
// "nothing is filled in").
using CsvParseResult = TableParseResult;

// ParseCsv, then ParseSubmissionTable (table.h).
CsvParseResult ParseSubmissionCsv(absl::string_view content, char delimiter = ',');

}  // namespace halfsky::submit

#endif  // HALFSKY_COMMON_SUBMISSION_FILE_CSV_H_
