#ifndef HALFSKY_COMMON_VIEWS_WARNINGS_VIEW_H_
#define HALFSKY_COMMON_VIEWS_WARNINGS_VIEW_H_

// `halfskyctl warnings` output: a table sorted by severity and aligned by
// display width, JSON and CSV; one line per event for --watch. Pure
// functions, thread-safe.

#include <map>
#include <string>
#include <vector>

#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/evaluation.pb.h"

namespace halfsky::views {

// Names used instead of codes where known.
struct Names {
  std::map<std::string, std::string> areas;       // code → 名称
  std::map<std::string, std::string> units;       // code → 名称
  std::map<std::string, std::string> indicators;  // id → 名称
};

// Names of every area, member unit and indicator of `catalog`.
Names NamesFromCatalog(const halfsky::v1::Catalog& catalog);

// Red first, then orange, yellow; then indicator id, area code, kind,
// target year, id; a severity's per-unit late-data warnings after its
// indicators' warnings (views::WarningBefore).
void SortWarnings(std::vector<halfsky::v1::Warning>* warnings);

// Columns: 级别 | 编号 | 指标 | 区域 | 类型 | 状态 | 年份 | 确认 | 说明, then
// a count line. A per-unit late-data warning shows the unit and its
// missing indicators in 指标 (views::WarningSubjectZh, at most 3 listed)
// and 「逾期N天」 in 状态. `colour` paints the severity (red/orange/yellow, ANSI).
// An empty list prints "没有符合条件的预警 / no matching warnings".
std::string RenderWarningsTable(const std::vector<halfsky::v1::Warning>& warnings,
                                const Names& names, bool colour);
// {"warnings": [...], "total_count": N}, protobuf JSON with proto field
// names, two-space indent.
std::string RenderWarningsJson(const std::vector<halfsky::v1::Warning>& warnings);
// Header + one line per warning (see WarningsCsvHeader).
std::string RenderWarningsCsv(const std::vector<halfsky::v1::Warning>& warnings,
                              const Names& names);
// id,severity,kind,state,status,domain_id,indicator_id,indicator,area_code,
// area,target_year,data_year,base_value,current_value,target_value,
// projected_value,responsible_units,firing_since,acknowledged_by,note,
// explanation_zh,unit_code,unit,missing_indicator_ids,days_overdue — with a
// leading `event,at` when `with_event`. The last four are filled for a
// per-unit late-data warning only (ids ";"-separated, every one listed).
std::string WarningsCsvHeader(bool with_event);

// --watch: one line per event. Table: "时间  事件  级别  编号  指标  说明";
// JSON: the WarningEvent on one line; CSV: event, at, then the warning's
// CSV fields. SYNCED prints a marker line in table format, nothing in CSV
// and the event in JSON.
std::string RenderEventLine(const halfsky::v1::WarningEvent& event, const Names& names,
                            bool colour);
std::string RenderEventJson(const halfsky::v1::WarningEvent& event);
std::string RenderEventCsv(const halfsky::v1::WarningEvent& event, const Names& names);

}  // namespace halfsky::views

#endif  // HALFSKY_COMMON_VIEWS_WARNINGS_VIEW_H_
