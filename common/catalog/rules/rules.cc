#include "common/catalog/rules/rules.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/labels/labels.h"

namespace halfsky::rules {

namespace v1 = ::halfsky::v1;

namespace {

v1::Sex NormSex(v1::Sex s) { return s == v1::SEX_UNSPECIFIED ? v1::SEX_TOTAL : s; }
v1::Residence NormRes(v1::Residence r) {
  return r == v1::RESIDENCE_UNSPECIFIED ? v1::RESIDENCE_ALL : r;
}
v1::RulePart NormPart(v1::RulePart p) {
  return p == v1::RULE_PART_UNSPECIFIED ? v1::RULE_PART_VALUE : p;
}

v1::RuleTerm Term(const std::string& indicator, v1::Sex sex, v1::Residence res, v1::RulePart part,
                  bool children_sum = false) {
  v1::RuleTerm t;
  t.set_indicator_id(indicator);
  t.set_sex(sex);
  t.set_residence(res);
  t.set_part(part);
  if (children_sum) {
    t.set_children_sum(true);
  }
  return t;
}

bool HasDisaggregation(const v1::Indicator& ind, v1::Disaggregation d) {
  return std::find(ind.required_disaggregations().begin(), ind.required_disaggregations().end(),
                   d) != ind.required_disaggregations().end();
}

bool SummableKind(v1::IndicatorKind k) {
  return k == v1::INDICATOR_KIND_COUNT || k == v1::INDICATOR_KIND_RATE ||
         k == v1::INDICATOR_KIND_PROPORTION;
}

// The parts a family compares: VALUE for COUNT, numerator and denominator
// for fractions.
std::vector<v1::RulePart> SummedParts(const v1::Indicator& ind) {
  if (ind.kind() == v1::INDICATOR_KIND_COUNT) {
    return {v1::RULE_PART_VALUE};
  }
  return {v1::RULE_PART_NUMERATOR, v1::RULE_PART_DENOMINATOR};
}

std::string PartSuffix(v1::RulePart part) {
  return part == v1::RULE_PART_VALUE ? "" : absl::StrCat(".", labels::Token(part));
}

std::string PartZh(v1::RulePart part) {
  return part == v1::RULE_PART_VALUE ? "" : labels::LabelZh(part);
}

v1::ValidationRule NewRule(const std::string& id, const std::string& description,
                           v1::RuleOperator op) {
  v1::ValidationRule r;
  r.set_id(id);
  r.set_description_zh(description);
  r.set_importance(v1::RULE_IMPORTANCE_ERROR);
  r.set_operator_(op);
  return r;
}

// A disaggregation's parts and total.
struct Split {
  const char* family;  // "sex" / "residence"
  const char* what_zh;
  std::vector<std::pair<v1::Sex, v1::Residence>> parts;
  std::pair<v1::Sex, v1::Residence> total;
};

void AddSplitRules(const v1::Indicator& ind, const Split& split,
                   std::vector<v1::ValidationRule>* out) {
  for (v1::RulePart part : SummedParts(ind)) {
    const std::string suffix = PartSuffix(part);
    const std::string part_zh = PartZh(part);
    v1::ValidationRule sum =
        NewRule(absl::StrCat(kBuiltinPrefix, split.family, "_sum.", ind.id(), suffix),
                absl::StrCat(ind.name_zh(), part_zh, "：", split.what_zh, "之和等于合计"),
                v1::RULE_OPERATOR_EQUAL);
    for (const auto& [s, r] : split.parts) {
      *sum.add_left() = Term(ind.id(), s, r, part);
    }
    *sum.add_right() = Term(ind.id(), split.total.first, split.total.second, part);
    out->push_back(std::move(sum));
    for (const auto& [s, r] : split.parts) {
      const std::string token =
          split.family == std::string("sex") ? labels::Token(s) : labels::Token(r);
      v1::ValidationRule le = NewRule(
          absl::StrCat(kBuiltinPrefix, split.family, "_part.", ind.id(), ".", token, suffix),
          absl::StrCat(ind.name_zh(), part_zh, "：分组数不大于合计"),
          v1::RULE_OPERATOR_LESS_OR_EQUAL);
      *le.add_left() = Term(ind.id(), s, r, part);
      *le.add_right() = Term(ind.id(), split.total.first, split.total.second, part);
      out->push_back(std::move(le));
    }
  }
}

std::string Num(double v) { return absl::StrFormat("%.10g", v); }

// 「女」「城镇分子」, or with the indicator's name when the rule spans
// several indicators.
std::string TermZh(const v1::RuleTerm& t, const v1::Catalog& catalog, bool with_name,
                   bool children_rule) {
  std::string s;
  if (children_rule) {
    s = t.children_sum() ? "下级合计" : "本级";
  }
  if (with_name) {
    for (const auto& ind : catalog.indicators()) {
      if (ind.id() == t.indicator_id()) {
        s = ind.name_zh();
        break;
      }
    }
    if (s.empty()) {
      s = t.indicator_id();
    }
  }
  const v1::Sex sex = NormSex(t.sex());
  const v1::Residence res = NormRes(t.residence());
  if (sex != v1::SEX_TOTAL) {
    absl::StrAppend(&s, labels::LabelZh(sex));
  }
  if (res != v1::RESIDENCE_ALL) {
    absl::StrAppend(&s, labels::LabelZh(res));
  }
  if (sex == v1::SEX_TOTAL && res == v1::RESIDENCE_ALL && !with_name && !children_rule) {
    absl::StrAppend(&s, labels::LabelZh(v1::SEX_TOTAL));
  }
  absl::StrAppend(&s, PartZh(NormPart(t.part())));
  return s;
}

std::string TermToken(const v1::RuleTerm& t, bool with_indicator) {
  std::vector<std::string> bits;
  if (with_indicator) {
    bits.push_back(t.indicator_id());
  }
  if (t.children_sum()) {
    bits.push_back("children");
  }
  const v1::Sex sex = NormSex(t.sex());
  const v1::Residence res = NormRes(t.residence());
  if (sex != v1::SEX_TOTAL || res == v1::RESIDENCE_ALL) {
    bits.push_back(labels::Token(sex));
  }
  if (res != v1::RESIDENCE_ALL) {
    bits.push_back(labels::Token(res));
  }
  const v1::RulePart part = NormPart(t.part());
  if (part != v1::RULE_PART_VALUE) {
    bits.push_back(labels::Token(part));
  }
  return absl::StrJoin(bits, ".");
}

bool Compare(v1::RuleOperator op, double l, double r, double tolerance) {
  // Figures are decimals: a relative slack of 1e-9 absorbs representation.
  const double slack = 1e-9 * std::max({1.0, std::fabs(l), std::fabs(r)});
  switch (op) {
    case v1::RULE_OPERATOR_EQUAL:
      return std::fabs(l - r) <= tolerance + slack;
    case v1::RULE_OPERATOR_LESS_OR_EQUAL:
      return l <= r + slack;
    case v1::RULE_OPERATOR_GREATER_OR_EQUAL:
      return l + slack >= r;
    case v1::RULE_OPERATOR_LESS:
      return l < r;
    case v1::RULE_OPERATOR_GREATER:
      return l > r;
    default:
      return true;
  }
}

const char* OpZh(v1::RuleOperator op) {
  switch (op) {
    case v1::RULE_OPERATOR_EQUAL:
      return "不等于";
    case v1::RULE_OPERATOR_LESS_OR_EQUAL:
      return "大于";
    case v1::RULE_OPERATOR_GREATER_OR_EQUAL:
      return "小于";
    case v1::RULE_OPERATOR_LESS:
      return "不小于";
    case v1::RULE_OPERATOR_GREATER:
      return "不大于";
    default:
      return "?";
  }
}

using ChildMap = absl::flat_hash_map<std::string, std::vector<std::string>>;

// One term's figure at (area, year): the area's own, or for a
// children_sum term the sum over every child area (nullopt when the area
// has no children or a child lacks the figure).
std::optional<double> TermValue(const v1::RuleTerm& t, const FigureTable& figures,
                                const ChildMap& children, const std::string& area, int year) {
  if (!t.children_sum()) {
    return figures.Get(t.indicator_id(), area, year, NormSex(t.sex()), NormRes(t.residence()),
                       NormPart(t.part()));
  }
  auto it = children.find(area);
  if (it == children.end() || it->second.empty()) {
    return std::nullopt;
  }
  double sum = 0;
  for (const std::string& child : it->second) {
    std::optional<double> v = figures.Get(t.indicator_id(), child, year, NormSex(t.sex()),
                                          NormRes(t.residence()), NormPart(t.part()));
    if (!v.has_value()) {
      return std::nullopt;
    }
    sum += *v;
  }
  return sum;
}

// Sum of `terms` at (area, year), with each term's text; nullopt when a
// figure is missing.
std::optional<double> SumOf(const google::protobuf::RepeatedPtrField<v1::RuleTerm>& terms,
                            const FigureTable& figures, const ChildMap& children,
                            const std::string& area, int year, const v1::Catalog& catalog,
                            bool with_name, bool children_rule, std::vector<std::string>* texts) {
  double sum = 0;
  for (const auto& t : terms) {
    std::optional<double> v = TermValue(t, figures, children, area, year);
    if (!v.has_value()) {
      return std::nullopt;
    }
    sum += *v;
    texts->push_back(absl::StrCat(TermZh(t, catalog, with_name, children_rule), " ", Num(*v)));
  }
  return sum;
}

bool UsesChildren(const v1::ValidationRule& r) {
  for (const auto& t : r.left()) {
    if (t.children_sum()) return true;
  }
  for (const auto& t : r.right()) {
    if (t.children_sum()) return true;
  }
  return false;
}

bool SpansIndicators(const v1::ValidationRule& r) {
  absl::flat_hash_set<std::string> ids;
  for (const auto& t : r.left()) ids.insert(t.indicator_id());
  for (const auto& t : r.right()) ids.insert(t.indicator_id());
  return ids.size() > 1;
}

}  // namespace

std::vector<v1::ValidationRule> BuiltinRules(const v1::Catalog& catalog) {
  std::vector<v1::ValidationRule> out;
  const Split sex{"sex",
                  "女、男",
                  {{v1::SEX_FEMALE, v1::RESIDENCE_ALL}, {v1::SEX_MALE, v1::RESIDENCE_ALL}},
                  {v1::SEX_TOTAL, v1::RESIDENCE_ALL}};
  const Split residence{
      "residence",
      "城镇、农村",
      {{v1::SEX_TOTAL, v1::RESIDENCE_URBAN}, {v1::SEX_TOTAL, v1::RESIDENCE_RURAL}},
      {v1::SEX_TOTAL, v1::RESIDENCE_ALL}};
  for (const auto& ind : catalog.indicators()) {
    if (!SummableKind(ind.kind())) {
      continue;
    }
    const bool by_sex = HasDisaggregation(ind, v1::DISAGGREGATION_SEX);
    const bool by_res = HasDisaggregation(ind, v1::DISAGGREGATION_RESIDENCE);
    if (by_sex) {
      AddSplitRules(ind, sex, &out);
    }
    if (by_res) {
      AddSplitRules(ind, residence, &out);
    }
    // Children's sum against the parent's own figure, every group and part.
    {
      std::vector<std::pair<v1::Sex, v1::Residence>> groups = {{v1::SEX_TOTAL, v1::RESIDENCE_ALL}};
      if (by_sex) {
        groups.push_back({v1::SEX_FEMALE, v1::RESIDENCE_ALL});
        groups.push_back({v1::SEX_MALE, v1::RESIDENCE_ALL});
      }
      if (by_res) {
        groups.push_back({v1::SEX_TOTAL, v1::RESIDENCE_URBAN});
        groups.push_back({v1::SEX_TOTAL, v1::RESIDENCE_RURAL});
      }
      for (v1::RulePart part : SummedParts(ind)) {
        for (const auto& [s, r] : groups) {
          v1::ValidationRule c =
              NewRule(absl::StrCat(kBuiltinPrefix, "children_sum.", ind.id(), ".", labels::Token(s),
                                   ".", labels::Token(r), PartSuffix(part)),
                      absl::StrCat(ind.name_zh(), PartZh(part), "：下级区域合计等于本级"),
                      v1::RULE_OPERATOR_EQUAL);
          c.set_importance(v1::RULE_IMPORTANCE_WARNING);
          *c.add_left() = Term(ind.id(), s, r, part, /*children_sum=*/true);
          *c.add_right() = Term(ind.id(), s, r, part);
          out.push_back(std::move(c));
        }
      }
    }
    if (ind.kind() == v1::INDICATOR_KIND_PROPORTION) {
      std::vector<std::pair<v1::Sex, v1::Residence>> groups = {{v1::SEX_TOTAL, v1::RESIDENCE_ALL}};
      if (by_sex) {
        groups.push_back({v1::SEX_FEMALE, v1::RESIDENCE_ALL});
        groups.push_back({v1::SEX_MALE, v1::RESIDENCE_ALL});
      }
      if (by_res) {
        groups.push_back({v1::SEX_TOTAL, v1::RESIDENCE_URBAN});
        groups.push_back({v1::SEX_TOTAL, v1::RESIDENCE_RURAL});
      }
      for (const auto& [s, r] : groups) {
        v1::ValidationRule f = NewRule(absl::StrCat(kBuiltinPrefix, "fraction.", ind.id(), ".",
                                                    labels::Token(s), ".", labels::Token(r)),
                                       absl::StrCat(ind.name_zh(), "：分子不大于分母"),
                                       v1::RULE_OPERATOR_LESS_OR_EQUAL);
        *f.add_left() = Term(ind.id(), s, r, v1::RULE_PART_NUMERATOR);
        *f.add_right() = Term(ind.id(), s, r, v1::RULE_PART_DENOMINATOR);
        out.push_back(std::move(f));
      }
    }
  }
  return out;
}

std::vector<v1::ValidationRule> RulesInForce(const v1::Catalog& catalog) {
  std::vector<v1::ValidationRule> out = BuiltinRules(catalog);
  out.insert(out.end(), catalog.validation_rules().begin(), catalog.validation_rules().end());
  return out;
}

std::vector<RuleProblem> LintRules(const v1::Catalog& catalog) {
  std::vector<RuleProblem> out;
  absl::flat_hash_map<std::string, const v1::Indicator*> indicators;
  for (const auto& ind : catalog.indicators()) {
    indicators[ind.id()] = &ind;
  }
  absl::flat_hash_set<std::string> ids;
  for (int i = 0; i < catalog.validation_rules_size(); ++i) {
    const v1::ValidationRule& r = catalog.validation_rules(i);
    auto add = [&](std::string message) { out.push_back({i, r.id(), std::move(message)}); };
    if (r.id().empty()) {
      add("校验规则缺少 id / validation rule without id");
    } else if (absl::StartsWith(r.id(), kBuiltinPrefix)) {
      add("校验规则 id 不能以 builtin. 开头（内置规则专用） / ids starting with builtin. are "
          "reserved for the built-in rules");
    } else if (!ids.insert(r.id()).second) {
      add("重复的校验规则 id / duplicate validation rule id");
    }
    if (r.description_zh().empty()) {
      add("校验规则缺少中文说明 / validation rule without description_zh");
    }
    if (r.importance() == v1::RULE_IMPORTANCE_UNSPECIFIED) {
      add("校验规则缺少重要性（ERROR 或 WARNING） / validation rule without importance");
    }
    if (r.left().empty()) {
      add("校验规则缺少左侧 / validation rule without left terms");
    }
    const bool comparison = r.operator_() != v1::RULE_OPERATOR_UNSPECIFIED || !r.right().empty();
    const bool bounds = r.has_bounds();
    const bool change = r.has_max_change_percent();
    const int forms = int{comparison} + int{bounds} + int{change};
    if (forms != 1) {
      add("校验规则须且只能有一种形式：比较（operator 与 right）、界限（bounds）或变动"
          "（max_change_percent） / a rule needs exactly one of comparison, bounds, change");
    } else if (comparison &&
               (r.operator_() == v1::RULE_OPERATOR_UNSPECIFIED || r.right().empty())) {
      add("比较规则须有 operator 和右侧 / a comparison needs an operator and right terms");
    } else if (bounds && !r.bounds().has_min() && !r.bounds().has_max()) {
      add("界限规则须有 min 或 max / bounds need min or max");
    } else if (bounds && r.bounds().has_min() && r.bounds().has_max() &&
               r.bounds().min() > r.bounds().max()) {
      add("界限 min 大于 max / bounds min exceeds max");
    } else if (change && !(r.max_change_percent() > 0)) {
      add("变动上限须大于 0 / max_change_percent must be > 0");
    }
    if (!(r.tolerance() >= 0) || !std::isfinite(r.tolerance())) {
      add("容差须为非负有限数 / tolerance must be finite and >= 0");
    }
    auto check_terms = [&](const google::protobuf::RepeatedPtrField<v1::RuleTerm>& terms,
                           const char* side) {
      for (int t = 0; t < terms.size(); ++t) {
        const v1::RuleTerm& term = terms[t];
        auto it = indicators.find(term.indicator_id());
        const std::string where = absl::StrCat(side, "[", t, "]");
        if (it == indicators.end()) {
          add(absl::StrCat(where, " 引用未知指标 / unknown indicator \"", term.indicator_id(),
                           "\""));
          continue;
        }
        const v1::Indicator& ind = *it->second;
        if (ind.kind() == v1::INDICATOR_KIND_QUALITATIVE) {
          add(absl::StrCat(where, " 引用定性指标 ", ind.id(),
                           " / a rule cannot use a QUALITATIVE indicator"));
        }
        const v1::RulePart part = NormPart(term.part());
        const bool fraction =
            ind.kind() == v1::INDICATOR_KIND_RATE || ind.kind() == v1::INDICATOR_KIND_PROPORTION;
        if (part != v1::RULE_PART_VALUE && !fraction) {
          add(absl::StrCat(where, " ", ind.id(), " 不是比率，没有分子分母 / ", ind.id(),
                           " has no numerator or denominator"));
        }
      }
    };
    check_terms(r.left(), "left");
    check_terms(r.right(), "right");
  }
  return out;
}

void FigureTable::Add(const v1::DataValue& value, const v1::Indicator& indicator) {
  Figure f;
  switch (value.payload_case()) {
    case v1::DataValue::kValue:
      f.value = value.value();
      break;
    case v1::DataValue::kFraction: {
      f.fraction = true;
      f.numerator = value.fraction().numerator();
      f.denominator = value.fraction().denominator();
      const double m = indicator.multiplier() > 0                          ? indicator.multiplier()
                       : indicator.kind() == v1::INDICATOR_KIND_PROPORTION ? 100
                                                                           : 1;
      f.value = f.denominator != 0 ? f.numerator / f.denominator * m : 0;
      break;
    }
    case v1::DataValue::kPublished:
      f.value = value.published().value();
      break;
    default:
      return;
  }
  const auto& k = value.key();
  figures_[Key{k.indicator_id(), k.area_code(), k.year(), NormSex(k.sex()),
               NormRes(k.residence())}] = f;
  area_years_.insert({k.area_code(), k.year()});
}

std::optional<double> FigureTable::Get(const std::string& indicator_id,
                                       const std::string& area_code, int year, v1::Sex sex,
                                       v1::Residence residence, v1::RulePart part) const {
  auto it = figures_.find(Key{indicator_id, area_code, year, NormSex(sex), NormRes(residence)});
  if (it == figures_.end()) {
    return std::nullopt;
  }
  const Figure& f = it->second;
  switch (NormPart(part)) {
    case v1::RULE_PART_NUMERATOR:
      return f.fraction ? std::optional<double>(f.numerator) : std::nullopt;
    case v1::RULE_PART_DENOMINATOR:
      return f.fraction ? std::optional<double>(f.denominator) : std::nullopt;
    default:
      return f.value;
  }
}

std::vector<std::pair<std::string, int>> FigureTable::AreaYears() const {
  std::vector<std::pair<std::string, int>> out(area_years_.begin(), area_years_.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<v1::RuleViolation> Evaluate(const std::vector<v1::ValidationRule>& rules,
                                        const v1::Catalog& catalog, const FigureTable& figures,
                                        const std::vector<std::pair<std::string, int>>& scope,
                                        int* checked) {
  std::vector<v1::RuleViolation> out;
  ChildMap children;
  for (const auto& a : catalog.areas()) {
    if (!a.parent_code().empty()) {
      children[a.parent_code()].push_back(a.code());
    }
  }
  int count = 0;
  for (const auto& [area, year] : scope) {
    for (const auto& rule : rules) {
      if (rule.left().empty()) {
        continue;
      }
      const bool with_name = SpansIndicators(rule);
      const bool children_rule = UsesChildren(rule);
      std::vector<std::string> left_texts, right_texts;
      std::optional<double> left = SumOf(rule.left(), figures, children, area, year, catalog,
                                         with_name, children_rule, &left_texts);
      if (!left.has_value()) {
        continue;
      }
      double right = 0;
      bool ok = true;
      std::string detail;
      const std::string left_text =
          left_texts.size() == 1
              ? left_texts[0]
              : absl::StrCat(absl::StrJoin(left_texts, " + "), " = ", Num(*left));
      std::vector<std::string> left_tokens, right_tokens;
      for (const auto& t : rule.left()) left_tokens.push_back(TermToken(t, with_name));
      for (const auto& t : rule.right()) right_tokens.push_back(TermToken(t, with_name));
      std::string field_op;
      if (rule.has_max_change_percent()) {
        std::vector<std::string> prev_texts;
        std::optional<double> prev = SumOf(rule.left(), figures, children, area, year - 1, catalog,
                                           with_name, children_rule, &prev_texts);
        if (!prev.has_value() || *prev == 0) {
          continue;
        }
        right = *prev;
        const double change = std::fabs(*left - *prev) / std::fabs(*prev) * 100;
        ok = change <= rule.max_change_percent() + 1e-9;
        detail = absl::StrFormat("%s，上年 %s，变动 %.1f%%，超过 %s%%", left_text, Num(*prev),
                                 change, Num(rule.max_change_percent()));
        field_op = absl::StrCat(" change vs ", year - 1);
      } else if (rule.has_bounds()) {
        const auto& b = rule.bounds();
        if (b.has_min() && *left < b.min()) {
          ok = false;
          right = b.min();
          detail = absl::StrCat(left_text, "，低于下限 ", Num(b.min()));
        } else if (b.has_max() && *left > b.max()) {
          ok = false;
          right = b.max();
          detail = absl::StrCat(left_text, "，高于上限 ", Num(b.max()));
        }
        field_op = " within bounds";
      } else {
        std::optional<double> r = SumOf(rule.right(), figures, children, area, year, catalog,
                                        with_name, children_rule, &right_texts);
        if (!r.has_value()) {
          continue;
        }
        right = *r;
        ok = Compare(rule.operator_(), *left, right, rule.tolerance());
        const std::string right_text =
            right_texts.size() == 1
                ? right_texts[0]
                : absl::StrCat(absl::StrJoin(right_texts, " + "), " = ", Num(right));
        if (children_rule && rule.operator_() == v1::RULE_OPERATOR_EQUAL) {
          // 「下级合计 150 与本级 140 不一致（相差 10）」
          detail = absl::StrCat(left_text, " 与", right_text, " 不一致（相差 ",
                                Num(std::fabs(*left - right)), "）");
        } else {
          detail = absl::StrCat(left_text, "，", OpZh(rule.operator_()), right_text);
        }
        if (rule.operator_() == v1::RULE_OPERATOR_EQUAL && rule.tolerance() > 0) {
          absl::StrAppend(&detail, "（容差 ", Num(rule.tolerance()), "）");
        }
        field_op = absl::StrCat(" ", labels::Token(rule.operator_()), " ",
                                absl::StrJoin(right_tokens, "+"));
      }
      ++count;
      if (ok) {
        continue;
      }
      v1::RuleViolation v;
      v.set_rule_id(rule.id());
      v.set_importance(rule.importance());
      v.set_area_code(area);
      v.set_year(year);
      v.set_indicator_id(rule.left(0).indicator_id());
      v.set_left_value(*left);
      v.set_right_value(right);
      v.set_field(absl::StrCat(rule.left(0).indicator_id(), "/", area, "/", year, ": ",
                               absl::StrJoin(left_tokens, "+"), field_op));
      v.set_message_zh(absl::StrCat(labels::LabelZh(rule.importance()), "【", rule.description_zh(),
                                    "】", area, " ", year, "年：", detail));
      out.push_back(std::move(v));
    }
  }
  if (checked != nullptr) {
    *checked = count;
  }
  return out;
}

std::vector<v1::ValidationRule> RulesTouching(const std::vector<v1::ValidationRule>& rules,
                                              const absl::flat_hash_set<std::string>& ids) {
  std::vector<v1::ValidationRule> out;
  for (const auto& r : rules) {
    bool touches = false;
    for (const auto& t : r.left()) touches = touches || ids.contains(t.indicator_id());
    for (const auto& t : r.right()) touches = touches || ids.contains(t.indicator_id());
    if (touches) {
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace halfsky::rules
