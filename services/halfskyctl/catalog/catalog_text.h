#ifndef HALFSKY_SERVICES_HALFSKYCTL_CATALOG_CATALOG_TEXT_H_
#define HALFSKY_SERVICES_HALFSKYCTL_CATALOG_CATALOG_TEXT_H_

// Text rendering helpers for `halfskyctl catalog`: Chinese-first
// descriptions of catalog values. Pure functions, thread-safe. The display
// width helpers live in views/display_width.h, shared by every command.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/catalog/catalog.h"
#include "common/views/display_width.h"  // DisplayWidth, PadToWidth
#include "halfsky/v1/catalog.pb.h"

namespace halfsky {

// Short forms for tables and docs, e.g. "≤ 10.15 (2030)", "≥ 95 每年",
// "45 左右 ±2 每年", "逐步提高 (2030)", "城乡差距缩小 (2030)".
std::string TargetSummary(const halfsky::v1::Target& target,
                          const halfsky::v1::Indicator& indicator);
// e.g. "比例 PROPORTION", "率 RATE ×100000".
std::string KindText(const halfsky::v1::Indicator& indicator);
// e.g. "越高越好 higher is better".
std::string DirectionText(halfsky::v1::Direction direction);
// e.g. "≥ 至少 AT_LEAST".
std::string ComparatorText(halfsky::v1::Comparator comparator);
std::string DisaggregationText(halfsky::v1::Disaggregation d);
std::string DataSourceText(halfsky::v1::DataSource s);
std::string AreaLevelText(halfsky::v1::AreaLevel level);
std::string ResidenceText(halfsky::v1::Residence residence);
// The indicator's 指标解释 as (label, text) lines, in the order a reporting
// system (报表制度) prints it: 指标含义, 计算方法, 计量单位, 分子, 分母, 说明,
// 数据来源 (kind and concrete source), 责任单位, 牵头单位, 措辞出处. Parts
// the indicator lacks are left out. Member units are named from `index`.
std::vector<std::pair<std::string, std::string>> ExplanationLines(
    const CatalogIndex& index, const halfsky::v1::Indicator& indicator);
// Who wrote the wording, e.g. "本系统依通行统计口径拟定，待责任单位确认 /
// drafted by halfsky ...", or "未注明 / not stated".
std::string WordingText(halfsky::v1::ExplanationWording wording);
// A number without trailing zeros: 10.15, 95, 0.5.
std::string FormatNumber(double v);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_CATALOG_CATALOG_TEXT_H_
