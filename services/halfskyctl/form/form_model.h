#ifndef HALFSKY_SERVICES_HALFSKYCTL_FORM_FORM_MODEL_H_
#define HALFSKY_SERVICES_HALFSKYCTL_FORM_FORM_MODEL_H_

// A member unit's blank report form (报表表式) for one year, built from the
// catalog: what `halfskyctl form` writes as .xlsx or .csv. Pure; thread-safe.
//
// The contract with the reader (`halfskyctl submit FILE.xlsx|.csv`):
//   * the table's header row is the first row holding 指标代码, 区域代码 and
//     年份; the rows above it (title, 表号, 制表机关, 填报单位, 报告期,
//     报送截止日期) are a header block the reader ignores;
//   * the columns are the CSV vocabulary (submit/csv.h) plus informational
//     columns the reader ignores: 指标名称, 区域名称, 计量单位, 填报内容,
//     上年分子, 上年分母, 上年数值, 上年公布数 (and 指标解释 on the
//     explanations sheet, which has no 区域代码 column, so is not read);
//   * 填报内容 marks a form: rows left blank are skipped.
//
// Rows: one per indicator of the unit (catalog order) × area × required
// disaggregation. Areas: the district (the root area), and its towns and
// subdistricts when the indicator requires DISAGGREGATION_AREA. Sex (when
// required): 合计, 女, 男; residence (when required): 全部, 城镇, 农村 — each
// with the other dimension at its total (the built-in validation families
// check parts against these totals; no sex × residence cross). A
// qualitative objective gets one district row for the unit's narrative
// (工作进展, 自评, 佐证材料; 填报单位 names the unit).

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/catalog/catalog.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/common.pb.h"

namespace halfsky::form {

// What a row asks for.
enum class Wanted { kFraction, kValue, kNarrative };

struct FormRow {
  const halfsky::v1::Indicator* indicator = nullptr;
  const halfsky::v1::Area* area = nullptr;
  int year = 0;
  halfsky::v1::Sex sex = halfsky::v1::SEX_TOTAL;
  halfsky::v1::Residence residence = halfsky::v1::RESIDENCE_ALL;
  Wanted wanted = Wanted::kValue;
  // Last year's value of the same key, when the service has it.
  std::optional<halfsky::v1::DataValue> previous;
};

// One cell as written: empty, text or a number; `fillable` cells are left
// unlocked in the protected sheet (and get the data validation when
// `number`).
struct Cell {
  enum Kind { kEmpty, kText, kNumber };
  Kind kind = kEmpty;
  std::string text;
  double number = 0;
  bool fillable = false;
  // A fillable number cell: the smallest value the validation accepts.
  std::optional<double> at_least;
};

struct Form {
  std::string unit_code;
  std::string unit_name_zh;
  int year = 0;
  // 表号: "妇规监测-" + unit code (stable across years; unique per unit).
  std::string table_number;
  // 制表机关, e.g. 金台区妇女儿童工作委员会办公室.
  std::string authority_zh;
  // Title, e.g. 金台区妇女发展规划（2021—2030年）监测统计报表（2024年）.
  std::string title_zh;
  // 报送截止日期 as 2024年12月31日 (the earliest of the unit's indicators;
  // "，部分指标另有规定" when they differ).
  std::string due_zh;
  std::vector<std::string> header;  // the header row
  std::vector<FormRow> rows;
  // The unit's indicators in catalog order (the 指标解释 sheet).
  std::vector<const halfsky::v1::Indicator*> indicators;
};

// The informational and payload column names, in the form's order.
// Narrative columns (工作进展, 自评, 佐证材料, 填报单位) only when
// `with_narratives`.
std::vector<std::string> FormHeader(bool with_narratives);

// The form of `unit_code` for `year`. `previous` are last year's current
// values (any unit's; matched by key). `authority_zh` "" → the root area's
// name + 妇女儿童工作委员会办公室. NOT_FOUND for a unit the catalog lacks;
// FAILED_PRECONDITION for a unit responsible for no indicator. `index`
// must outlive the Form (rows point into its catalog).
absl::StatusOr<Form> BuildForm(const CatalogIndex& index, const std::string& unit_code, int year,
                               const std::vector<halfsky::v1::DataValue>& previous,
                               const std::string& authority_zh);

// The cells of `row`, one per form.header column.
std::vector<Cell> RowCells(const Form& form, const FormRow& row);

// The header block's lines (label, text): 表号, 制表机关, 填报单位, 报告期,
// 报送截止日期.
std::vector<std::pair<std::string, std::string>> HeaderBlock(const Form& form);

// The 指标解释 sheet: its header (指标代码, 指标名称, 指标解释 columns…)
// and one row per indicator.
std::vector<std::string> ExplanationHeader();
std::vector<std::vector<std::string>> ExplanationRows(const CatalogIndex& index, const Form& form);

// The form as CSV: the header row and the rows (no header block, so the
// CSV reader reads it as any submission CSV), UTF-8 with a BOM (Excel
// opens it as UTF-8), CRLF; text cells through CsvField (formula-safe).
std::string FormCsv(const Form& form);

// "HEALTH" → a file name stem: "报表-HEALTH-2024".
std::string FormFileStem(const Form& form);

}  // namespace halfsky::form

#endif  // HALFSKY_SERVICES_HALFSKYCTL_FORM_FORM_MODEL_H_
