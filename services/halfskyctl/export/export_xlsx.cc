#include "services/halfskyctl/export/export_xlsx.h"

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/labels/labels.h"
#include "common/submission_file/csv.h"
#include "common/text/formula.h"

namespace halfsky {

namespace v1 = ::halfsky::v1;

namespace {

struct Column {
  const char* csv;
  const char* zh;
  bool number;
};

constexpr Column kColumns[] = {
    {"indicator_id", "指标代码", false},
    {"indicator_name_zh", "指标名称", false},
    {"area_code", "区域代码", false},
    {"area_name_zh", "区域名称", false},
    {"year", "年份", true},
    {"sex", "性别", false},
    {"residence", "城乡", false},
    {"value", "数值", true},
    {"numerator", "分子", true},
    {"denominator", "分母", true},
    {"unit", "计量单位", false},
    {"direct", "直报", false},
    {"contributing_areas", "参与汇总区域数", true},
    {"missing_areas", "缺报区域", false},
    {"children_value", "下级汇总值", true},
    {"children_mismatch", "与下级不符", false},
    {"as_of_sequence", "数据序号", true},
};

// The CSV field as text: the apostrophe CsvField put before formula-like
// text removed (the xlsx writer keeps such text a string).
std::string Unescaped(const std::string& field) {
  if (field.size() > 1 && field[0] == '\'' && LooksLikeFormula(field.substr(1))) {
    return field.substr(1);
  }
  return field;
}

std::string Label(const std::string& column, const std::string& token) {
  if (column == "sex") {
    if (auto s = labels::Parse<v1::Sex>(token)) {
      return labels::LabelZh(*s);
    }
  } else if (column == "residence") {
    if (auto r = labels::Parse<v1::Residence>(token)) {
      return labels::LabelZh(*r);
    }
  } else if (column == "direct" || column == "children_mismatch") {
    return token == "true" ? "是" : token == "false" ? "否" : token;
  }
  return token;
}

}  // namespace

absl::StatusOr<std::vector<views::CompendiumSheet>> ExportCompendium(const v1::Catalog& catalog,
                                                                     const std::string& csv) {
  auto records = submit::ParseCsv(csv);
  if (!records.ok()) {
    return records.status();
  }
  if (records->empty()) {
    return absl::InvalidArgumentError("导出内容为空 / the export is empty");
  }
  const std::vector<std::string>& header = records->front().fields;
  std::vector<int> index;
  for (const Column& c : kColumns) {
    int at = -1;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == c.csv) {
        at = static_cast<int>(i);
      }
    }
    if (at < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("导出缺少列 / the export lacks column ", c.csv));
    }
    index.push_back(at);
  }
  std::map<std::string, std::string> domain_of;
  for (const v1::Indicator& ind : catalog.indicators()) {
    domain_of[ind.id()] = ind.domain_id();
  }
  std::vector<views::CompendiumSheet> sheets;
  views::CompendiumSheet about;
  about.name = "说明";
  about.title = absl::StrCat(catalog.plan_title_zh(), " 汇总数据（统计资料）");
  about.notes = {
      "每个领域一张工作表；数值、分子、分母为汇总后的数字。",
      "直报：该区域直接报送的数；否则为下级区域汇总。参与汇总区域数、缺报区域说明汇总覆盖范围。",
      "与下级不符：直报数与下级汇总值不一致（数据质量提示）。"};
  sheets.push_back(std::move(about));
  std::map<std::string, size_t> sheet_of;
  for (const v1::Domain& d : catalog.domains()) {
    views::CompendiumSheet s;
    s.name = d.name_zh().empty() ? d.id() : d.name_zh();
    if (s.name.size() > 90) {
      s.name = d.id();
    }
    s.title = absl::StrCat(d.number() > 0 ? absl::StrCat(d.number(), "、") : "", d.name_zh());
    views::CompendiumTable t;
    t.caption = "汇总数据";
    for (const Column& c : kColumns) {
      t.header.push_back(c.zh);
    }
    s.tables.push_back(std::move(t));
    sheet_of[d.id()] = sheets.size();
    sheets.push_back(std::move(s));
  }
  for (size_t r = 1; r < records->size(); ++r) {
    const submit::CsvRecord& rec = (*records)[r];
    if (rec.fields.size() != header.size()) {
      return absl::InvalidArgumentError(absl::StrCat("导出第", rec.line,
                                                     "行列数不对 / export line ", rec.line,
                                                     " has the wrong number of fields"));
    }
    std::vector<views::CompendiumCell> row;
    for (size_t c = 0; c < std::size(kColumns); ++c) {
      const std::string& field = rec.fields[index[c]];
      views::CompendiumCell cell;
      double v = 0;
      if (field.empty()) {
      } else if (kColumns[c].number && absl::SimpleAtod(field, &v)) {
        cell.kind = views::CompendiumCell::kNumber;
        cell.number = v;
      } else {
        cell.kind = views::CompendiumCell::kText;
        cell.text = Label(kColumns[c].csv, Unescaped(field));
      }
      row.push_back(std::move(cell));
    }
    const std::string& id = rec.fields[index[0]];
    auto it = sheet_of.find(domain_of[Unescaped(id)]);
    if (it == sheet_of.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("导出中的指标 ", id, " 不在目录中 / indicator not in the catalog"));
    }
    sheets[it->second].tables.front().rows.push_back(std::move(row));
  }
  return sheets;
}

}  // namespace halfsky
