#include "tests/web/form_xlsx.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "common/xlsx/writer.h"

namespace halfsky::testing {

std::string WriteFormXlsx(const std::string& path,
                          const std::vector<std::vector<std::string>>& rows) {
  auto book = xlsx::Workbook::Create(path);
  if (!book.ok()) {
    return "";
  }
  auto sheet = (*book)->AddSheet("表式");
  if (!sheet.ok() || !(*sheet)->Text(0, 0, "妇女发展规划监测统计报表").ok()) {
    return "";
  }
  const std::vector<std::string> header = {"指标代码", "区域代码", "年份",
                                           "分子",     "分母",     "数据来源"};
  for (size_t c = 0; c < header.size(); ++c) {
    if (!(*sheet)->Text(2, static_cast<int>(c), header[c]).ok()) {
      return "";
    }
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      double x = 0;
      const int row = static_cast<int>(r) + 3, col = static_cast<int>(c);
      const bool number = (c == 2 || c == 3 || c == 4) && absl::SimpleAtod(rows[r][c], &x);
      if (!(number ? (*sheet)->Number(row, col, x) : (*sheet)->Text(row, col, rows[r][c])).ok()) {
        return "";
      }
    }
  }
  if (!(*book)->Close().ok()) {
    return "";
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace halfsky::testing
