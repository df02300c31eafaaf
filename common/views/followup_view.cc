#include "common/views/followup_view.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/labels/labels.h"
#include "common/views/json.h"
#include "common/views/labels.h"
#include "common/views/table.h"

namespace halfsky::views {
namespace {

namespace v1 = ::halfsky::v1;

std::string Date(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) {
    return "";
  }
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(ts.seconds()),
                          absl::FixedTimeZone(8 * 3600));
}

std::string Subject(const v1::FollowUp& f, const Names& names) {
  const v1::Warning& w = f.warning();
  if (w.id().empty()) {
    return f.warning_id();
  }
  return WarningSubjectZh(w, names.units, names.indicators);
}

std::string MdCell(std::string s) {
  s = absl::StrReplaceAll(s, {{"|", "\\|"}, {"\n", " "}, {"\r", ""}});
  return s.empty() ? "—" : s;
}

}  // namespace

std::string FollowUpStateToken(const v1::FollowUp& f, int64_t now) {
  if (f.state() == v1::FOLLOW_UP_STATE_CLOSED) {
    return "closed";
  }
  if (f.has_escalation()) {
    return "escalated";
  }
  if (f.has_plan()) {
    return f.plan().due().seconds() < now ? "overdue" : "planned";
  }
  return "open";
}

std::string FollowUpStateZh(const v1::FollowUp& f, int64_t now) {
  std::string s;
  const std::string token = FollowUpStateToken(f, now);
  if (token == "closed") {
    s = absl::StrCat("已销号（", labels::ShortLabelZh(f.closing()), "）");
  } else if (token == "escalated") {
    s = f.escalation().reason() == v1::ESCALATION_REASON_NO_PLAN ? "升级督办（逾期未制定整改措施）"
                                                                 : "升级督办（超过整改时限）";
  } else if (token == "overdue") {
    s = "已超期";
  } else if (token == "planned") {
    s = labels::LabelZh(v1::FOLLOW_UP_STATE_PLANNED);
  } else {
    s = labels::LabelZh(v1::FOLLOW_UP_STATE_OPEN);
  }
  if (f.has_silence() && f.silence().until().seconds() > now) {
    absl::StrAppend(&s, "，暂缓督办至", Date(f.silence().until()));
  }
  if (f.reopen_count() > 0 && f.state() != v1::FOLLOW_UP_STATE_CLOSED) {
    absl::StrAppend(&s, "（销号后再次预警，第", f.reopen_count(), "次重开）");
  }
  return s;
}

std::string UnitNameZh(const std::string& code, const Names& names) {
  auto it = names.units.find(code);
  return it != names.units.end() ? it->second : code;
}

std::string AskedZh(const v1::FollowUp& f) {
  if (f.has_plan()) {
    return f.plan().measures();
  }
  if (f.state() == v1::FOLLOW_UP_STATE_CLOSED) {
    return "";
  }
  return absl::StrCat("请于", Date(f.plan_required_by()), "前制定整改措施");
}

std::string DueDateZh(const v1::FollowUp& f) {
  if (f.has_plan()) {
    return Date(f.plan().due());
  }
  return f.state() == v1::FOLLOW_UP_STATE_CLOSED ? "" : Date(f.plan_required_by());
}

std::string FollowUpSummaryZh(const v1::FollowUpSummary& s) {
  return absl::StrCat("督办情况（", s.covers_zh(), "）：整改措施按期", s.on_time(), "项、超期",
                      s.overdue(), "项，升级督办", s.escalated(), "项，未制定整改措施", s.no_plan(),
                      "项，已销号", s.closed(), "项，暂缓督办", s.silenced(), "项。");
}

std::string RenderFollowUpsTable(const v1::ListFollowUpsResponse& response, const Names& names,
                                 bool colour) {
  if (response.follow_ups().empty()) {
    return absl::StrCat("没有符合条件的督办记录 / no matching follow-up records\n",
                        FollowUpSummaryZh(response.summary()), "\n");
  }
  const int64_t now = response.summary().as_of().seconds();
  std::vector<Column> columns = {
      {"级别"}, {"预警编号"}, {"指标", false, 24},    {"责任单位"}, {"要求（整改措施）", false, 30},
      {"时限"}, {"状态"},     {"最新进展", false, 30}};
  std::vector<std::vector<Cell>> rows;
  for (const v1::FollowUp& f : response.follow_ups()) {
    const v1::Severity sev = f.warning().severity();
    rows.push_back({{SeverityLabelZh(sev), SeveritySgr(SeverityToken(sev))},
                    {f.warning_id(), ""},
                    {Subject(f, names), ""},
                    {UnitNameZh(f.owner_unit_code(), names), ""},
                    {AskedZh(f), ""},
                    {DueDateZh(f), ""},
                    {FollowUpStateZh(f, now), f.has_escalation() ? "1;31" : ""},
                    {f.last_note(), ""}});
  }
  return absl::StrCat(RenderTable(columns, rows, colour), FollowUpSummaryZh(response.summary()),
                      "\n");
}

std::string RenderFollowUpsJson(const v1::ListFollowUpsResponse& response) {
  return ProtoJson(response, true);
}

std::string RenderFollowUpJson(const v1::FollowUp& f) { return ProtoJson(f, true); }

std::string RenderFollowUpHistory(const v1::FollowUp& f, const Names& names) {
  std::string o = absl::StrCat(f.warning_id(), "  ", Subject(f, names), "\n责任单位：",
                               UnitNameZh(f.owner_unit_code(), names), "　状态：",
                               FollowUpStateZh(f, f.updated_at().seconds()), "\n要求：", AskedZh(f),
                               "　时限：", DueDateZh(f), "\n");
  std::vector<Column> columns = {{"时间"}, {"人员"}, {"轮次", true}, {"步骤"}, {"说明"}};
  std::vector<std::vector<Cell>> rows;
  for (const v1::FollowUpStep& s : f.steps()) {
    rows.push_back({{FormatTime(s.at()), ""},
                    {s.by(), ""},
                    {absl::StrCat(s.episode()), ""},
                    {labels::ShortLabelZh(s.kind()), ""},
                    {s.text(), ""}});
  }
  return o + RenderTable(columns, rows, false);
}

std::string RenderFollowUpEventLine(const v1::FollowUpEvent& event, const Names& names,
                                    bool colour) {
  if (event.type() == v1::FOLLOW_UP_EVENT_TYPE_SYNCED) {
    return absl::StrCat("— 已同步，等待变化 / synced, watching (", FormatTime(event.at()), ") —\n");
  }
  const v1::FollowUp& f = event.follow_up();
  const v1::Severity sev = f.warning().severity();
  const std::string text = event.has_step() ? event.step().text() : AskedZh(f);
  return absl::StrCat(
      FormatTime(event.at()), "  ",
      Paint(labels::ShortLabelZh(event.type()),
            event.type() == v1::FOLLOW_UP_EVENT_TYPE_ESCALATED ? "1;31" : "", colour),
      "  ", Paint(SeverityLabelZh(sev), SeveritySgr(SeverityToken(sev)), colour), "  ",
      f.warning_id(), "  ", UnitNameZh(f.owner_unit_code(), names), "  ", text, "\n");
}

std::string RenderFollowUpEventJson(const v1::FollowUpEvent& event) {
  return ProtoJson(event, false);
}

std::string ReportFollowUpsHtml(const v1::EvaluationReport& report, const Names& names,
                                std::string (*esc)(absl::string_view)) {
  if (!report.has_follow_up_summary()) {
    return "";
  }
  const int64_t now = report.follow_up_summary().as_of().seconds();
  std::string o = absl::StrCat("<h2>督办情况</h2>\n<p class=\"followup-summary\">",
                               esc(FollowUpSummaryZh(report.follow_up_summary())), "</p>\n");
  if (report.follow_ups().empty()) {
    return o;
  }
  absl::StrAppend(&o,
                  "<table class=\"followups\">\n<thead><tr><th>级别</th><th>指标</th>"
                  "<th>责任单位</th><th>整改措施</th><th>整改时限</th><th>状态</th></tr>"
                  "</thead>\n<tbody>\n");
  for (const v1::FollowUp& f : report.follow_ups()) {
    const v1::Severity sev = f.warning().severity();
    absl::StrAppend(&o, "<tr data-followup=\"", esc(f.warning_id()),
                    "\"><td style=\"color:", SeverityColour(sev), "\">", SeverityLabelZh(sev),
                    "</td><td>", esc(Subject(f, names)), "</td><td>",
                    esc(UnitNameZh(f.owner_unit_code(), names)), "</td><td>", esc(AskedZh(f)),
                    "</td><td>", esc(DueDateZh(f)), "</td><td>", esc(FollowUpStateZh(f, now)),
                    "</td></tr>\n");
  }
  absl::StrAppend(&o, "</tbody>\n</table>\n");
  return o;
}

std::string ReportFollowUpsMarkdown(const v1::EvaluationReport& report, const Names& names) {
  if (!report.has_follow_up_summary()) {
    return "";
  }
  const int64_t now = report.follow_up_summary().as_of().seconds();
  std::string o =
      absl::StrCat("\n## 督办情况\n\n", FollowUpSummaryZh(report.follow_up_summary()), "\n\n");
  if (report.follow_ups().empty()) {
    return o;
  }
  o += "| 级别 | 指标 | 责任单位 | 整改措施 | 整改时限 | 状态 |\n|---|---|---|---|---|---|\n";
  for (const v1::FollowUp& f : report.follow_ups()) {
    absl::StrAppend(&o, "| ", SeverityLabelZh(f.warning().severity()), " | ",
                    MdCell(Subject(f, names)), " | ",
                    MdCell(UnitNameZh(f.owner_unit_code(), names)), " | ", MdCell(AskedZh(f)),
                    " | ", MdCell(DueDateZh(f)), " | ", MdCell(FollowUpStateZh(f, now)), " |\n");
  }
  return o;
}

}  // namespace halfsky::views
