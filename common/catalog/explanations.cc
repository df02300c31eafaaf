// The 指标解释 completeness check of `halfskyctl catalog lint`
// (LintOptions::require_explanations).
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/catalog/validate.h"

namespace halfsky {
namespace catalog_internal {

namespace v1 = ::halfsky::v1;

std::vector<CatalogProblem> CheckExplanations(const v1::Catalog& catalog,
                                              const CatalogLocations* locations) {
  std::vector<CatalogProblem> problems;
  for (int i = 0; i < catalog.indicators_size(); ++i) {
    const v1::Indicator& ind = catalog.indicators(i);
    if (ind.kind() == v1::INDICATOR_KIND_QUALITATIVE ||
        ind.kind() == v1::INDICATOR_KIND_UNSPECIFIED) {
      continue;
    }
    const v1::IndicatorExplanation& e = ind.explanation();
    std::vector<std::string> zh, en;
    auto need = [&](const std::string& value, const char* name_zh, const char* name_en) {
      if (absl::StripAsciiWhitespace(value).empty()) {
        zh.push_back(name_zh);
        en.push_back(name_en);
      }
    };
    need(e.definition_zh(), "指标含义", "definition_zh");
    need(e.formula_zh(), "计算方法", "formula_zh");
    need(e.data_source_zh(), "数据来源", "data_source_zh");
    if (e.wording() == v1::EXPLANATION_WORDING_UNSPECIFIED) {
      zh.push_back("措辞出处");
      en.push_back("wording");
    }
    if (zh.empty()) {
      continue;
    }
    CatalogProblem p;
    if (locations != nullptr && i < static_cast<int>(locations->indicators.size())) {
      p.file = locations->indicators[i].file;
      p.line = locations->indicators[i].line;
    }
    p.id = ind.id();
    p.message = absl::StrCat("数值指标的指标解释缺少", absl::StrJoin(zh, "、"),
                             " / numeric indicator's explanation lacks ", absl::StrJoin(en, ", "));
    problems.push_back(std::move(p));
  }
  return problems;
}

}  // namespace catalog_internal
}  // namespace halfsky
