#ifndef HALFSKY_COMMON_SUBMISSION_FILE_FILE_H_
#define HALFSKY_COMMON_SUBMISSION_FILE_FILE_H_

// A submitted file's bytes → DataValues: the one reading of `halfskyctl
// submit` and of halfsky-web's upload (the unit's home page). Pure;
// thread-safe.
//
// A file that starts like a zip, or whose name ends .xlsx / .xlsm, is a
// workbook (xlsx.h: every sheet with a form table); an OLE2 file (.xls, or
// an encrypted workbook) is refused with what to do; anything else is a
// CSV, decoded to UTF-8 first (common/text/encoding.h: UTF-8 with or
// without BOM, GB18030/GBK detected, UTF-16 with its BOM — then tab
// separated) and read by csv.h. Every problem is an error in
// `parsed.errors`, each naming its cell ("表式!D7 (数值)：…" for a sheet,
// "第3行第4列“数值” / line 3, column 4 (数值): …" for a CSV), all at once.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/submission_file/table.h"
#include "common/submission_file/xlsx.h"
#include "common/text/encoding.h"

namespace halfsky::submit {

struct SubmissionFile {
  // The values (each with its sheet and line/row) and the errors; values
  // are meaningless when errors is not empty.
  TableParseResult parsed;
  bool workbook = false;
  // A workbook's sheets, in order (empty when it could not be read).
  std::vector<SheetSummary> sheets;
  // A CSV: the encoding it was read as (unset when it could not be decoded).
  std::optional<TextEncoding> encoding;
};

// `file_name` only decides .xlsx by its extension (may be ""). `encoding`
// forces a CSV's encoding; INVALID_ARGUMENT (a usage error, nothing read)
// when it is not kAuto for a workbook.
absl::StatusOr<SubmissionFile> ReadSubmissionFile(absl::string_view content,
                                                  absl::string_view file_name,
                                                  TextEncoding encoding = TextEncoding::kAuto);

// Which sheets were read, one line: "已读取工作表 表式（第5行表头，12 条，
// 未填 3 行）；跳过（无表头行） 指标解释 / read sheets: 表式 (header row 5,
// 12 values, 3 rows left blank); skipped (no header row): 指标解释".
std::string DescribeSheets(const std::vector<SheetSummary>& sheets);

// Where a value came from: "表式 第7行 / sheet 表式, row 7" for a sheet,
// "第7行 / line 7" for a CSV.
std::string DescribeRow(const TableValue& value);

}  // namespace halfsky::submit

#endif  // HALFSKY_COMMON_SUBMISSION_FILE_FILE_H_
