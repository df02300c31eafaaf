#ifndef HALFSKY_COMMON_VIEWS_STATUS_VIEW_H_
#define HALFSKY_COMMON_VIEWS_STATUS_VIEW_H_

// `halfskyctl status` output: completeness 报送率 and timeliness 按时报送率
// per member unit, then every missing or late figure. Pure functions,
// thread-safe.

#include <map>
#include <string>

#include "halfsky/v1/submission.pb.h"

namespace halfsky::views {

struct StatusNames {
  std::map<std::string, std::string> units;       // code → 名称
  std::map<std::string, std::string> indicators;  // id → 名称
};

// Table 成员单位 | 应报 | 已报 | 按时 | 报送率 | 按时率 with a 合计 row, then
// "未报 / 迟报" entries (unit, indicator, state, due, submitted). With
// `colour`, rates below 100 % are yellow and missing entries red.
std::string RenderReportingStatus(const halfsky::v1::GetReportingStatusResponse& status, int year,
                                  const StatusNames& names, bool colour);
// CSV: unit_code,unit,expected,reported,on_time,completeness_percent,
// timeliness_percent (the overall line has unit_code "" and unit 合计).
std::string RenderReportingStatusCsv(const halfsky::v1::GetReportingStatusResponse& status,
                                     const StatusNames& names);

// True when an entry is MISSING or LATE.
bool HasReportingProblems(const halfsky::v1::GetReportingStatusResponse& status);

}  // namespace halfsky::views

#endif  // HALFSKY_COMMON_VIEWS_STATUS_VIEW_H_
