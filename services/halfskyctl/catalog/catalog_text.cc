#include "services/halfskyctl/catalog/catalog_text.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/labels/labels.h"
#include "google/protobuf/descriptor.h"

namespace halfsky {

namespace {

// "<label_zh> <NAME>" with NAME the value's name without the enum's prefix
// (COMPARATOR_AT_LEAST → "≥ 达到/以上 AT_LEAST"); `fallback` for a value
// without a label.
template <typename Enum>
std::string ZhAndName(Enum value, absl::string_view prefix, absl::string_view fallback) {
  const std::string& zh = labels::LabelZh(value);
  if (zh.empty()) {
    return std::string(fallback);
  }
  const google::protobuf::EnumValueDescriptor* v =
      google::protobuf::GetEnumDescriptor<Enum>()->FindValueByNumber(static_cast<int>(value));
  absl::string_view name = v->name();
  absl::ConsumePrefix(&name, prefix);
  return absl::StrCat(zh, " ", name);
}

// "<label_zh> <label_en>" (DIRECTION_HIGHER_IS_BETTER → "越高越好 higher is
// better"); `fallback` for a value without a label.
template <typename Enum>
std::string ZhAndEn(Enum value, absl::string_view fallback) {
  const std::string& zh = labels::LabelZh(value);
  if (zh.empty()) {
    return std::string(fallback);
  }
  return absl::StrCat(zh, " ", labels::LabelEn(value));
}

}  // namespace

std::string FormatNumber(double v) { return absl::StrFormat("%.10g", v); }

std::string TargetSummary(const v1::Target& t, const v1::Indicator& indicator) {
  std::string unit = indicator.unit();
  const std::string value = t.has_value() ? FormatNumber(t.value()) + unit : "";
  std::string s;
  switch (t.comparator()) {
    case v1::COMPARATOR_AT_LEAST:
      s = "≥ " + value;
      break;
    case v1::COMPARATOR_AT_MOST:
      s = "≤ " + value;
      break;
    case v1::COMPARATOR_BELOW:
      s = "< " + value;
      break;
    case v1::COMPARATOR_ABOUT:
      s = value + " 左右";
      if (t.tolerance() > 0) {
        absl::StrAppend(&s, " ±", FormatNumber(t.tolerance()));
      }
      break;
    case v1::COMPARATOR_MAINTAIN_AT_LEAST:
      s = "保持 ≥ " + value;
      break;
    case v1::COMPARATOR_MAINTAIN_AT_MOST:
      s = "保持 ≤ " + value;
      break;
    case v1::COMPARATOR_INCREASE:
      s = "提高 ↑";
      break;
    case v1::COMPARATOR_DECREASE:
      s = "降低 ↓";
      break;
    case v1::COMPARATOR_DECREASE_EACH_YEAR:
      s = "逐年降低 ↓";
      break;
    case v1::COMPARATOR_NARROW_GAP:
      s = t.gap_dimension() == v1::GAP_DIMENSION_SEX         ? "性别差距缩小"
          : t.gap_dimension() == v1::GAP_DIMENSION_RESIDENCE ? "城乡差距缩小"
                                                             : "差距缩小";
      if (t.has_value()) {
        absl::StrAppend(&s, " 至 ", value);
      }
      break;
    default:
      s = "?";
  }
  if (t.sex() == v1::SEX_FEMALE) {
    s = "女性 " + s;
  } else if (t.sex() == v1::SEX_MALE) {
    s = "男性 " + s;
  }
  if (t.residence() == v1::RESIDENCE_URBAN) {
    s = "城镇 " + s;
  } else if (t.residence() == v1::RESIDENCE_RURAL) {
    s = "农村 " + s;
  }
  if (t.every_year()) {
    absl::StrAppend(&s, " 每年");
  } else {
    absl::StrAppend(&s, " (", t.year(), ")");
  }
  return s;
}

std::string KindText(const v1::Indicator& indicator) {
  std::string s = ZhAndName(indicator.kind(), "INDICATOR_KIND_", "?");
  if (indicator.kind() == v1::INDICATOR_KIND_RATE) {
    absl::StrAppend(&s, " ×", FormatNumber(indicator.multiplier()));
  }
  return s;
}

std::string DirectionText(v1::Direction direction) { return ZhAndEn(direction, "无方向 none"); }

std::string ComparatorText(v1::Comparator c) { return ZhAndName(c, "COMPARATOR_", "?"); }

std::string DisaggregationText(v1::Disaggregation d) { return ZhAndEn(d, "?"); }

std::string WordingText(v1::ExplanationWording wording) {
  const std::string& zh = labels::LabelZh(wording);
  if (zh.empty()) {
    return "未注明 / not stated";
  }
  return absl::StrCat(zh, " / ", labels::LabelEn(wording));
}

std::vector<std::pair<std::string, std::string>> ExplanationLines(const CatalogIndex& index,
                                                                  const v1::Indicator& ind) {
  std::vector<std::pair<std::string, std::string>> lines;
  auto add = [&](const char* label, const std::string& text) {
    if (!text.empty()) {
      lines.emplace_back(label, text);
    }
  };
  auto unit = [&](const std::string& code) {
    const v1::MemberUnit* u = index.FindMemberUnit(code);
    return absl::StrCat(u != nullptr ? u->name_zh() : code, " (", code, ")");
  };
  const v1::IndicatorExplanation& e = ind.explanation();
  add("指标含义 definition", e.definition_zh());
  add("计算方法 formula", e.formula_zh());
  add("计量单位 unit", ind.unit());
  add("分子 numerator", ind.definition().numerator_zh());
  add("分母 denominator", ind.definition().denominator_zh());
  add("说明 note", ind.definition().note_zh());
  if (ind.kind() != v1::INDICATOR_KIND_QUALITATIVE) {
    add("数据来源 source",
        e.data_source_zh().empty()
            ? DataSourceText(ind.data_source())
            : absl::StrCat(e.data_source_zh(), "（", DataSourceText(ind.data_source()), "）"));
  }
  std::vector<std::string> units;
  for (const std::string& code : ind.responsible_unit_codes()) {
    units.push_back(unit(code));
  }
  add("责任单位 responsible", absl::StrJoin(units, "、"));
  if (!CatalogIndex::LeadUnit(ind).empty()) {
    add("牵头单位 lead", unit(CatalogIndex::LeadUnit(ind)));
  }
  if (ind.kind() != v1::INDICATOR_KIND_QUALITATIVE || e.wording() != 0) {
    add("解释出处 wording", WordingText(e.wording()));
  }
  return lines;
}

std::string DataSourceText(v1::DataSource s) { return ZhAndEn(s, "未指定 unspecified"); }

std::string AreaLevelText(v1::AreaLevel level) {
  switch (level) {
    case v1::AREA_LEVEL_DISTRICT:
      return "区";
    case v1::AREA_LEVEL_TOWN:
      return "镇";
    case v1::AREA_LEVEL_SUBDISTRICT:
      return "街道";
    case v1::AREA_LEVEL_VILLAGE:
      return "村";
    case v1::AREA_LEVEL_COMMUNITY:
      return "社区";
    case v1::AREA_LEVEL_PROVINCE:
      return "省";
    case v1::AREA_LEVEL_CITY:
      return "市";
    case v1::AREA_LEVEL_COUNTY:
      return "县";
    default:
      return "?";
  }
}

std::string ResidenceText(v1::Residence residence) {
  const std::string& label = labels::LabelZh(residence);
  return label.empty() ? "?" : label;
}

}  // namespace halfsky
