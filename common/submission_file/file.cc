#include "common/submission_file/file.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/submission_file/csv.h"
#include "common/xlsx/reader.h"

namespace halfsky::submit {
namespace {

// An OLE2 compound file: Excel 97–2003 (.xls), or an encrypted .xlsx.
bool IsOle2(absl::string_view content) {
  return absl::StartsWith(content, absl::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8));
}

bool IsXlsxName(absl::string_view file) {
  const std::string lower = absl::AsciiStrToLower(file);
  return absl::EndsWith(lower, ".xlsx") || absl::EndsWith(lower, ".xlsm");
}

}  // namespace

absl::StatusOr<SubmissionFile> ReadSubmissionFile(absl::string_view content,
                                                  absl::string_view file_name,
                                                  TextEncoding encoding) {
  SubmissionFile out;
  if (IsOle2(content)) {
    out.parsed.errors.push_back(
        "这是旧版Excel（.xls）或加密的工作簿，无法读取：请在Excel中“另存为”Excel工作簿（.xlsx），"
        "不设密码 / an old Excel .xls file or an encrypted workbook: save it as an Excel "
        "workbook (.xlsx) without a password");
    return out;
  }
  if (xlsx::LooksLikeZip(content) || IsXlsxName(file_name)) {
    if (encoding != TextEncoding::kAuto) {
      return absl::InvalidArgumentError(
          "--encoding 只用于CSV文件 / --encoding applies to CSV files only");
    }
    WorkbookParseResult workbook = ParseSubmissionXlsx(content);
    out.workbook = true;
    out.sheets = std::move(workbook.sheets);
    out.parsed = std::move(workbook.table);
    return out;
  }
  absl::StatusOr<DecodedText> text = DecodeText(content, encoding);
  if (!text.ok()) {
    out.parsed.errors.push_back(std::string(text.status().message()));
    return out;
  }
  out.encoding = text->encoding;
  // Excel's "Unicode text" (UTF-16) is tab separated; every other file is
  // comma separated.
  const bool utf16 =
      text->encoding == TextEncoding::kUtf16Le || text->encoding == TextEncoding::kUtf16Be;
  out.parsed = ParseSubmissionCsv(text->utf8, utf16 ? '\t' : ',');
  return out;
}

std::string DescribeSheets(const std::vector<SheetSummary>& sheets) {
  std::vector<std::string> zh_read, en_read, zh_skipped, en_skipped;
  for (const SheetSummary& s : sheets) {
    if (!s.has_table) {
      zh_skipped.push_back(s.name);
      en_skipped.push_back(s.name);
      continue;
    }
    std::string zh = absl::StrCat(s.name, "（第", s.header_row, "行表头，", s.values, " 条");
    std::string en = absl::StrCat(s.name, " (header row ", s.header_row, ", ", s.values, " values");
    if (s.form) {
      absl::StrAppend(&zh, "，未填 ", s.blank_form_rows, " 行");
      absl::StrAppend(&en, ", ", s.blank_form_rows, " rows left blank");
    }
    zh_read.push_back(zh + "）");
    en_read.push_back(en + ")");
  }
  std::string out =
      absl::StrCat("已读取工作表 ", zh_read.empty() ? "（无）" : absl::StrJoin(zh_read, "、"));
  if (!zh_skipped.empty()) {
    absl::StrAppend(&out, "；跳过（无表头行） ", absl::StrJoin(zh_skipped, "、"));
  }
  absl::StrAppend(&out,
                  " / read sheets: ", en_read.empty() ? "none" : absl::StrJoin(en_read, ", "));
  if (!en_skipped.empty()) {
    absl::StrAppend(&out, "; skipped (no header row): ", absl::StrJoin(en_skipped, ", "));
  }
  return out;
}

std::string DescribeRow(const TableValue& value) {
  if (value.sheet.empty()) {
    return absl::StrCat("第", value.line, "行 / line ", value.line);
  }
  return absl::StrCat(value.sheet, " 第", value.line, "行 / sheet ", value.sheet, ", row ",
                      value.line);
}

}  // namespace halfsky::submit
