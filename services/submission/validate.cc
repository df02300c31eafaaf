#include "services/submission/validate.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/auth/roles.h"
#include "common/clock/clock.h"

namespace halfsky::submission {

namespace v1 = ::halfsky::v1;

void NormalizeKey(v1::DataKey* key) {
  if (key->sex() == v1::SEX_UNSPECIFIED) {
    key->set_sex(v1::SEX_TOTAL);
  }
  if (key->residence() == v1::RESIDENCE_UNSPECIFIED) {
    key->set_residence(v1::RESIDENCE_ALL);
  }
}

std::string KeyString(const v1::DataKey& key) {
  std::string out = absl::StrCat(
      key.indicator_id(), "/", key.area_code(), "/", key.year(), "/",
      v1::Sex_IsValid(key.sex()) ? v1::Sex_Name(key.sex())
                                 : absl::StrCat(static_cast<int>(key.sex())),
      "/",
      v1::Residence_IsValid(key.residence()) ? v1::Residence_Name(key.residence())
                                             : absl::StrCat(static_cast<int>(key.residence())));
  if (!key.unit_code().empty()) {
    absl::StrAppend(&out, "/", key.unit_code());
  }
  return out;
}

double DisplayValue(const v1::Indicator& indicator, const v1::DataValue& value) {
  switch (value.payload_case()) {
    case v1::DataValue::kValue:
      return value.value();
    case v1::DataValue::kPublished:
      return value.published().value();
    case v1::DataValue::kFraction: {
      const double den = value.fraction().denominator();
      if (den == 0) {
        return std::nan("");
      }
      double multiplier = 1.0;
      if (indicator.kind() == v1::INDICATOR_KIND_PROPORTION) {
        multiplier = 100.0;
      } else if (indicator.kind() == v1::INDICATOR_KIND_RATE) {
        multiplier = indicator.multiplier() > 0 ? indicator.multiplier() : 1.0;
      }
      return value.fraction().numerator() / den * multiplier;
    }
    default:
      return std::nan("");
  }
}

namespace {

// The payload's field name, with its leading dot.
std::string PayloadField(v1::DataValue::PayloadCase pc) {
  switch (pc) {
    case v1::DataValue::kValue:
      return ".value";
    case v1::DataValue::kPublished:
      return ".published";
    default:
      return ".fraction";
  }
}

bool Takes(const v1::Indicator& ind, v1::Disaggregation d) {
  for (int x : ind.required_disaggregations()) {
    if (x == d) {
      return true;
    }
  }
  return false;
}

// Which control characters a free-text field may hold.
enum class Controls {
  kNone,           // one-line text (source, evidence, request id): none at all
  kTabAndNewline,  // notes and narratives: tab (U+0009) and newline (U+000A)
};

// The first control character of `v` (C0 U+0000..U+001F, DEL U+007F, C1
// U+0080..U+009F) that `allowed` does not permit, as "U+000D at byte 12";
// "" when there is none. `v` is valid UTF-8.
std::string FirstControl(absl::string_view v, Controls allowed) {
  size_t i = 0;
  while (i < v.size()) {
    const size_t at = i;
    const int32_t cp = NextCodePoint(v, &i);
    const bool control = (cp >= 0 && cp < 0x20) || (cp >= 0x7F && cp <= 0x9F);
    if (!control || (allowed == Controls::kTabAndNewline && (cp == '\t' || cp == '\n'))) {
      continue;
    }
    return absl::StrFormat("U+%04X at byte %d", cp, at);
  }
  return "";
}

// Checks a string field: UTF-8, control characters, size limit, optionally
// required.
void CheckString(std::vector<FieldViolation>& out, const std::string& field, absl::string_view v,
                 size_t max_bytes, bool required, absl::string_view name_zh,
                 absl::string_view name_en, Controls controls = Controls::kNone) {
  if (!IsValidUtf8(v)) {
    out.push_back(
        {field, absl::StrCat(name_zh, "不是有效的UTF-8文本 / ", name_en, " is not valid UTF-8")});
    return;
  }
  if (required && v.empty()) {
    out.push_back({field, absl::StrCat("缺少", name_zh, " / ", name_en, " is required")});
    return;
  }
  if (v.size() > max_bytes) {
    out.push_back(
        {field, absl::StrFormat("%s过长（%d字节，上限%d） / %s too long (%d bytes, limit %d)",
                                name_zh, v.size(), max_bytes, name_en, v.size(), max_bytes)});
    return;
  }
  if (const std::string c = FirstControl(v, controls); !c.empty()) {
    out.push_back(
        {field,
         absl::StrCat(name_zh, "含有控制字符（", c, "）",
                      controls == Controls::kNone ? "" : "，只允许制表符和换行", " / ", name_en,
                      " contains a control character (", c, ")",
                      controls == Controls::kNone ? "" : "; only tab and newline are allowed")});
  }
}

}  // namespace

std::vector<FieldViolation> ValidateFreeText(const std::string& field, absl::string_view value,
                                             size_t max_bytes, bool required,
                                             absl::string_view name_zh, absl::string_view name_en) {
  std::vector<FieldViolation> out;
  CheckString(out, field, value, max_bytes, required, name_zh, name_en, Controls::kTabAndNewline);
  return out;
}

namespace {

const char* KindZh(v1::IndicatorKind k) {
  switch (k) {
    case v1::INDICATOR_KIND_RATE:
      return "率";
    case v1::INDICATOR_KIND_PROPORTION:
      return "比例";
    case v1::INDICATOR_KIND_COUNT:
      return "计数";
    case v1::INDICATOR_KIND_VALUE:
      return "数值";
    case v1::INDICATOR_KIND_QUALITATIVE:
      return "定性";
    default:
      return "未知";
  }
}

}  // namespace

namespace {

// ValidateValue with the service's current year already computed (once per
// batch rather than once per value).
std::vector<FieldViolation> ValidateValueInYear(const v1::DataValue& value,
                                                const CatalogIndex& catalog, int current_year,
                                                const ValidationLimits& limits,
                                                const std::string& prefix) {
  std::vector<FieldViolation> out;
  const v1::DataKey& key = value.key();
  const std::string kp = absl::StrCat(prefix, ".key");

  // Indicator.
  const v1::Indicator* ind = nullptr;
  if (key.indicator_id().empty()) {
    out.push_back({kp + ".indicator_id", "缺少指标代码 / indicator_id is required"});
  } else if (!IsValidUtf8(key.indicator_id()) ||
             key.indicator_id().size() > limits.max_code_bytes) {
    out.push_back({kp + ".indicator_id", "指标代码无效 / indicator_id is not a valid code"});
  } else {
    ind = catalog.FindIndicator(key.indicator_id());
    if (ind == nullptr) {
      out.push_back(
          {kp + ".indicator_id", absl::StrCat("未知指标“", key.indicator_id(),
                                              "” / unknown indicator '", key.indicator_id(), "'")});
    }
  }

  // Area.
  if (key.area_code().empty()) {
    out.push_back({kp + ".area_code", "缺少区域代码 / area_code is required"});
  } else if (!IsValidUtf8(key.area_code()) || key.area_code().size() > limits.max_code_bytes ||
             catalog.FindArea(key.area_code()) == nullptr) {
    out.push_back({kp + ".area_code",
                   absl::StrCat("未知区域“", IsValidUtf8(key.area_code()) ? key.area_code() : "?",
                                "” / unknown area '",
                                IsValidUtf8(key.area_code()) ? key.area_code() : "?", "'")});
  }

  // Year.
  if (key.year() < limits.min_year || key.year() > limits.max_year) {
    out.push_back({kp + ".year", absl::StrFormat("年份%d超出%d—%d / year %d outside %d–%d",
                                                 key.year(), limits.min_year, limits.max_year,
                                                 key.year(), limits.min_year, limits.max_year)});
  } else if (key.year() > current_year) {
    out.push_back({kp + ".year",
                   absl::StrFormat("年份%d尚未到来（当前%d年） / year %d is in the future (now %d)",
                                   key.year(), current_year, key.year(), current_year)});
  }

  // Sex and residence.
  if (!v1::Sex_IsValid(key.sex())) {
    out.push_back({kp + ".sex", "性别取值无效 / invalid sex"});
  } else if ((key.sex() == v1::SEX_FEMALE || key.sex() == v1::SEX_MALE) && ind != nullptr &&
             !Takes(*ind, v1::DISAGGREGATION_SEX)) {
    out.push_back(
        {kp + ".sex", absl::StrCat("指标", ind->id(), "不分性别报送，只接受合计 / indicator ",
                                   ind->id(), " is not disaggregated by sex; only total")});
  }
  if (!v1::Residence_IsValid(key.residence())) {
    out.push_back({kp + ".residence", "城乡取值无效 / invalid residence"});
  } else if ((key.residence() == v1::RESIDENCE_URBAN || key.residence() == v1::RESIDENCE_RURAL) &&
             ind != nullptr && !Takes(*ind, v1::DISAGGREGATION_RESIDENCE)) {
    out.push_back({kp + ".residence",
                   absl::StrCat("指标", ind->id(), "不分城乡报送，只接受全部 / indicator ",
                                ind->id(), " is not disaggregated by residence; only all")});
  }

  // Unit: whose narrative (QUALITATIVE only; see DataKey.unit_code).
  if (ind != nullptr) {
    const std::string& unit = key.unit_code();
    if (ind->kind() != v1::INDICATOR_KIND_QUALITATIVE) {
      if (!unit.empty()) {
        out.push_back({kp + ".unit_code",
                       absl::StrCat("指标", ind->id(),
                                    "是数字指标，不按填报单位分开保存，填报单位须为空 / indicator ",
                                    ind->id(),
                                    " takes a figure, which is not kept per unit: unit_code must "
                                    "be empty")});
      }
    } else if (unit.empty()) {
      out.push_back(
          {kp + ".unit_code",
           absl::StrCat("缺少填报单位：定性指标", ind->id(), "的工作进展由各责任单位分别报送（",
                        absl::StrJoin(ind->responsible_unit_codes(), "、"),
                        "） / unit_code is required: each responsible unit of qualitative "
                        "indicator ",
                        ind->id(), " reports its own narrative (",
                        absl::StrJoin(ind->responsible_unit_codes(), ", "), ")")});
    } else if (std::find(ind->responsible_unit_codes().begin(), ind->responsible_unit_codes().end(),
                         unit) == ind->responsible_unit_codes().end()) {
      const std::string shown =
          IsValidUtf8(unit) && unit.size() <= limits.max_code_bytes ? unit : "?";
      out.push_back(
          {kp + ".unit_code",
           absl::StrCat("“", shown, "”不是定性指标", ind->id(), "的责任单位（",
                        absl::StrJoin(ind->responsible_unit_codes(), "、"), "） / '", shown,
                        "' is not a responsible unit of qualitative indicator ", ind->id(), " (",
                        absl::StrJoin(ind->responsible_unit_codes(), ", "), ")")});
    }
  }

  // Payload by kind.
  if (ind != nullptr) {
    const v1::IndicatorKind kind = ind->kind();
    const bool wants_fraction =
        kind == v1::INDICATOR_KIND_RATE || kind == v1::INDICATOR_KIND_PROPORTION;
    const bool wants_value = kind == v1::INDICATOR_KIND_COUNT || kind == v1::INDICATOR_KIND_VALUE;
    const bool wants_narrative = kind == v1::INDICATOR_KIND_QUALITATIVE;
    const auto pc = value.payload_case();
    bool payload_ok = false;
    if (pc == v1::DataValue::PAYLOAD_NOT_SET) {
      const char* what = wants_fraction ? "分子和分母 / numerator and denominator"
                         : wants_value  ? "数值 / a value"
                                        : "工作进展叙述 / a narrative";
      out.push_back(
          {prefix, absl::StrCat("缺少数据：", KindZh(kind), "指标需要", what, " required")});
    } else if (wants_narrative && pc != v1::DataValue::kNarrative) {
      out.push_back({prefix + PayloadField(pc),
                     absl::StrCat("定性指标", ind->id(),
                                  "只接受工作进展叙述，不接受数字 / qualitative indicator ",
                                  ind->id(), " takes a narrative, not a number")});
    } else if (!wants_narrative && pc == v1::DataValue::kNarrative) {
      out.push_back(
          {prefix + ".narrative", absl::StrCat("指标", ind->id(), "是", KindZh(kind),
                                               "指标，需要数字而不是叙述 / indicator ", ind->id(),
                                               " is numeric and takes a number, not a narrative")});
    } else if (wants_fraction && pc == v1::DataValue::kValue) {
      out.push_back({prefix + ".value",
                     absl::StrCat(KindZh(kind), "指标需填分子和分母，而不是数值 / ",
                                  v1::IndicatorKind_Name(kind),
                                  " indicator takes numerator and denominator, not a value")});
    } else if (!wants_fraction && pc == v1::DataValue::kPublished) {
      out.push_back(
          {prefix + ".published",
           absl::StrCat("公布数只适用于率或比例指标，", KindZh(kind), "指标需填数值 / ",
                        v1::IndicatorKind_Name(kind),
                        " indicator takes a value; a published figure is for RATE or PROPORTION "
                        "only")});
    } else if (wants_value && pc == v1::DataValue::kFraction) {
      out.push_back(
          {prefix + ".fraction",
           absl::StrCat(KindZh(kind), "指标需填数值，而不是分子分母 / ",
                        v1::IndicatorKind_Name(kind), " indicator takes a value, not a fraction")});
    } else {
      payload_ok = true;
    }

    if (payload_ok && pc == v1::DataValue::kFraction) {
      const double num = value.fraction().numerator();
      const double den = value.fraction().denominator();
      bool finite = true;
      if (!std::isfinite(num)) {
        out.push_back({prefix + ".fraction.numerator",
                       "分子不是有限数（NaN或无穷） / numerator is NaN or infinite"});
        finite = false;
      }
      if (!std::isfinite(den)) {
        out.push_back({prefix + ".fraction.denominator",
                       "分母不是有限数（NaN或无穷） / denominator is NaN or infinite"});
        finite = false;
      }
      if (finite) {
        bool ok = true;
        if (num < 0) {
          out.push_back({prefix + ".fraction.numerator", "分子不能为负 / numerator is negative"});
          ok = false;
        }
        if (den <= 0) {
          out.push_back({prefix + ".fraction.denominator",
                         "分母必须大于0 / denominator must be greater than 0"});
          ok = false;
        }
        if (ok && kind == v1::INDICATOR_KIND_PROPORTION && num > den) {
          out.push_back({prefix + ".fraction.numerator",
                         absl::StrFormat("比例指标的分子（%g）大于分母（%g） / proportion "
                                         "numerator %g exceeds denominator %g",
                                         num, den, num, den)});
          ok = false;
        }
        payload_ok = ok;
      } else {
        payload_ok = false;
      }
    }
    if (payload_ok && pc == v1::DataValue::kPublished) {
      const double v = value.published().value();
      if (!std::isfinite(v)) {
        out.push_back({prefix + ".published.value",
                       "公布数不是有限数（NaN或无穷） / published value is NaN or infinite"});
        payload_ok = false;
      } else if (v < 0 || (kind == v1::INDICATOR_KIND_PROPORTION && v > 100)) {
        out.push_back(
            {prefix + ".published.value",
             absl::StrFormat(
                 "公布数%g%s不可能（%s） / published value %g %s is impossible (%s)", v,
                 ind->unit(),
                 kind == v1::INDICATOR_KIND_PROPORTION ? "比例须在0—100之间" : "率不能为负", v,
                 ind->unit(),
                 kind == v1::INDICATOR_KIND_PROPORTION ? "a proportion lies in 0..100"
                                                       : "a rate is not negative")});
        payload_ok = false;
      }
    }
    if (payload_ok && pc == v1::DataValue::kValue) {
      const double v = value.value();
      if (!std::isfinite(v)) {
        out.push_back(
            {prefix + ".value", "数值不是有限数（NaN或无穷） / value is NaN or infinite"});
        payload_ok = false;
      } else if (kind == v1::INDICATOR_KIND_COUNT && (v < 0 || std::floor(v) != v)) {
        out.push_back(
            {prefix + ".value", absl::StrFormat("计数必须是非负整数（收到%g） / a count must be a "
                                                "non-negative whole number (got %g)",
                                                v, v)});
        payload_ok = false;
      }
    }
    if (payload_ok &&
        (pc == v1::DataValue::kValue || pc == v1::DataValue::kFraction ||
         pc == v1::DataValue::kPublished) &&
        ind->has_value_range()) {
      const double shown = DisplayValue(*ind, value);
      const auto& range = ind->value_range();
      if ((range.has_min() && shown < range.min()) || (range.has_max() && shown > range.max())) {
        const std::string lo = range.has_min() ? absl::StrFormat("%g", range.min()) : "-∞";
        const std::string hi = range.has_max() ? absl::StrFormat("%g", range.max()) : "+∞";
        out.push_back({prefix + PayloadField(pc),
                       absl::StrFormat("数值%g%s超出合理范围[%s, %s] / value %g %s outside the "
                                       "plausible range [%s, %s]",
                                       shown, ind->unit(), lo, hi, shown, ind->unit(), lo, hi)});
      }
    }
    if (payload_ok && pc == v1::DataValue::kNarrative) {
      const v1::Narrative& n = value.narrative();
      CheckString(out, prefix + ".narrative.text", n.text(), limits.max_narrative_bytes, true,
                  "工作进展", "narrative text", Controls::kTabAndNewline);
      if (n.self_assessment() == v1::SELF_ASSESSMENT_UNSPECIFIED ||
          !v1::SelfAssessment_IsValid(n.self_assessment())) {
        out.push_back({prefix + ".narrative.self_assessment",
                       "缺少自评结论（达标/基本达标/未达标/无法评估） / self_assessment is "
                       "required (met / mostly met / not met / not assessable)"});
      }
      if (n.evidence_refs_size() > limits.max_evidence_refs) {
        out.push_back({prefix + ".narrative.evidence_refs",
                       absl::StrFormat("佐证材料过多（%d项，上限%d） / too many evidence_refs (%d, "
                                       "limit %d)",
                                       n.evidence_refs_size(), limits.max_evidence_refs,
                                       n.evidence_refs_size(), limits.max_evidence_refs)});
      }
      for (int i = 0; i < n.evidence_refs_size(); ++i) {
        CheckString(out, absl::StrCat(prefix, ".narrative.evidence_refs[", i, "]"),
                    n.evidence_refs(i), limits.max_evidence_ref_bytes, true, "佐证材料",
                    "evidence reference");
      }
    }
  }

  CheckString(out, prefix + ".source", value.source(), limits.max_source_bytes, true, "数据来源",
              "source");
  CheckString(out, prefix + ".note", value.note(), limits.max_note_bytes, false, "备注", "note",
              Controls::kTabAndNewline);
  return out;
}

}  // namespace

std::vector<FieldViolation> ValidateValue(const v1::DataValue& value, const CatalogIndex& catalog,
                                          absl::Time now, const ValidationLimits& limits,
                                          const std::string& prefix) {
  return ValidateValueInYear(value, catalog, LocalYear(now), limits, prefix);
}

absl::Status ValidateBatch(absl::string_view request_id,
                           const google::protobuf::RepeatedPtrField<v1::DataValue>& values,
                           const CatalogIndex& catalog, absl::Time now,
                           const ValidationLimits& limits) {
  std::vector<FieldViolation> out;
  if (request_id.empty()) {
    out.push_back({"request_id", "缺少请求编号 / request_id is required"});
  } else if (request_id.size() > limits.max_request_id_bytes || !IsValidUtf8(request_id) ||
             !FirstControl(request_id, Controls::kNone).empty()) {
    out.push_back({"request_id",
                   absl::StrFormat("请求编号无效（含控制字符或无效UTF-8）或超过%d字节 / request_id "
                                   "invalid (control characters or invalid UTF-8) or longer "
                                   "than %d bytes",
                                   limits.max_request_id_bytes, limits.max_request_id_bytes)});
  }
  if (values.empty()) {
    out.push_back({"data_values", "没有数据 / at least one data value is required"});
  } else if (values.size() > limits.max_batch_values) {
    out.push_back({"data_values",
                   absl::StrFormat("一批最多%d条数据（收到%d条） / at most %d values per batch "
                                   "(got %d)",
                                   limits.max_batch_values, values.size(), limits.max_batch_values,
                                   values.size())});
    return InvalidArgumentError("数据校验未通过 / the batch is too large", out);
  }
  // Keys as (indicator, area, year, sex, residence, unit) after NormalizeKey:
  // two units' narratives of one objective and year are two keys.
  absl::flat_hash_map<
      std::tuple<absl::string_view, absl::string_view, int, int, int, absl::string_view>, int>
      first_index;
  first_index.reserve(values.size());
  const int current_year = LocalYear(now);
  const std::string no_prefix;
  for (int i = 0; i < values.size(); ++i) {
    // Validated without a field prefix first (no per-value allocation when
    // the value is fine); a value with violations is validated again to
    // name its fields.
    std::vector<FieldViolation> v =
        ValidateValueInYear(values[i], catalog, current_year, limits, no_prefix);
    if (!v.empty()) {
      v = ValidateValueInYear(values[i], catalog, current_year, limits,
                              absl::StrCat("data_values[", i, "]"));
    }
    out.insert(out.end(), v.begin(), v.end());
    const v1::DataKey& key = values[i].key();
    const int sex = key.sex() == v1::SEX_UNSPECIFIED ? v1::SEX_TOTAL : key.sex();
    const int residence =
        key.residence() == v1::RESIDENCE_UNSPECIFIED ? v1::RESIDENCE_ALL : key.residence();
    auto [it, inserted] = first_index.emplace(
        std::make_tuple(absl::string_view(key.indicator_id()), absl::string_view(key.area_code()),
                        key.year(), sex, residence, absl::string_view(key.unit_code())),
        i);
    if (!inserted) {
      out.push_back({absl::StrCat("data_values[", i, "].key"),
                     absl::StrFormat("与第%d条数据的键重复 / same key as data_values[%d]",
                                     it->second, it->second)});
    }
  }
  if (!out.empty()) {
    return InvalidArgumentError(
        absl::StrFormat("数据校验未通过，共%d处问题 / %d problem(s) in the submitted data",
                        out.size(), out.size()),
        out);
  }
  return absl::OkStatus();
}

std::string ResponsibleUnitOf(const v1::Principal& principal, const v1::Indicator& indicator) {
  for (const auto& role : principal.roles()) {
    if (role.kind() != v1::ROLE_KIND_UNIT) {
      continue;
    }
    for (const auto& code : indicator.responsible_unit_codes()) {
      if (code == role.unit_code()) {
        return code;
      }
    }
  }
  return "";
}

absl::Status AuthorizeWrite(const v1::Principal& principal,
                            const google::protobuf::RepeatedPtrField<v1::DataValue>& values,
                            const CatalogIndex& catalog, std::vector<std::string>* unit_codes) {
  const bool privileged = auth::HasRole(principal, v1::ROLE_KIND_STATISTICS) ||
                          auth::HasRole(principal, v1::ROLE_KIND_ADMIN);
  unit_codes->assign(values.size(), "");
  if (!privileged && auth::HasRole(principal, v1::ROLE_KIND_AREA)) {
    // A lower instance's exchange (area:<code>): the figures of its own
    // area(s) only, credited to no unit. A principal that also holds unit
    // roles falls back to them for a batch its areas do not cover.
    std::set<std::string> outside;
    for (const v1::DataValue& value : values) {
      const v1::DataKey& key = value.key();
      const v1::Indicator* ind = catalog.FindIndicator(key.indicator_id());
      if (!auth::IsReportingArea(principal, key.area_code()) ||
          (ind != nullptr && ind->kind() == v1::INDICATOR_KIND_QUALITATIVE)) {
        outside.insert(absl::StrCat(IsValidUtf8(key.indicator_id()) ? key.indicator_id() : "?", "@",
                                    IsValidUtf8(key.area_code()) ? key.area_code() : "?"));
      }
    }
    if (outside.empty()) {
      return absl::OkStatus();
    }
    if (!auth::HasRole(principal, v1::ROLE_KIND_UNIT)) {
      const std::vector<std::string> areas = auth::ReportingAreas(principal);
      return WithReason(
          absl::PermissionDeniedError(absl::StrCat(
              "无权报送以下数据（上报通道只能报送本区域 ", absl::StrJoin(areas, "、"),
              " 的数值型指标）：", absl::StrJoin(outside, "、"),
              " / may write only the figures of its reporting area(s) ", absl::StrJoin(areas, ", "),
              ", not: ", absl::StrJoin(outside, ", "), " (principal \"", principal.name(), "\")")),
          "NOT_REPORTING_AREA");
    }
  }
  std::set<std::string> denied;
  // "indicator（unit）" of narratives of another unit a unit principal named.
  std::set<std::pair<std::string, std::string>> others;
  struct Known {
    const v1::Indicator* indicator;
    std::string unit;  // the caller's responsible unit ("" none)
  };
  absl::flat_hash_map<std::string, Known> unit_of;  // by indicator id
  for (int i = 0; i < values.size(); ++i) {
    const v1::DataKey& key = values[i].key();
    const std::string& id = key.indicator_id();
    auto cached = unit_of.find(id);
    if (cached == unit_of.end()) {
      Known known{catalog.FindIndicator(id), ""};
      if (known.indicator != nullptr) {
        known.unit = ResponsibleUnitOf(principal, *known.indicator);
        if (known.unit.empty() && !privileged) {
          denied.insert(id);
        }
      }
      cached = unit_of.emplace(id, std::move(known)).first;
    }
    const Known& known = cached->second;
    if (known.indicator != nullptr && known.indicator->kind() == v1::INDICATOR_KIND_QUALITATIVE &&
        !key.unit_code().empty() && key.unit_code() != known.unit) {
      // A named narrative unit other than the caller's responsible one: the
      // caller writes it for that unit only if it holds that unit's role
      // too; statistics/admin may write any unit's narrative (validation
      // checks the unit is responsible), crediting no unit.
      if (auth::IsUnit(principal, key.unit_code())) {
        (*unit_codes)[i] = key.unit_code();
      } else if (!privileged && !known.unit.empty()) {
        others.emplace(id, IsValidUtf8(key.unit_code()) ? key.unit_code() : "?");
      }
      continue;
    }
    (*unit_codes)[i] = known.unit;
  }
  if (!denied.empty() || !others.empty()) {
    std::string zh, en;
    if (!denied.empty()) {
      zh = absl::StrCat("无权报送以下指标（不是责任单位）：", absl::StrJoin(denied, "、"));
      en = absl::StrCat("not responsible for indicator(s): ", absl::StrJoin(denied, ", "));
    }
    if (!others.empty()) {
      std::vector<std::string> zh_items, en_items;
      for (const auto& [ind, unit] : others) {
        zh_items.push_back(absl::StrCat(ind, "（", unit, "）"));
        en_items.push_back(absl::StrCat(ind, " (", unit, ")"));
      }
      absl::StrAppend(&zh, zh.empty() ? "" : "；", "只能报送本单位的工作进展，不能报送其他单位的：",
                      absl::StrJoin(zh_items, "、"));
      absl::StrAppend(&en, en.empty() ? "" : "; ",
                      "may report only its own unit's narrative, not another unit's: ",
                      absl::StrJoin(en_items, ", "));
    }
    return WithReason(absl::PermissionDeniedError(absl::StrCat(zh, " / ", en)),
                      "NOT_RESPONSIBLE_UNIT");
  }
  return absl::OkStatus();
}

void AssignNarrativeUnits(google::protobuf::RepeatedPtrField<v1::DataValue>* values,
                          const CatalogIndex& catalog, const std::vector<std::string>& unit_codes) {
  for (int i = 0; i < values->size() && i < static_cast<int>(unit_codes.size()); ++i) {
    v1::DataKey* key = values->Mutable(i)->mutable_key();
    if (!key->unit_code().empty() || unit_codes[i].empty()) {
      continue;
    }
    const v1::Indicator* ind = catalog.FindIndicator(key->indicator_id());
    if (ind != nullptr && ind->kind() == v1::INDICATOR_KIND_QUALITATIVE) {
      key->set_unit_code(unit_codes[i]);
    }
  }
}

std::vector<FieldViolation> ValidateChangeReasons(
    const google::protobuf::RepeatedPtrField<v1::DataValue>& values,
    const ValidationLimits& limits) {
  std::vector<FieldViolation> out;
  for (int i = 0; i < values.size(); ++i) {
    if (!values[i].change_reason().empty()) {
      CheckString(out, absl::StrCat("data_values[", i, "].change_reason"),
                  values[i].change_reason(), limits.max_note_bytes, false, "修改原因",
                  "change_reason");
    }
  }
  return out;
}

absl::Status ValidateWithdrawal(absl::string_view request_id,
                                const google::protobuf::RepeatedPtrField<v1::DataKey>& keys,
                                absl::string_view reason, const CatalogIndex& catalog,
                                absl::Time now, const ValidationLimits& limits) {
  // The batch rules (request id, size, every key, duplicates) on key-only
  // values: the key's violations are renamed "keys[i].…" and the payload's
  // and source's (a withdrawal has none) left out.
  google::protobuf::RepeatedPtrField<v1::DataValue> values;
  for (const v1::DataKey& key : keys) {
    *values.Add()->mutable_key() = key;
  }
  std::vector<FieldViolation> out;
  const absl::Status batch = ValidateBatch(request_id, values, catalog, now, limits);
  for (FieldViolation& v : BadRequestViolations(batch)) {
    absl::string_view field = v.field;
    if (field == "request_id") {
      out.push_back(std::move(v));
    } else if (field == "data_values") {
      out.push_back({"keys", std::move(v.description)});
    } else if (absl::ConsumePrefix(&field, "data_values[")) {
      const size_t close = field.find(']');
      if (close == absl::string_view::npos) {
        continue;
      }
      const absl::string_view index = field.substr(0, close);
      absl::string_view rest = field.substr(close + 1);
      if (rest == ".key" || absl::ConsumePrefix(&rest, ".key.")) {
        out.push_back({absl::StrCat("keys[", index, "]", rest == ".key" ? "" : ".",
                                    rest == ".key" ? "" : rest),
                       std::move(v.description)});
      }
    }
  }
  if (reason.empty()) {
    out.push_back({"reason", "撤回必须说明原因 / a withdrawal requires a reason"});
  } else {
    CheckString(out, "reason", reason, limits.max_note_bytes, true, "撤回原因", "reason");
  }
  if (!out.empty()) {
    return InvalidArgumentError(
        absl::StrFormat("撤回请求校验未通过，共%d处问题 / %d problem(s) in the withdrawal",
                        out.size(), out.size()),
        out);
  }
  return absl::OkStatus();
}

}  // namespace halfsky::submission
