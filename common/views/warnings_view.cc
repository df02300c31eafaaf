#include "common/views/warnings_view.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/views/display_width.h"
#include "common/views/json.h"
#include "common/views/labels.h"
#include "common/views/table.h"

namespace halfsky::views {

namespace v1 = ::halfsky::v1;

namespace {

std::string Lookup(const std::map<std::string, std::string>& m, const std::string& code) {
  auto it = m.find(code);
  return it != m.end() ? it->second : code;
}

std::string Rfc3339(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) {
    return "";
  }
  static const absl::TimeZone kDistrict = absl::FixedTimeZone(8 * 3600);
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", absl::FromUnixSeconds(ts.seconds()), kDistrict);
}

std::string Opt(bool has, double v) { return has ? FormatValue(v, 6) : ""; }

std::vector<std::string> CsvFields(const v1::Warning& w, const Names& names) {
  std::vector<std::string> units;
  for (const auto& u : w.responsible_unit_codes()) {
    units.push_back(u);
  }
  const v1::Figures& f = w.figures();
  return {w.id(),
          SeverityToken(w.severity()),
          KindToken(w.kind()),
          StateToken(w.state()),
          StatusToken(w.status()),
          w.domain_id(),
          w.indicator_id(),
          w.indicator_name_zh(),
          w.area_code(),
          Lookup(names.areas, w.area_code()),
          w.target_year() != 0 ? absl::StrCat(w.target_year()) : "",
          w.data_year() != 0 ? absl::StrCat(w.data_year()) : "",
          Opt(f.has_base_value(), f.base_value()),
          Opt(f.has_current_value(), f.current_value()),
          Opt(f.has_target_value(), f.target_value()),
          Opt(f.has_projected_value(), f.projected_value()),
          absl::StrJoin(units, ";"),
          Rfc3339(w.firing_since()),
          w.has_acknowledgement() ? w.acknowledgement().by() : "",
          w.has_acknowledgement() ? w.acknowledgement().note() : "",
          w.explanation_zh(),
          w.unit_code(),
          w.unit_code().empty() ? "" : Lookup(names.units, w.unit_code()),
          absl::StrJoin(w.missing_indicator_ids(), ";"),
          IsUnitWarning(w) ? absl::StrCat(w.days_overdue()) : ""};
}

}  // namespace

Names NamesFromCatalog(const v1::Catalog& catalog) {
  Names n;
  for (const auto& a : catalog.areas()) {
    n.areas[a.code()] = a.name_zh();
  }
  for (const auto& u : catalog.member_units()) {
    n.units[u.code()] = u.name_zh();
  }
  for (const auto& i : catalog.indicators()) {
    n.indicators[i.id()] = i.name_zh();
  }
  return n;
}

void SortWarnings(std::vector<v1::Warning>* warnings) {
  std::stable_sort(warnings->begin(), warnings->end(), WarningBefore);
}

std::string RenderWarningsTable(const std::vector<v1::Warning>& warnings, const Names& names,
                                bool colour) {
  if (warnings.empty()) {
    return "没有符合条件的预警 / no matching warnings\n";
  }
  const std::vector<Column> columns = {{"级别"}, {"编号 id"},    {"指标"}, {"区域"}, {"类型"},
                                       {"状态"}, {"年份", true}, {"确认"}, {"说明"}};
  std::vector<std::vector<Cell>> rows;
  int red = 0;
  int orange = 0;
  int yellow = 0;
  for (const auto& w : warnings) {
    red += w.severity() == v1::SEVERITY_RED;
    orange += w.severity() == v1::SEVERITY_ORANGE;
    yellow += w.severity() == v1::SEVERITY_YELLOW;
    std::string status = IsUnitWarning(w) ? OverdueZh(w)
                         : w.kind() == v1::WARNING_KIND_LATE_DATA ||
                                 w.kind() == v1::WARNING_KIND_DATA_QUALITY ||
                                 w.kind() == v1::WARNING_KIND_FLUCTUATION
                             ? std::string()
                             : std::string(StatusLabelZh(w.status()));
    if (w.state() == v1::WARNING_STATE_RESOLVED) {
      status = status.empty() ? "已解除" : absl::StrCat(status, "（已解除）");
    }
    rows.push_back({
        {SeverityLabelZh(w.severity()), SeveritySgr(SeverityToken(w.severity()))},
        {w.id(), ""},
        {WarningSubjectZh(w, names.units, names.indicators), ""},
        {Lookup(names.areas, w.area_code()), ""},
        {KindLabelZh(w.kind()), ""},
        {status, ""},
        {w.data_year() != 0 ? absl::StrCat(w.data_year()) : "", ""},
        {w.has_acknowledgement() ? "✓" : "", w.has_acknowledgement() ? "32" : ""},
        {w.explanation_zh(), ""},
    });
  }
  return absl::StrCat(RenderTable(columns, rows, colour), "\n共 ", warnings.size(), " 条 / ",
                      warnings.size(), " warnings（",
                      Paint(absl::StrCat("红 ", red), SeveritySgr("red"), colour), " · ",
                      Paint(absl::StrCat("橙 ", orange), SeveritySgr("orange"), colour), " · ",
                      Paint(absl::StrCat("黄 ", yellow), SeveritySgr("yellow"), colour), "）\n");
}

std::string RenderWarningsJson(const std::vector<v1::Warning>& warnings) {
  v1::ListWarningsResponse response;
  for (const auto& w : warnings) {
    *response.add_warnings() = w;
  }
  response.set_total_count(static_cast<int>(warnings.size()));
  return ProtoJson(response, true);
}

std::string WarningsCsvHeader(bool with_event) {
  std::vector<std::string> h = {"id",
                                "severity",
                                "kind",
                                "state",
                                "status",
                                "domain_id",
                                "indicator_id",
                                "indicator",
                                "area_code",
                                "area",
                                "target_year",
                                "data_year",
                                "base_value",
                                "current_value",
                                "target_value",
                                "projected_value",
                                "responsible_units",
                                "firing_since",
                                "acknowledged_by",
                                "note",
                                "explanation_zh",
                                "unit_code",
                                "unit",
                                "missing_indicator_ids",
                                "days_overdue"};
  if (with_event) {
    h.insert(h.begin(), {"event", "at"});
  }
  return CsvLine(h);
}

std::string RenderWarningsCsv(const std::vector<v1::Warning>& warnings, const Names& names) {
  std::string out = WarningsCsvHeader(false);
  for (const auto& w : warnings) {
    out += CsvLine(CsvFields(w, names));
  }
  return out;
}

namespace {

const char* EventToken(v1::WarningEventType type) {
  switch (type) {
    case v1::WARNING_EVENT_TYPE_CURRENT:
      return "current";
    case v1::WARNING_EVENT_TYPE_SYNCED:
      return "synced";
    case v1::WARNING_EVENT_TYPE_FIRED:
      return "fired";
    case v1::WARNING_EVENT_TYPE_UPDATED:
      return "updated";
    case v1::WARNING_EVENT_TYPE_RESOLVED:
      return "resolved";
    case v1::WARNING_EVENT_TYPE_ACKNOWLEDGED:
      return "acknowledged";
    default:
      return "";
  }
}

}  // namespace

std::string RenderEventLine(const v1::WarningEvent& event, const Names& names, bool colour) {
  if (event.type() == v1::WARNING_EVENT_TYPE_SYNCED) {
    return "── 以上为当前预警，以下为实时变化 / current set above, live changes below ──\n";
  }
  const v1::Warning& w = event.warning();
  const std::string sgr = event.type() == v1::WARNING_EVENT_TYPE_RESOLVED
                              ? "32"
                              : SeveritySgr(SeverityToken(w.severity()));
  std::string line = absl::StrCat(
      FormatTime(event.at()), event.at().seconds() != 0 ? "  " : "",
      PadToWidth(EventLabelZh(event.type()), 6), "  ",
      Paint(PadToWidth(SeverityLabelZh(w.severity()), 8), sgr, colour), "  ", w.id(), "  ",
      IsUnitWarning(w) ? WarningSubjectZh(w, names.units, names.indicators)
                       : w.indicator_name_zh());
  const std::string area = Lookup(names.areas, w.area_code());
  if (!area.empty()) {
    absl::StrAppend(&line, "（", area, "）");
  }
  absl::StrAppend(&line, "  ", w.explanation_zh());
  if (event.type() == v1::WARNING_EVENT_TYPE_ACKNOWLEDGED && w.has_acknowledgement()) {
    absl::StrAppend(&line, "  对策建议（", w.acknowledgement().by(), "）：",
                    w.acknowledgement().note());
  }
  return line + "\n";
}

std::string RenderEventJson(const v1::WarningEvent& event) { return ProtoJson(event, false); }

std::string RenderEventCsv(const v1::WarningEvent& event, const Names& names) {
  if (event.type() == v1::WARNING_EVENT_TYPE_SYNCED) {
    return "";
  }
  std::vector<std::string> fields = CsvFields(event.warning(), names);
  fields.insert(fields.begin(), {EventToken(event.type()), Rfc3339(event.at())});
  return CsvLine(fields);
}

}  // namespace halfsky::views
