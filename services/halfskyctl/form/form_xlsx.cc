#include "services/halfskyctl/form/form_xlsx.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/xlsx/writer.h"

namespace halfsky::form {

namespace {

#define RETURN_IF_ERROR(expr)  \
  do {                         \
    absl::Status _st = (expr); \
    if (!_st.ok()) return _st; \
  } while (0)

constexpr uint32_t kHeaderFill = 0xD9E1F2;
constexpr uint32_t kFillableFill = 0xFFF2CC;
constexpr uint32_t kPreviousFill = 0xEDEDED;

double WidthOf(const std::string& column) {
  if (column == "指标名称" || column == "工作进展" || column == "佐证材料") {
    return 36;
  }
  if (column == "数据来源" || column == "备注" || column == "填报内容") {
    return 20;
  }
  if (column == "区域名称" || column == "指标代码" || column == "填报单位") {
    return 14;
  }
  if (column == "年份" || column == "性别" || column == "城乡" || column == "自评") {
    return 7;
  }
  return 11;
}

}  // namespace

absl::Status WriteFormXlsx(const CatalogIndex& index, const Form& form, const std::string& path) {
  auto book = xlsx::Workbook::Create(path);
  if (!book.ok()) {
    return book.status();
  }
  RETURN_IF_ERROR((*book)->SetTitle(form.title_zh, form.authority_zh));
  auto sheet = (*book)->AddSheet("表式");
  if (!sheet.ok()) {
    return sheet.status();
  }
  xlsx::Sheet& s = **sheet;
  const int ncols = static_cast<int>(form.header.size());

  xlsx::Style title;
  title.bold = true;
  title.font_size = 14;
  title.center = true;
  RETURN_IF_ERROR(s.MergedText(0, 0, 0, ncols - 1, form.title_zh, title));
  xlsx::Style label;
  label.bold = true;
  int r = 1;
  for (const auto& [name, text] : HeaderBlock(form)) {
    RETURN_IF_ERROR(s.Text(r, 0, name, label));
    RETURN_IF_ERROR(s.MergedText(r, 1, r, std::min(ncols - 1, 8), text));
    ++r;
  }
  RETURN_IF_ERROR(s.Text(r, 0, "填表说明", label));
  RETURN_IF_ERROR(s.MergedText(
      r, 1, r, ncols - 1,
      "只填浅黄色单元格：比率、比例类指标填分子和分母（无分子分母时填公布数），其余指标填数值；"
      "数据来源、备注可选。灰色“上年…”列为上年已报数据，仅供参考。未填写的行不上报。"));

  xlsx::Style head;
  head.bold = true;
  head.border = true;
  head.wrap = true;
  head.fill_rgb = kHeaderFill;
  for (int c = 0; c < ncols; ++c) {
    RETURN_IF_ERROR(s.Text(kHeaderRow, c, form.header[c], head));
    RETURN_IF_ERROR(s.ColumnWidth(c, c, WidthOf(form.header[c])));
  }

  xlsx::Style locked;
  locked.border = true;
  xlsx::Style previous = locked;
  previous.fill_rgb = kPreviousFill;
  xlsx::Style fillable = locked;
  fillable.unlocked = true;
  fillable.fill_rgb = kFillableFill;

  // Validation ranges: runs of consecutive fillable number cells in a
  // column with the same minimum.
  struct Run {
    int col;
    int first;
    int last;
    double min;
  };
  std::vector<Run> runs;
  std::vector<int> open_index(ncols, -1);
  int row = kHeaderRow + 1;
  for (const FormRow& fr : form.rows) {
    const std::vector<Cell> cells = RowCells(form, fr);
    for (int c = 0; c < ncols; ++c) {
      const Cell& cell = cells[c];
      const bool prev_col = form.header[c].rfind("上年", 0) == 0;
      const xlsx::Style& style = cell.fillable ? fillable : prev_col ? previous : locked;
      if (cell.kind == Cell::kText) {
        RETURN_IF_ERROR(s.Text(row, c, cell.text, style));
      } else if (cell.kind == Cell::kNumber) {
        RETURN_IF_ERROR(s.Number(row, c, cell.number, style));
      } else {
        RETURN_IF_ERROR(s.Blank(row, c, style));
      }
      if (cell.fillable && cell.at_least) {
        const int i = open_index[c];
        if (i >= 0 && runs[i].last == row - 1 && runs[i].min == *cell.at_least) {
          runs[i].last = row;
        } else {
          open_index[c] = static_cast<int>(runs.size());
          runs.push_back({c, row, row, *cell.at_least});
        }
      }
    }
    ++row;
  }
  for (const Run& run : runs) {
    const std::string min = run.min == 0 ? "0" : absl::StrCat(run.min);
    RETURN_IF_ERROR(s.DecimalAtLeast(
        run.first, run.col, run.last, run.col, run.min, "填写数字",
        absl::StrCat("请填写不小于", min, "的数字（不带单位、不带千分位逗号）；不适用请留空。"),
        "数字无效", absl::StrCat("此单元格只能填写不小于", min, "的数字。")));
  }
  s.Freeze(kHeaderRow + 1, 2);
  s.Protect();

  auto expl = (*book)->AddSheet("指标解释");
  if (!expl.ok()) {
    return expl.status();
  }
  xlsx::Sheet& e = **expl;
  const std::vector<std::string> eh = ExplanationHeader();
  xlsx::Style wrap;
  wrap.wrap = true;
  wrap.border = true;
  for (int c = 0; c < static_cast<int>(eh.size()); ++c) {
    RETURN_IF_ERROR(e.Text(0, c, eh[c], head));
    const bool wide = eh[c] == "指标解释" || eh[c] == "计算方法" || eh[c] == "数据来源" ||
                      eh[c] == "分子" || eh[c] == "分母" || eh[c] == "说明";
    RETURN_IF_ERROR(e.ColumnWidth(c, c, wide ? 40 : eh[c] == "指标名称" ? 28 : 14));
  }
  int er = 1;
  for (const auto& cells : ExplanationRows(index, form)) {
    for (int c = 0; c < static_cast<int>(cells.size()); ++c) {
      RETURN_IF_ERROR(e.Text(er, c, cells[c], wrap));
    }
    ++er;
  }
  e.Freeze(1, 2);
  e.Protect();
  return (*book)->Close();
}

}  // namespace halfsky::form
