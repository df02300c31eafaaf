#include "common/views/status_view.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/views/labels.h"
#include "common/views/table.h"

namespace halfsky::views {

namespace v1 = ::halfsky::v1;

namespace {

std::string Lookup(const std::map<std::string, std::string>& m, const std::string& code) {
  auto it = m.find(code);
  return it != m.end() ? it->second : code;
}

std::string Percent(double p) { return absl::StrCat(FormatValue(p, 1), "%"); }

}  // namespace

bool HasReportingProblems(const v1::GetReportingStatusResponse& status) {
  for (const auto& e : status.entries()) {
    if (e.state() == v1::REPORTING_STATE_MISSING || e.state() == v1::REPORTING_STATE_LATE) {
      return true;
    }
  }
  return false;
}

std::string RenderReportingStatus(const v1::GetReportingStatusResponse& status, int year,
                                  const StatusNames& names, bool colour) {
  std::string out =
      Paint(absl::StrCat(year, "年数据报送情况 / reporting status ", year), "1", colour) + "\n\n";
  const std::vector<Column> columns = {{"成员单位 unit"}, {"应报", true},   {"已报", true},
                                       {"按时", true},    {"报送率", true}, {"按时率", true}};
  std::vector<std::vector<Cell>> rows;
  auto row = [&](const v1::ReportingSummary& s, const std::string& name) {
    const char* c_sgr = s.completeness_percent() < 100 ? "33" : "";
    const char* t_sgr = s.timeliness_percent() < 100 ? "33" : "";
    rows.push_back({{name, ""},
                    {absl::StrCat(s.expected_count()), ""},
                    {absl::StrCat(s.reported_count()), ""},
                    {absl::StrCat(s.on_time_count()), ""},
                    {Percent(s.completeness_percent()), c_sgr},
                    {Percent(s.timeliness_percent()), t_sgr}});
  };
  std::vector<const v1::ReportingSummary*> units;
  for (const auto& s : status.units()) {
    units.push_back(&s);
  }
  std::stable_sort(units.begin(), units.end(),
                   [](const v1::ReportingSummary* a, const v1::ReportingSummary* b) {
                     return a->unit_code() < b->unit_code();
                   });
  for (const auto* s : units) {
    const std::string name = Lookup(names.units, s->unit_code());
    row(*s, name == s->unit_code() ? name : absl::StrCat(name, " ", s->unit_code()));
  }
  row(status.overall(), "合计 total");
  out += RenderTable(columns, rows, colour);

  std::vector<std::vector<Cell>> problems;
  for (const auto& e : status.entries()) {
    if (e.state() != v1::REPORTING_STATE_MISSING && e.state() != v1::REPORTING_STATE_LATE) {
      continue;
    }
    const std::string ind = Lookup(names.indicators, e.indicator_id());
    problems.push_back(
        {{Lookup(names.units, e.unit_code()), ""},
         {ind == e.indicator_id() ? ind : absl::StrCat(e.indicator_id(), " ", ind), ""},
         {ReportingStateLabelZh(e.state()),
          e.state() == v1::REPORTING_STATE_MISSING ? "1;31" : "33"},
         {FormatTime(e.due_at()), ""},
         {FormatTime(e.last_submitted_at()), ""}});
  }
  if (problems.empty()) {
    out += "\n全部按时报送 / everything reported on time\n";
  } else {
    out += absl::StrCat("\n未报 / 迟报 missing or late (", problems.size(), ")\n\n");
    out += RenderTable(
        {{"成员单位 unit"}, {"指标 indicator"}, {"状态"}, {"应报日期 due"}, {"报送时间 submitted"}},
        problems, colour);
  }
  return out;
}

std::string RenderReportingStatusCsv(const v1::GetReportingStatusResponse& status,
                                     const StatusNames& names) {
  std::string out = CsvLine({"unit_code", "unit", "expected", "reported", "on_time",
                             "completeness_percent", "timeliness_percent"});
  auto line = [&](const v1::ReportingSummary& s, const std::string& name) {
    out +=
        CsvLine({s.unit_code(), name, absl::StrCat(s.expected_count()),
                 absl::StrCat(s.reported_count()), absl::StrCat(s.on_time_count()),
                 FormatValue(s.completeness_percent(), 2), FormatValue(s.timeliness_percent(), 2)});
  };
  for (const auto& s : status.units()) {
    line(s, Lookup(names.units, s.unit_code()));
  }
  line(status.overall(), "合计");
  return out;
}

}  // namespace halfsky::views
