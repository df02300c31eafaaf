#ifndef HALFSKY_SERVICES_HALFSKYCTL_FORM_FORM_XLSX_H_
#define HALFSKY_SERVICES_HALFSKYCTL_FORM_FORM_XLSX_H_

// A Form (form_model.h) as an .xlsx workbook (common/xlsx/writer.h):
//
//   sheet 表式: the title (row 1), the header block (表号, 制表机关, 填报单位,
//     报告期, 报送截止日期, 填表说明; rows 2–7, ignored by the reader), a
//     blank row, the header row (row 9, frozen with the code columns), one
//     row per FormRow. Cells are typed (年份 and the 上年… figures are
//     numbers). The sheet is protected (no password) except the cells a row
//     asks for (分子/分母/公布数, 数值, or 工作进展/自评/佐证材料) and
//     数据来源, 备注 — those are unlocked, shaded, and the number cells
//     carry data validation: a decimal ≥ 0 (≥ the indicator's plausible
//     minimum when it is negative) with a Chinese prompt and error.
//   sheet 指标解释: one row per indicator (ExplanationRows), no 区域代码
//     column, protected.
//
// Writes `path` (replacing it); the writer's error otherwise, and no file.

#include <string>

#include "absl/status/status.h"
#include "common/catalog/catalog.h"
#include "services/halfskyctl/form/form_model.h"

namespace halfsky::form {

// The 0-based row of the header row in sheet 表式 (Excel row 9).
inline constexpr int kHeaderRow = 8;

absl::Status WriteFormXlsx(const CatalogIndex& index, const Form& form, const std::string& path);

}  // namespace halfsky::form

#endif  // HALFSKY_SERVICES_HALFSKYCTL_FORM_FORM_XLSX_H_
