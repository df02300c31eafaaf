#include "services/halfskyctl/submit/csv.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/text/utf8.h"

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
  kChangeReason
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

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view content, char delimiter) {
  if (absl::StartsWith(content, "\xEF\xBB\xBF")) {
    content.remove_prefix(3);
  }
  if (!IsValidUtf8(content)) {
    return absl::InvalidArgumentError("文件不是有效的UTF-8 / file is not valid UTF-8");
  }
  std::vector<CsvRecord> records;
  CsvRecord rec;
  std::string field;
  int line = 1;
  rec.line = 1;
  size_t i = 0;
  bool field_started = false;
  auto end_record = [&] {
    rec.fields.push_back(std::move(field));
    field.clear();
    bool blank = true;
    for (const auto& f : rec.fields) {
      if (!absl::StripAsciiWhitespace(f).empty()) {
        blank = false;
      }
    }
    if (!blank) {
      records.push_back(std::move(rec));
    }
    rec = CsvRecord();
    field_started = false;
  };
  while (i < content.size()) {
    const char c = content[i];
    if (!field_started && field.empty() && c == '"') {
      // Quoted field.
      const int start_line = line;
      ++i;
      while (true) {
        if (i >= content.size()) {
          return absl::InvalidArgumentError(absl::StrCat("第", start_line, "行：引号未闭合 / line ",
                                                         start_line,
                                                         ": unterminated quoted field"));
        }
        if (content[i] == '"') {
          if (i + 1 < content.size() && content[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (content[i] == '\r') {
          // A line break inside a quoted field is kept as "\n", whatever
          // the file's line ending (CRLF, or a lone CR).
          ++i;
          if (i < content.size() && content[i] == '\n') {
            ++i;
          }
          ++line;
          field.push_back('\n');
          continue;
        }
        if (content[i] == '\n') {
          ++line;
        }
        field.push_back(content[i++]);
      }
      field_started = true;
      if (i < content.size() && content[i] != delimiter && content[i] != '\n' &&
          content[i] != '\r') {
        return absl::InvalidArgumentError(absl::StrCat("第", line, "行：引号后有多余字符 / line ",
                                                       line, ": text after a closing quote"));
      }
      continue;
    }
    if (c == delimiter) {
      rec.fields.push_back(std::move(field));
      field.clear();
      field_started = false;
      ++i;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < content.size() && content[i + 1] == '\n') {
        ++i;
      }
      ++i;
      end_record();
      ++line;
      rec.line = line;
    } else {
      field.push_back(c);
      field_started = true;
      ++i;
    }
  }
  if (field_started || !field.empty() || !rec.fields.empty()) {
    end_record();
  }
  return records;
}

CsvParseResult ParseSubmissionCsv(absl::string_view content, char delimiter) {
  CsvParseResult out;
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(content, delimiter);
  if (!records.ok()) {
    out.errors.push_back(std::string(records.status().message()));
    return out;
  }
  if (records->empty()) {
    out.errors.push_back("文件为空 / the file is empty");
    return out;
  }
  const CsvRecord& header = (*records)[0];
  std::map<Col, int> cols;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header.fields[i]));
    if (name.empty()) {
      continue;
    }
    auto it = HeaderNames().find(name);
    if (it == HeaderNames().end()) {
      out.errors.push_back(absl::StrCat("第", header.line, "行第", i + 1, "列：未知列“", name,
                                        "” / line ", header.line, ", column ", i + 1,
                                        ": unknown column '", name, "'"));
      continue;
    }
    if (!cols.emplace(it->second, static_cast<int>(i)).second) {
      out.errors.push_back(absl::StrCat("第", header.line, "行第", i + 1, "列：列“", name,
                                        "”重复 / line ", header.line, ", column ", i + 1,
                                        ": column '", name, "' appears twice"));
    }
  }
  for (auto [col, zh, en] :
       {std::tuple{Col::kIndicator, "指标代码", "indicator_id"},
        std::tuple{Col::kArea, "区域代码", "area_code"}, std::tuple{Col::kYear, "年份", "year"}}) {
    if (!cols.count(col)) {
      out.errors.push_back(absl::StrCat("缺少列“", zh, "” / missing column '", en, "'"));
    }
  }
  if (!out.errors.empty()) {
    return out;
  }
  const size_t width = header.fields.size();
  // "第3行第4列“数值” / line 3, column 4 (数值): "; the column's header as
  // written.
  auto where = [&](int line, int column) {
    if (column < 0) {
      return absl::StrCat("第", line, "行 / line ", line, ": ");
    }
    const std::string name(
        column < static_cast<int>(width)
            ? absl::StripAsciiWhitespace(header.fields[static_cast<size_t>(column)])
            : "");
    return name.empty() ? absl::StrCat("第", line, "行第", column + 1, "列 / line ", line,
                                       ", column ", column + 1, ": ")
                        : absl::StrCat("第", line, "行第", column + 1, "列“", name, "” / line ",
                                       line, ", column ", column + 1, " (", name, "): ");
  };
  auto column_of = [&](Col c) {
    auto it = cols.find(c);
    return it == cols.end() ? -1 : it->second;
  };
  // Numeric columns: do they use thousands separators, consistently?
  std::map<Col, NumberColumn> number_columns;
  for (Col c : {Col::kNumerator, Col::kDenominator, Col::kValue, Col::kPublished}) {
    const int index = column_of(c);
    if (index < 0) {
      continue;
    }
    bool any_grouped = false, all_grouped = true;
    for (size_t r = 1; r < records->size(); ++r) {
      const auto& fields = (*records)[r].fields;
      if (index >= static_cast<int>(fields.size())) {
        continue;
      }
      const absl::string_view cell = absl::StripAsciiWhitespace(fields[index]);
      if (cell.find(',') != absl::string_view::npos) {
        any_grouped = true;
        all_grouped = all_grouped && IsGroupedNumber(cell);
      } else if (IsPlainNumber(cell) && IntegerDigits(cell) >= 4) {
        all_grouped = false;
      }
    }
    number_columns[c].grouped = any_grouped && all_grouped;
  }
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& rec = (*records)[r];
    const size_t errors_before = out.errors.size();
    // Ragged rows: every row has exactly the header's cells (a dropped or
    // shifted cell would move a figure into the wrong column).
    if (rec.fields.size() != width) {
      if (rec.fields.size() > width) {
        out.errors.push_back(absl::StrCat(
            where(rec.line, static_cast<int>(width)), "本行有", rec.fields.size(),
            "个单元格，表头只有", width, "列（未加引号的逗号？千位分隔符须加引号） / the row has ",
            rec.fields.size(), " cells but the header has ", width,
            " columns (an unquoted comma? quote numbers with thousands separators)"));
      } else {
        out.errors.push_back(absl::StrCat(where(rec.line, static_cast<int>(rec.fields.size())),
                                          "本行只有", rec.fields.size(), "个单元格，表头有", width,
                                          "列 / the row has only ", rec.fields.size(),
                                          " cells but the header has ", width, " columns"));
      }
      continue;
    }
    for (size_t i = 0; i < rec.fields.size(); ++i) {
      if (const std::string c = ForbiddenControl(rec.fields[i]); !c.empty()) {
        out.errors.push_back(absl::StrCat(where(rec.line, static_cast<int>(i)), "含有控制字符", c,
                                          "（只允许制表符和换行） / contains control character ", c,
                                          " (only tab and newline are allowed)"));
      }
    }
    if (out.errors.size() != errors_before) {
      continue;
    }
    auto get = [&](Col c) -> std::string {
      const int index = column_of(c);
      if (index < 0) {
        return "";
      }
      return std::string(absl::StripAsciiWhitespace(rec.fields[index]));
    };
    auto at = [&](Col c) { return where(rec.line, column_of(c)); };
    CsvValue cv;
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
    const std::string num = get(Col::kNumerator), den = get(Col::kDenominator),
                      val = get(Col::kValue), nar = get(Col::kNarrative),
                      sa = absl::AsciiStrToLower(get(Col::kSelfAssessment)),
                      ev = get(Col::kEvidence), pub = get(Col::kPublished);
    const bool fraction = !num.empty() || !den.empty();
    const int kinds = (fraction ? 1 : 0) + (!val.empty() ? 1 : 0) + (!pub.empty() ? 1 : 0) +
                      (!nar.empty() || !sa.empty() || !ev.empty() ? 1 : 0);
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
    } else if (!num.empty() || !den.empty()) {
      double n = 0, d = 0;
      if (const std::string e = ParseNumber(num, number_columns[Col::kNumerator], &n); !e.empty()) {
        out.errors.push_back(at(Col::kNumerator) + "分子" + e);
      }
      if (const std::string e = ParseNumber(den, number_columns[Col::kDenominator], &d);
          !e.empty()) {
        out.errors.push_back(at(Col::kDenominator) + "分母" + e);
      }
      v.mutable_fraction()->set_numerator(n);
      v.mutable_fraction()->set_denominator(d);
    } else if (!val.empty()) {
      double x = 0;
      if (const std::string e = ParseNumber(val, number_columns[Col::kValue], &x); !e.empty()) {
        out.errors.push_back(at(Col::kValue) + "数值" + e);
      }
      v.set_value(x);
    } else if (!pub.empty()) {
      double x = 0;
      if (const std::string e = ParseNumber(pub, number_columns[Col::kPublished], &x); !e.empty()) {
        out.errors.push_back(at(Col::kPublished) + "公布数" + e);
      }
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
      std::string evidence = ev;
      for (absl::string_view part : absl::StrSplit(evidence, absl::ByAnyChar(";"))) {
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
  if (out.values.empty() && out.errors.empty()) {
    out.errors.push_back("文件没有数据行 / the file has no data rows");
  }
  return out;
}

}  // namespace halfsky::submit
