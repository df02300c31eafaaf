#include "services/halfskyctl/form/form_model.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/labels/labels.h"
#include "common/text/csv.h"
#include "services/halfskyctl/catalog/catalog_text.h"

namespace halfsky::form {

namespace v1 = ::halfsky::v1;

namespace {

constexpr char kTablePrefix[] = "妇规监测-";

bool HasDisaggregation(const v1::Indicator& ind, v1::Disaggregation d) {
  return std::find(ind.required_disaggregations().begin(), ind.required_disaggregations().end(),
                   d) != ind.required_disaggregations().end();
}

Wanted WantedOf(const v1::Indicator& ind) {
  switch (ind.kind()) {
    case v1::INDICATOR_KIND_RATE:
    case v1::INDICATOR_KIND_PROPORTION:
      return Wanted::kFraction;
    case v1::INDICATOR_KIND_QUALITATIVE:
      return Wanted::kNarrative;
    default:
      return Wanted::kValue;
  }
}

const char* WantedZh(Wanted w) {
  switch (w) {
    case Wanted::kFraction:
      return "分子/分母（或公布数）";
    case Wanted::kNarrative:
      return "工作进展/自评";
    default:
      return "数值";
  }
}

using KeyTuple = std::tuple<std::string, std::string, int, int>;

KeyTuple KeyOf(const v1::DataKey& k) {
  const int sex = k.sex() == v1::SEX_UNSPECIFIED ? v1::SEX_TOTAL : k.sex();
  const int res = k.residence() == v1::RESIDENCE_UNSPECIFIED ? v1::RESIDENCE_ALL : k.residence();
  return {k.indicator_id(), k.area_code(), sex, res};
}

struct Due {
  int year_offset = 0;
  int month = 12;
  int day = 31;
  bool operator<(const Due& o) const {
    return std::tie(year_offset, month, day) < std::tie(o.year_offset, o.month, o.day);
  }
  bool operator!=(const Due& o) const { return o < *this || *this < o; }
};

Due DueOf(const v1::Catalog& c, const v1::Indicator& ind) {
  Due d;
  const v1::DueDate& cal = c.calendar().default_due_date();
  if (cal.month() != 0) {
    d = {cal.year_offset(), cal.month(), cal.day() != 0 ? cal.day() : 1};
  }
  if (ind.due_date().month() != 0) {
    d.year_offset = ind.due_date().year_offset();
    d.month = ind.due_date().month();
  }
  if (ind.due_date().day() != 0) {
    d.day = ind.due_date().day();
  }
  return d;
}

std::string DueZh(int year, const Due& d) {
  return absl::StrCat(year + d.year_offset, "年", d.month, "月", d.day, "日");
}

Cell Text(std::string s) {
  Cell c;
  c.kind = s.empty() ? Cell::kEmpty : Cell::kText;
  c.text = std::move(s);
  return c;
}

Cell Number(double v) {
  Cell c;
  c.kind = Cell::kNumber;
  c.number = v;
  return c;
}

Cell Fill(std::optional<double> at_least = std::nullopt) {
  Cell c;
  c.fillable = true;
  c.at_least = at_least;
  return c;
}

}  // namespace

std::vector<std::string> FormHeader(bool with_narratives) {
  std::vector<std::string> h = {"指标代码", "指标名称", "区域代码", "区域名称", "年份",
                                "性别",     "城乡",     "计量单位", "填报内容", "分子",
                                "分母",     "数值",     "公布数"};
  if (with_narratives) {
    h.insert(h.end(), {"工作进展", "自评", "佐证材料", "填报单位"});
  }
  h.insert(h.end(), {"数据来源", "备注", "上年分子", "上年分母", "上年数值", "上年公布数"});
  return h;
}

absl::StatusOr<Form> BuildForm(const CatalogIndex& index, const std::string& unit_code, int year,
                               const std::vector<v1::DataValue>& previous,
                               const std::string& authority_zh) {
  const v1::Catalog& c = index.catalog();
  const v1::MemberUnit* unit = index.FindMemberUnit(unit_code);
  if (unit == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("目录中没有成员单位 ", unit_code, " / no such member unit"));
  }
  Form form;
  form.unit_code = unit_code;
  form.unit_name_zh = unit->name_zh();
  form.year = year;
  form.table_number = absl::StrCat(kTablePrefix, unit_code);
  const v1::Area& root = index.RootArea();
  form.authority_zh = authority_zh.empty()
                          ? absl::StrCat(root.name_zh(), "妇女儿童工作委员会办公室")
                          : authority_zh;
  form.title_zh = absl::StrCat(c.plan_title_zh().empty() ? "妇女发展规划" : c.plan_title_zh(),
                               "监测统计报表（", year, "年）");
  form.indicators = index.IndicatorsOfUnit(unit_code);
  if (form.indicators.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("成员单位 ", unit_code, " 不负责任何指标 / is responsible for no indicator"));
  }
  std::map<KeyTuple, const v1::DataValue*> last;
  for (const v1::DataValue& v : previous) {
    if (v.key().year() == year - 1 && v.payload_case() != v1::DataValue::kNarrative) {
      last[KeyOf(v.key())] = &v;
    }
  }
  std::vector<const v1::Area*> towns;
  for (const v1::Area* a : index.Children(root.code())) {
    if (a->level() == v1::AREA_LEVEL_TOWN || a->level() == v1::AREA_LEVEL_SUBDISTRICT) {
      towns.push_back(a);
    }
  }
  bool narratives = false;
  std::optional<Due> earliest;
  bool differ = false;
  for (const v1::Indicator* ind : form.indicators) {
    const Due d = DueOf(c, *ind);
    if (earliest && d != *earliest) {
      differ = true;
    }
    if (!earliest || d < *earliest) {
      earliest = d;
    }
    const Wanted wanted = WantedOf(*ind);
    std::vector<const v1::Area*> areas = {&root};
    if (wanted != Wanted::kNarrative && HasDisaggregation(*ind, v1::DISAGGREGATION_AREA)) {
      areas.insert(areas.end(), towns.begin(), towns.end());
    }
    std::vector<std::pair<v1::Sex, v1::Residence>> parts = {{v1::SEX_TOTAL, v1::RESIDENCE_ALL}};
    if (wanted != Wanted::kNarrative) {
      if (HasDisaggregation(*ind, v1::DISAGGREGATION_SEX)) {
        parts.push_back({v1::SEX_FEMALE, v1::RESIDENCE_ALL});
        parts.push_back({v1::SEX_MALE, v1::RESIDENCE_ALL});
      }
      if (HasDisaggregation(*ind, v1::DISAGGREGATION_RESIDENCE)) {
        parts.push_back({v1::SEX_TOTAL, v1::RESIDENCE_URBAN});
        parts.push_back({v1::SEX_TOTAL, v1::RESIDENCE_RURAL});
      }
    } else {
      narratives = true;
    }
    for (const v1::Area* area : areas) {
      for (const auto& [sex, residence] : parts) {
        FormRow row;
        row.indicator = ind;
        row.area = area;
        row.year = year;
        row.sex = sex;
        row.residence = residence;
        row.wanted = wanted;
        auto it = last.find(KeyTuple{ind->id(), area->code(), sex, residence});
        if (it != last.end()) {
          row.previous = *it->second;
        }
        form.rows.push_back(std::move(row));
      }
    }
  }
  form.due_zh = DueZh(year, *earliest);
  if (differ) {
    absl::StrAppend(&form.due_zh, "（部分指标另有规定，见“指标解释”表）");
  }
  form.header = FormHeader(narratives);
  return form;
}

std::vector<Cell> RowCells(const Form& form, const FormRow& row) {
  const v1::Indicator& ind = *row.indicator;
  // A VALUE may be negative when its plausible range says so.
  const double value_min =
      ind.value_range().has_min() && ind.value_range().min() < 0 ? ind.value_range().min() : 0;
  const v1::DataValue* prev = row.previous ? &*row.previous : nullptr;
  std::vector<Cell> cells;
  for (const std::string& col : form.header) {
    if (col == "指标代码") {
      cells.push_back(Text(ind.id()));
    } else if (col == "指标名称") {
      cells.push_back(Text(ind.name_zh()));
    } else if (col == "区域代码") {
      cells.push_back(Text(row.area->code()));
    } else if (col == "区域名称") {
      cells.push_back(Text(row.area->name_zh()));
    } else if (col == "年份") {
      cells.push_back(Number(row.year));
    } else if (col == "性别") {
      cells.push_back(Text(labels::LabelZh(row.sex)));
    } else if (col == "城乡") {
      cells.push_back(Text(labels::LabelZh(row.residence)));
    } else if (col == "计量单位") {
      cells.push_back(Text(ind.unit()));
    } else if (col == "填报内容") {
      cells.push_back(Text(WantedZh(row.wanted)));
    } else if (col == "分子" || col == "分母" || col == "公布数") {
      cells.push_back(row.wanted == Wanted::kFraction ? Fill(0.0) : Cell{});
    } else if (col == "数值") {
      cells.push_back(row.wanted == Wanted::kValue ? Fill(value_min) : Cell{});
    } else if (col == "工作进展" || col == "自评" || col == "佐证材料") {
      cells.push_back(row.wanted == Wanted::kNarrative ? Fill() : Cell{});
    } else if (col == "填报单位") {
      cells.push_back(row.wanted == Wanted::kNarrative ? Text(form.unit_code) : Cell{});
    } else if (col == "数据来源" || col == "备注") {
      cells.push_back(Fill());
    } else if (col == "上年分子") {
      cells.push_back(prev && prev->has_fraction() ? Number(prev->fraction().numerator()) : Cell{});
    } else if (col == "上年分母") {
      cells.push_back(prev && prev->has_fraction() ? Number(prev->fraction().denominator())
                                                   : Cell{});
    } else if (col == "上年数值") {
      cells.push_back(prev && prev->payload_case() == v1::DataValue::kValue ? Number(prev->value())
                                                                            : Cell{});
    } else if (col == "上年公布数") {
      cells.push_back(prev && prev->has_published() ? Number(prev->published().value()) : Cell{});
    } else {
      cells.push_back(Cell{});
    }
  }
  return cells;
}

std::vector<std::pair<std::string, std::string>> HeaderBlock(const Form& form) {
  return {{"表号", form.table_number},
          {"制表机关", form.authority_zh},
          {"填报单位", absl::StrCat(form.unit_name_zh, "（", form.unit_code, "）")},
          {"报告期", absl::StrCat(form.year, "年")},
          {"报送截止日期", form.due_zh}};
}

std::vector<std::string> ExplanationHeader() {
  return {"指标代码", "指标名称", "计量单位", "指标解释", "计算方法",     "分子",    "分母",
          "说明",     "数据来源", "责任单位", "牵头单位", "报送截止日期", "解释出处"};
}

std::vector<std::vector<std::string>> ExplanationRows(const CatalogIndex& index, const Form& form) {
  std::vector<std::vector<std::string>> rows;
  // ExplanationLines' labels are "中文 english"; the sheet's columns are
  // its Chinese words.
  static const std::vector<std::pair<std::string, std::string>> kColumnOfLine = {
      {"指标含义", "指标解释"}, {"计算方法", "计算方法"}, {"计量单位", "计量单位"},
      {"分子", "分子"},         {"分母", "分母"},         {"说明", "说明"},
      {"数据来源", "数据来源"}, {"责任单位", "责任单位"}, {"牵头单位", "牵头单位"},
      {"解释出处", "解释出处"}};
  const std::vector<std::string> header = ExplanationHeader();
  for (const v1::Indicator* ind : form.indicators) {
    std::map<std::string, std::string> cells = {
        {"指标代码", ind->id()},
        {"指标名称", ind->name_zh()},
        {"报送截止日期", DueZh(form.year, DueOf(index.catalog(), *ind))}};
    for (const auto& [label, text] : ExplanationLines(index, *ind)) {
      for (const auto& [prefix, column] : kColumnOfLine) {
        if (label.rfind(prefix, 0) == 0) {
          cells[column] = text;
        }
      }
    }
    std::vector<std::string> row;
    for (const std::string& h : header) {
      row.push_back(cells[h]);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string FormCsv(const Form& form) {
  std::string out = "\xEF\xBB\xBF";
  std::vector<std::string> fields;
  for (const std::string& h : form.header) {
    fields.push_back(CsvField(h));
  }
  absl::StrAppend(&out, absl::StrJoin(fields, ","), "\r\n");
  for (const FormRow& row : form.rows) {
    fields.clear();
    for (const Cell& c : RowCells(form, row)) {
      fields.push_back(c.kind == Cell::kText     ? CsvField(c.text)
                       : c.kind == Cell::kNumber ? FormatNumber(c.number)
                                                 : std::string());
    }
    absl::StrAppend(&out, absl::StrJoin(fields, ","), "\r\n");
  }
  return out;
}

std::string FormFileStem(const Form& form) {
  return absl::StrCat("报表-", form.unit_code, "-", form.year);
}

}  // namespace halfsky::form
