#ifndef HALFSKY_SERVICES_HALFSKYCTL_EXPORT_EXPORT_XLSX_H_
#define HALFSKY_SERVICES_HALFSKYCTL_EXPORT_EXPORT_XLSX_H_

// `halfskyctl export --format xlsx`: the aggregates as a statistical
// compendium (统计资料). The service exports CSV (AggregationService.Export,
// EXPORT_FORMAT_CSV); this turns that CSV into CompendiumSheets
// (views/report_render.h) written by views/xlsx_tables.h: a 说明 sheet,
// then one sheet per catalog domain (catalog order, every domain, also
// those without rows) with the domain's rows in the export's order,
// Chinese column names, numbers typed (年份, 数值, 分子, 分母, 参与汇总区域数,
// 下级汇总值, 数据序号), sex and residence as their labels (合计/女/男,
// 全部/城镇/农村). What the figures cover is the export's own columns
// (直报, 参与汇总区域数, 缺报区域). Pure; thread-safe.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/views/report_render.h"
#include "halfsky/v1/catalog.pb.h"

namespace halfsky {

// INVALID_ARGUMENT if `csv` is not the service's CSV export (its header).
absl::StatusOr<std::vector<views::CompendiumSheet>> ExportCompendium(
    const halfsky::v1::Catalog& catalog, const std::string& csv);

}  // namespace halfsky

#endif  // HALFSKY_SERVICES_HALFSKYCTL_EXPORT_EXPORT_XLSX_H_
