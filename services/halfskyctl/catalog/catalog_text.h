#ifndef HALFSKY_SERVICES_HALFSKYCTL_CATALOG_CATALOG_TEXT_H_
#define HALFSKY_SERVICES_HALFSKYCTL_CATALOG_CATALOG_TEXT_H_

// Text rendering helpers for `halfskyctl catalog`: terminal display width
// of UTF-8 text, and Chinese-first descriptions of catalog values. Pure
// functions, thread-safe.

#include <string>

#include "absl/strings/string_view.h"
#include "halfsky/v1/catalog.pb.h"

namespace halfsky {

// Terminal columns `text` (UTF-8) takes: East Asian wide and fullwidth
// characters (CJK ideographs, kana, hangul, fullwidth forms such as "％")
// take 2, combining marks 0, everything else 1. Invalid bytes count 1 each.
int DisplayWidth(absl::string_view text);

// `text` followed by spaces up to `width` display columns (unchanged if
// already as wide or wider).
std::string PadToWidth(absl::string_view text, int width);

// Short forms for tables and docs, e.g. "≤ 10.15 (2030)", "≥ 95 每年",
// "45 左右 ±2 每年", "逐步提高 (2030)", "城乡差距缩小 (2030)".
std::string TargetSummary(const halfsky::v1::Target& target, const halfsky::v1::Indicator& indicator);
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
// A number without trailing zeros: 10.15, 95, 0.5.
std::string FormatNumber(double v);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_CATALOG_CATALOG_TEXT_H_
