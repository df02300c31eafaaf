#ifndef HALFSKY_TESTS_WEB_FORM_XLSX_H_
#define HALFSKY_TESTS_WEB_FORM_XLSX_H_

// A report form (表式) for the web upload tests, written with
// common/xlsx/writer.h (its own file: the writer's and the reader's
// xlsx::Workbook cannot meet in one translation unit).

#include <string>
#include <vector>

namespace halfsky::testing {

// Writes `path`: sheet 表式, a title in row 1, the header 指标代码 区域代码 年份
// 分子 分母 数据来源 in row 3 and `rows` below it (年份, 分子, 分母 that read as
// numbers as number cells, as Excel stores them). Returns the file's bytes
// ("" on failure).
std::string WriteFormXlsx(const std::string& path,
                          const std::vector<std::vector<std::string>>& rows);

}  // namespace halfsky::testing

#endif  // HALFSKY_TESTS_WEB_FORM_XLSX_H_
