#include "common/submission_file/table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/text/utf8.h"
#include "common/xlsx/reader.h"

namespace halfsky::submit {

namespace v1 = ::halfsky::v1;

namespace {

enum class Col {
  kIndicator,
  kArea,
  kYear,
  kSex,
  kResidence,
  kNumerator,
  kDenominator,
  kValue,
  kSource,
  kNote,
  kNarrative,
  kSelfAssessment,
  kEvidence,
  kUnit,
  kPublished,
  kChangeReason,
  // Informational columns of the report form: recognised, ignored.
  kInformational,
  // 填报内容: informational, and it makes the table a form.
  kFormContent
};

const std::map<std::string, Col>& HeaderNames() {
  static const auto* m = new std::map<std::string, Col>{
      {"指标代码", Col::kIndicator},
      {"indicator_id", Col::kIndicator},
      {"indicator", Col::kIndicator},
      {"区域代码", Col::kArea},
      {"area_code", Col::kArea},
      {"area", Col::kArea},
      {"年份", Col::kYear},
      {"year", Col::kYear},
      {"性别", Col::kSex},
      {"sex", Col::kSex},
      {"城乡", Col::kResidence},
      {"residence", Col::kResidence},
      {"分子", Col::kNumerator},
      {"numerator", Col::kNumerator},
      {"分母", Col::kDenominator},
      {"denominator", Col::kDenominator},
      {"数值", Col::kValue},
      {"value", Col::kValue},
      {"数据来源", Col::kSource},
      {"source", Col::kSource},
      {"备注", Col::kNote},
      {"note", Col::kNote},
      {"工作进展", Col::kNarrative},
      {"narrative", Col::kNarrative},
      {"自评", Col::kSelfAssessment},
      {"self_assessment", Col::kSelfAssessment},
      {"佐证材料", Col::kEvidence},
      {"evidence", Col::kEvidence},
      {"填报单位", Col::kUnit},
      {"unit_code", Col::kUnit},
      {"公布数", Col::kPublished},
      {"published", Col::kPublished},
      {"修改原因", Col::kChangeReason},
      {"change_reason", Col::kChangeReason},
      {"指标名称", Col::kInformational},
      {"区域名称", Col::kInformational},
      {"计量单位", Col::kInformational},
      {"填报内容", Col::kFormContent},
      {"上年分子", Col::kInformational},
      {"上年分母", Col::kInformational},
      {"上年数值", Col::kInformational},
      {"上年公布数", Col::kInformational},
      {"指标解释", Col::kInformational},
  };
  return *m;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "12", "-3.5", ".5", "1e6": one number, no separators.
bool IsPlainNumber(absl::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    ++i;
  }
  size_t digits = 0;
  while (i < s.size() && IsDigit(s[i])) {
    ++i;
    ++digits;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) {
      ++i;
      ++digits;
    }
  }
  if (digits == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
      ++i;
    }
    size_t exp_digits = 0;
    while (i < s.size() && IsDigit(s[i])) {
      ++i;
      ++exp_digits;
    }
    if (exp_digits == 0) {
      return false;
    }
  }
  return i == s.size();
}

// "12,345" or "-1,234,567.5": digits grouped by three with commas.
bool IsGroupedNumber(absl::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    ++i;
  }
  size_t lead = 0;
  while (i < s.size() && IsDigit(s[i])) {
    ++i;
    ++lead;
  }
  if (lead < 1 || lead > 3 || i >= s.size() || s[i] != ',') {
    return false;
  }
  while (i < s.size() && s[i] == ',') {
    ++i;
    for (int k = 0; k < 3; ++k, ++i) {
      if (i >= s.size() || !IsDigit(s[i])) {
        return false;
      }
    }
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t frac = 0;
    while (i < s.size() && IsDigit(s[i])) {
      ++i;
      ++frac;
    }
    if (frac == 0) {
      return false;
    }
  }
  return i == s.size();
}

// Digits before the decimal point of a plain number ("12345.6" → 5).
size_t IntegerDigits(absl::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if (c == '.' || c == 'e' || c == 'E') {
      break;
    }
    n += IsDigit(c) ? 1 : 0;
  }
  return n;
}

// How a numeric column writes its numbers: thousands separators are taken
// only when the whole column uses them consistently (every cell with a
// comma is grouped by three, and no cell of 4 or more integer digits goes
// without them); otherwise a comma in a number is refused as ambiguous
// ("1,5" may be a decimal comma, "1,234" may be 1.234).
struct NumberColumn {
  bool grouped = false;
};

// Parses one number cell. "" on success, else why not (Chinese / English).
std::string ParseNumber(absl::string_view s, const NumberColumn& column, double* out) {
  s = absl::StripAsciiWhitespace(s);
  std::string t(s);
  if (t.find(',') != std::string::npos) {
    if (!IsGroupedNumber(t)) {
      return "数字中的逗号有歧义（小数点请用“.”，千位分隔符须每三位一个） / ambiguous comma in a "
             "number (use '.' for decimals; thousands separators every three digits)";
    }
    if (!column.grouped) {
      return "本列千位分隔符用法不一致（有的数字用、有的不用），无法确定数值 / thousands "
             "separators are used inconsistently in this column";
    }
    t.erase(std::remove(t.begin(), t.end(), ','), t.end());
  } else if (!IsPlainNumber(t)) {
    return "不是数字 / not a number";
  }
  if (!absl::SimpleAtod(t, out) || !std::isfinite(*out)) {
    return "不是有限的数字 / not a finite number";
  }
  return "";
}

// The first control character of a cell that no column may hold (C0 other
// than tab and newline, DEL, C1), as "U+0000"; "" when none.
std::string ForbiddenControl(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const int32_t cp = NextCodePoint(s, &i);
    if (((cp >= 0 && cp < 0x20) && cp != '\t' && cp != '\n') || (cp >= 0x7F && cp <= 0x9F)) {
      return absl::StrFormat("U+%04X", cp);
    }
  }
  return "";
}

}  // namespace

namespace {

constexpr char kNoCachedValue[] =
    "公式没有缓存值（请在Excel中打开并保存，或填入数值） / the formula has no cached value "
    "(open and save the file in Excel, or type the number)";

// A cell of a number column: a spreadsheet's number taken exactly, text by
// ParseNumber's strict rules. "" on success, else why not.
std::string ParseNumberCell(const TableCell& cell, const NumberColumn& column, double* out) {
  switch (cell.kind) {
    case TableCell::Kind::kNumber:
      *out = cell.number;
      return std::isfinite(*out) ? "" : "不是有限的数字 / not a finite number";
    case TableCell::Kind::kBool:
      return absl::StrCat("是逻辑值", cell.text, "，不是数字 / is the boolean ", cell.text,
                          ", not a number");
    case TableCell::Kind::kError:
      return absl::StrCat("是错误值", cell.text, "（公式出错？），不是数字 / is the error value ",
                          cell.text, " (a failed formula?), not a number");
    case TableCell::Kind::kNoValue:
      return kNoCachedValue;
    case TableCell::Kind::kText:
      break;
  }
  return ParseNumber(cell.text, column, out);
}

const TableCell& EmptyCell() {
  static const auto* empty = new TableCell();
  return *empty;
}

}  // namespace

TableCell TableCell::Text(std::string s) {
  TableCell c;
  c.kind = Kind::kText;
  c.text = std::move(s);
  return c;
}

TableCell TableCell::Number(double x) {
  TableCell c;
  c.kind = Kind::kNumber;
  c.number = x;
  c.text = ShortestDecimal(x);
  return c;
}

std::string ShortestDecimal(double x) {
  if (x == 0) {
    return "0";
  }
  if (std::isfinite(x) && std::trunc(x) == x && std::fabs(x) < 1e15) {
    return absl::StrFormat("%.0f", x);
  }
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), x);
  return std::string(buf, r.ptr);
}

bool IsHeaderRow(const std::vector<std::string>& cells) {
  bool indicator = false, area = false, year = false;
  for (const std::string& c : cells) {
    auto it = HeaderNames().find(absl::AsciiStrToLower(absl::StripAsciiWhitespace(c)));
    if (it == HeaderNames().end()) {
      continue;
    }
    indicator = indicator || it->second == Col::kIndicator;
    area = area || it->second == Col::kArea;
    year = year || it->second == Col::kYear;
  }
  return indicator && area && year;
}

TableParseResult ParseSubmissionTable(const Table& table) {
  TableParseResult out;
  const bool csv = table.sheet.empty();
  const auto& header = table.header;
  const size_t width = header.size();
  // The header cell of `column` as written ("" when none).
  auto header_name = [&](int column) -> std::string {
    return column >= 0 && column < static_cast<int>(width)
               ? std::string(absl::StripAsciiWhitespace(header[static_cast<size_t>(column)]))
               : "";
  };
  // CSV: "第3行第4列“数值” / line 3, column 4 (数值): "; a sheet:
  // "表式!D7 (数值)："; the column's header as written. column < 0: the
  // row ("第3行 / line 3: ", "表式 第7行 / sheet 表式, row 7: ").
  auto where = [&](int line, int column) {
    const std::string name = header_name(column);
    if (!csv) {
      if (column < 0) {
        return absl::StrCat(table.sheet, " 第", line, "行 / sheet ", table.sheet, ", row ", line,
                            "：");
      }
      return absl::StrCat(xlsx::CellLabel(table.sheet, line, column + 1),
                          name.empty() ? "" : absl::StrCat(" (", name, ")"), "：");
    }
    if (column < 0) {
      return absl::StrCat("第", line, "行 / line ", line, ": ");
    }
    return name.empty() ? absl::StrCat("第", line, "行第", column + 1, "列 / line ", line,
                                       ", column ", column + 1, ": ")
                        : absl::StrCat("第", line, "行第", column + 1, "列“", name, "” / line ",
                                       line, ", column ", column + 1, " (", name, "): ");
  };
  std::map<Col, int> cols;
  std::vector<bool> informational(width, false);
  for (size_t i = 0; i < width; ++i) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]));
    if (name.empty()) {
      continue;
    }
    auto it = HeaderNames().find(name);
    if (it == HeaderNames().end()) {
      out.errors.push_back(
          csv ? absl::StrCat("第", table.header_line, "行第", i + 1, "列：未知列“", name,
                             "” / line ", table.header_line, ", column ", i + 1,
                             ": unknown column '", name, "'")
              : absl::StrCat(xlsx::CellLabel(table.sheet, table.header_line, i + 1), "：未知列“",
                             name, "” / unknown column '", name, "'"));
      continue;
    }
    if (it->second == Col::kInformational || it->second == Col::kFormContent) {
      informational[i] = true;
      out.form = out.form || it->second == Col::kFormContent;
      continue;
    }
    if (!cols.emplace(it->second, static_cast<int>(i)).second) {
      out.errors.push_back(
          csv ? absl::StrCat("第", table.header_line, "行第", i + 1, "列：列“", name,
                             "”重复 / line ", table.header_line, ", column ", i + 1, ": column '",
                             name, "' appears twice")
              : absl::StrCat(xlsx::CellLabel(table.sheet, table.header_line, i + 1), "：列“", name,
                             "”重复 / column '", name, "' appears twice"));
    }
  }
  for (auto [col, zh, en] :
       {std::tuple{Col::kIndicator, "指标代码", "indicator_id"},
        std::tuple{Col::kArea, "区域代码", "area_code"}, std::tuple{Col::kYear, "年份", "year"}}) {
    if (!cols.count(col)) {
      out.errors.push_back(absl::StrCat(csv ? "" : absl::StrCat(table.sheet, "："), "缺少列“", zh,
                                        "” / missing column '", en, "'"));
    }
  }
  if (!out.errors.empty()) {
    return out;
  }
  auto column_of = [&](Col c) {
    auto it = cols.find(c);
    return it == cols.end() ? -1 : it->second;
  };
  auto cell_at = [](const Table::Row& row, int column) -> const TableCell& {
    return column >= 0 && column < static_cast<int>(row.cells.size())
               ? row.cells[static_cast<size_t>(column)]
               : EmptyCell();
  };
  // Numeric columns: do their text cells use thousands separators,
  // consistently? (A spreadsheet's number cells have none to read.)
  std::map<Col, NumberColumn> number_columns;
  for (Col c : {Col::kNumerator, Col::kDenominator, Col::kValue, Col::kPublished}) {
    const int index = column_of(c);
    if (index < 0) {
      continue;
    }
    bool any_grouped = false, all_grouped = true;
    for (const Table::Row& row : table.rows) {
      const TableCell& tc = cell_at(row, index);
      if (tc.kind != TableCell::Kind::kText) {
        continue;
      }
      const absl::string_view cell = absl::StripAsciiWhitespace(tc.text);
      if (cell.find(',') != absl::string_view::npos) {
        any_grouped = true;
        all_grouped = all_grouped && IsGroupedNumber(cell);
      } else if (IsPlainNumber(cell) && IntegerDigits(cell) >= 4) {
        all_grouped = false;
      }
    }
    number_columns[c].grouped = any_grouped && all_grouped;
  }
  for (const Table::Row& rec : table.rows) {
    const size_t errors_before = out.errors.size();
    // Ragged rows: every row has exactly the header's cells (a dropped or
    // shifted cell would move a figure into the wrong column).
    if (table.fixed_width && rec.cells.size() != width) {
      if (rec.cells.size() > width) {
        out.errors.push_back(absl::StrCat(
            where(rec.line, static_cast<int>(width)), "本行有", rec.cells.size(),
            "个单元格，表头只有", width, "列（未加引号的逗号？千位分隔符须加引号） / the row has ",
            rec.cells.size(), " cells but the header has ", width,
            " columns (an unquoted comma? quote numbers with thousands separators)"));
      } else {
        out.errors.push_back(absl::StrCat(where(rec.line, static_cast<int>(rec.cells.size())),
                                          "本行只有", rec.cells.size(), "个单元格，表头有", width,
                                          "列 / the row has only ", rec.cells.size(),
                                          " cells but the header has ", width, " columns"));
      }
      continue;
    }
    bool any = false;
    for (size_t i = 0; i < rec.cells.size(); ++i) {
      const TableCell& c = rec.cells[i];
      if (i < width && informational[i]) {
        continue;
      }
      if (c.kind == TableCell::Kind::kNoValue) {
        out.errors.push_back(where(rec.line, static_cast<int>(i)) + kNoCachedValue);
        continue;
      }
      if (const std::string cc = ForbiddenControl(c.text); !cc.empty()) {
        out.errors.push_back(absl::StrCat(where(rec.line, static_cast<int>(i)), "含有控制字符", cc,
                                          "（只允许制表符和换行） / contains control character ",
                                          cc, " (only tab and newline are allowed)"));
        continue;
      }
      if (c.kind == TableCell::Kind::kText && absl::StripAsciiWhitespace(c.text).empty()) {
        continue;
      }
      if (i >= width || header_name(static_cast<int>(i)).empty()) {
        if (!table.fixed_width) {
          out.errors.push_back(absl::StrCat(where(rec.line, static_cast<int>(i)),
                                            "此列没有表头，内容无法归属 / this cell is under no "
                                            "column header"));
        }
        continue;
      }
      any = true;
    }
    if (!any || out.errors.size() != errors_before) {
      continue;  // a blank row (informational cells only), or refused
    }
    auto get = [&](Col c) -> std::string {
      return std::string(absl::StripAsciiWhitespace(cell_at(rec, column_of(c)).text));
    };
    auto at = [&](Col c) { return where(rec.line, column_of(c)); };
    const std::string num = get(Col::kNumerator), den = get(Col::kDenominator),
                      val = get(Col::kValue), nar = get(Col::kNarrative),
                      sa = absl::AsciiStrToLower(get(Col::kSelfAssessment)),
                      ev = get(Col::kEvidence), pub = get(Col::kPublished);
    const bool fraction = !num.empty() || !den.empty();
    const int kinds = (fraction ? 1 : 0) + (!val.empty() ? 1 : 0) + (!pub.empty() ? 1 : 0) +
                      (!nar.empty() || !sa.empty() || !ev.empty() ? 1 : 0);
    if (kinds == 0 && out.form) {
      // A row of the form left blank: nothing to submit.
      ++out.blank_form_rows;
      continue;
    }
    // Key and text cells: an error value is never a key or a text.
    for (Col c : {Col::kIndicator, Col::kArea, Col::kYear, Col::kSex, Col::kResidence, Col::kSource,
                  Col::kNote, Col::kNarrative, Col::kSelfAssessment, Col::kEvidence, Col::kUnit,
                  Col::kChangeReason}) {
      const TableCell& tc = cell_at(rec, column_of(c));
      if (tc.kind == TableCell::Kind::kError) {
        out.errors.push_back(at(c) + absl::StrCat("是错误值", tc.text,
                                                  "（公式出错？） / is the error value ", tc.text,
                                                  " (a failed formula?)"));
      }
    }
    TableValue cv;
    cv.sheet = table.sheet;
    cv.line = rec.line;
    v1::DataValue& v = cv.value;
    v.mutable_key()->set_indicator_id(get(Col::kIndicator));
    v.mutable_key()->set_area_code(get(Col::kArea));
    int year = 0;
    if (!absl::SimpleAtoi(get(Col::kYear), &year)) {
      out.errors.push_back(at(Col::kYear) + "年份不是整数 / year is not a whole number");
    }
    v.mutable_key()->set_year(year);
    const std::string sex = absl::AsciiStrToLower(get(Col::kSex));
    if (sex.empty() || sex == "合计" || sex == "total") {
      v.mutable_key()->set_sex(v1::SEX_TOTAL);
    } else if (sex == "女" || sex == "female") {
      v.mutable_key()->set_sex(v1::SEX_FEMALE);
    } else if (sex == "男" || sex == "male") {
      v.mutable_key()->set_sex(v1::SEX_MALE);
    } else {
      out.errors.push_back(at(Col::kSex) +
                           "性别须为 合计/女/男 / sex must be total, female or male");
    }
    const std::string res = absl::AsciiStrToLower(get(Col::kResidence));
    if (res.empty() || res == "全部" || res == "all") {
      v.mutable_key()->set_residence(v1::RESIDENCE_ALL);
    } else if (res == "城镇" || res == "urban") {
      v.mutable_key()->set_residence(v1::RESIDENCE_URBAN);
    } else if (res == "农村" || res == "rural") {
      v.mutable_key()->set_residence(v1::RESIDENCE_RURAL);
    } else {
      out.errors.push_back(at(Col::kResidence) +
                           "城乡须为 全部/城镇/农村 / residence must be all, urban or rural");
    }
    auto number = [&](Col c, const char* what, double* x) {
      if (const std::string e = ParseNumberCell(cell_at(rec, column_of(c)), number_columns[c], x);
          !e.empty()) {
        out.errors.push_back(at(c) + what + e);
      }
    };
    if (kinds == 2 && fraction && !pub.empty()) {
      // A rate is given either by its counts or as published, never both:
      // which one would be the figure?
      out.errors.push_back(at(Col::kPublished) +
                           "分子分母与公布数只能填一种 / give either numerator+denominator or "
                           "the published figure, not both");
    } else if (kinds != 1) {
      out.errors.push_back(where(rec.line, -1) +
                           (kinds == 0 ? "没有数据（分子分母、公布数、数值或工作进展） / no "
                                         "payload (numerator+denominator, published, value or "
                                         "narrative)"
                                       : "只能填一种数据：分子分母、公布数、数值或工作进展 / "
                                         "give exactly one of numerator+denominator, published, "
                                         "value, narrative"));
    } else if (fraction) {
      double n = 0, d = 0;
      number(Col::kNumerator, "分子", &n);
      number(Col::kDenominator, "分母", &d);
      v.mutable_fraction()->set_numerator(n);
      v.mutable_fraction()->set_denominator(d);
    } else if (!val.empty()) {
      double x = 0;
      number(Col::kValue, "数值", &x);
      v.set_value(x);
    } else if (!pub.empty()) {
      double x = 0;
      number(Col::kPublished, "公布数", &x);
      v.mutable_published()->set_value(x);
    } else {
      v1::Narrative* n = v.mutable_narrative();
      n->set_text(nar);
      if (sa == "达标" || sa == "met") {
        n->set_self_assessment(v1::SELF_ASSESSMENT_MET);
      } else if (sa == "基本达标" || sa == "mostly_met") {
        n->set_self_assessment(v1::SELF_ASSESSMENT_MOSTLY_MET);
      } else if (sa == "未达标" || sa == "not_met") {
        n->set_self_assessment(v1::SELF_ASSESSMENT_NOT_MET);
      } else if (sa == "无法评估" || sa == "not_assessable") {
        n->set_self_assessment(v1::SELF_ASSESSMENT_NOT_ASSESSABLE);
      } else if (!sa.empty()) {
        out.errors.push_back(at(Col::kSelfAssessment) +
                             "自评须为 达标/基本达标/未达标/无法评估 / self_assessment must be "
                             "met, mostly_met, not_met or not_assessable");
      }
      for (absl::string_view part : absl::StrSplit(ev, absl::ByAnyChar(";"))) {
        // Also split on the full-width semicolon.
        for (absl::string_view p : absl::StrSplit(part, "；")) {
          p = absl::StripAsciiWhitespace(p);
          if (!p.empty()) {
            n->add_evidence_refs(std::string(p));
          }
        }
      }
    }
    // Whose narrative (DataKey.unit_code); a unit's own token may leave it
    // empty, and the server refuses it on a figure.
    v.mutable_key()->set_unit_code(get(Col::kUnit));
    v.set_source(get(Col::kSource));
    v.set_note(get(Col::kNote));
    // Free text, optional; the server bounds it (DataValue.change_reason).
    v.set_change_reason(get(Col::kChangeReason));
    if (out.errors.size() == errors_before) {
      out.values.push_back(std::move(cv));
    }
  }
  return out;
}

}  // namespace halfsky::submit
