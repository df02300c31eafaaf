#include "common/views/review_view.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/labels/labels.h"
#include "common/views/labels.h"
#include "common/views/table.h"

namespace halfsky::views {

namespace v1 = ::halfsky::v1;

namespace {

std::string Named(const std::map<std::string, std::string>& names, const std::string& code) {
  auto it = names.find(code);
  return it == names.end() ? code : absl::StrCat(code, " ", it->second);
}

const char* StateSgr(v1::FormState state) {
  switch (state) {
    case v1::FORM_STATE_RETURNED:
      return "1;31";
    case v1::FORM_STATE_SUBMITTED:
      return "33";
    case v1::FORM_STATE_APPROVED:
      return "32";
    default:
      return "";
  }
}

// The form's words: a return or unlock reason, else the explanation.
std::string FormText(const v1::Form& f) {
  if (!f.reason().empty() &&
      (f.state() == v1::FORM_STATE_RETURNED || f.state() == v1::FORM_STATE_DRAFT)) {
    return absl::StrCat("原因：", f.reason());
  }
  if (!f.explanation().empty()) {
    return absl::StrCat("情况说明：", f.explanation());
  }
  return "";
}

std::string KeyLine(const v1::FormKey& k, const Names& names) {
  return absl::StrCat(Named(names.units, k.unit_code()), " ", Named(names.areas, k.area_code()),
                      " ", k.year(), "年");
}

}  // namespace

std::string RenderViolationsTable(const v1::ValidateDataResponse& response, const Names& names,
                                  bool colour) {
  std::vector<Column> columns = {{"重要性"},     {"规则"},       {"区域"}, {"年份"},
                                 {"左值", true}, {"右值", true}, {"字段"}, {"说明"}};
  std::vector<std::vector<Cell>> rows;
  for (const v1::RuleViolation& v : response.violations()) {
    const bool error = v.importance() == v1::RULE_IMPORTANCE_ERROR;
    rows.push_back({{labels::LabelZh(v.importance()), error ? "1;31" : "33"},
                    {v.rule_id(), ""},
                    {Named(names.areas, v.area_code()), ""},
                    {absl::StrCat(v.year()), ""},
                    {FormatValue(v.left_value(), 6), ""},
                    {FormatValue(v.right_value(), 6), ""},
                    {v.field(), ""},
                    {v.message_zh(), ""}});
  }
  std::string out;
  if (!rows.empty()) {
    out = RenderTable(columns, rows, colour);
  }
  absl::StrAppend(&out, response.violations().empty() ? "逻辑审核通过 / no rule broken。" : "",
                  "错误 ", response.error_count(), " 条，提示 ", response.warning_count(),
                  " 条，已检查 ", response.checked_count(), " 项 / ", response.error_count(),
                  " error(s), ", response.warning_count(), " warning(s), ",
                  response.checked_count(), " check(s)\n");
  return out;
}

std::string RenderFormsTable(const v1::ListFormsResponse& response, const Names& names,
                             bool colour) {
  if (response.forms().empty()) {
    return "（无） / no forms\n";
  }
  std::vector<Column> columns = {{"年份"},   {"单位"}, {"区域"},         {"状态"},
                                 {"经办人"}, {"时间"}, {"原因/情况说明"}};
  std::vector<std::vector<Cell>> rows;
  for (const v1::Form& f : response.forms()) {
    rows.push_back({{absl::StrCat(f.key().year()), ""},
                    {Named(names.units, f.key().unit_code()), ""},
                    {Named(names.areas, f.key().area_code()), ""},
                    {labels::LabelZh(f.state()), StateSgr(f.state())},
                    {f.changed_by(), ""},
                    {FormatTime(f.changed_at()), ""},
                    {FormText(f), ""}});
  }
  return RenderTable(columns, rows, colour);
}

std::string RenderFormLine(const v1::Form& form, const Names& names) {
  std::string out = absl::StrCat(KeyLine(form.key(), names), "：", labels::LabelZh(form.state()),
                                 " / ", labels::Token(form.state()));
  if (const std::string text = FormText(form); !text.empty()) {
    absl::StrAppend(&out, "；", text);
  }
  return absl::StrCat(out, "\n");
}

std::string RenderFormHistory(const v1::GetFormHistoryResponse& response, const Names& names) {
  if (response.events().empty()) {
    return "（无记录，填报中） / no transitions yet (draft)\n";
  }
  std::string out = absl::StrCat(KeyLine(response.events(0).key(), names), "\n");
  std::vector<Column> columns = {{"时间"}, {"操作"}, {"状态"}, {"经办人"}, {"原因/情况说明"}};
  std::vector<std::vector<Cell>> rows;
  for (const v1::FormEvent& e : response.events()) {
    std::string text;
    if (!e.reason().empty()) {
      text = absl::StrCat("原因：", e.reason());
    } else if (!e.explanation().empty()) {
      text = absl::StrCat("情况说明：", e.explanation());
    }
    rows.push_back(
        {{FormatTime(e.at()), ""},
         {labels::LabelZh(e.action()), ""},
         {absl::StrCat(labels::LabelZh(e.from_state()), " → ", labels::LabelZh(e.to_state())), ""},
         {e.actor(), ""},
         {text, ""}});
  }
  absl::StrAppend(&out, RenderTable(columns, rows, false));
  return out;
}

std::string RenderFormWatchLine(const v1::FormWatchEvent& event, const Names& names, bool colour) {
  const std::string tag = absl::StrCat("[", labels::LabelZh(event.type()), "] ");
  if (event.type() == v1::FORM_WATCH_EVENT_TYPE_SYNCED) {
    return absl::StrCat(tag, "以下为实时变化 / live changes follow\n");
  }
  std::string action;
  if (event.type() == v1::FORM_WATCH_EVENT_TYPE_CHANGED) {
    action = absl::StrCat(labels::LabelZh(event.event().action()), "（", event.event().actor(),
                          "，", FormatTime(event.event().at()), "） ");
  }
  return absl::StrCat(tag, Paint(action, StateSgr(event.form().state()), colour),
                      RenderFormLine(event.form(), names));
}

std::string RenderReviewBoard(const v1::GetReviewBoardResponse& board, const Names& names,
                              bool colour) {
  std::vector<Column> columns = {{"单位"},     {"应报", true}, {"已报", true}, {"报表状态"},
                                 {"截止日期"}, {"逾期"},       {"说明"}};
  std::vector<std::vector<Cell>> rows;
  int overdue = 0;
  for (const v1::ReviewBoardRow& r : board.rows()) {
    overdue += r.overdue() ? 1 : 0;
    std::string state = labels::LabelZh(r.form().state());
    if (!r.area_forms().empty()) {
      int approved = 0;
      for (const v1::Form& f : r.area_forms()) {
        approved += f.state() == v1::FORM_STATE_APPROVED ? 1 : 0;
      }
      absl::StrAppend(&state, "（下级 ", approved, "/", r.area_forms_size(), " 已审核）");
    }
    std::string due = FormatTime(r.due_at());
    if (due.size() > 10) {
      due.resize(10);  // the date
    }
    rows.push_back({{Named(names.units, r.unit_code()), ""},
                    {absl::StrCat(r.expected_count()), ""},
                    {absl::StrCat(r.reported_count()), ""},
                    {state, StateSgr(r.form().state())},
                    {due, ""},
                    {r.overdue() ? "逾期" : "", r.overdue() ? "1;31" : ""},
                    {FormText(r.form()), ""}});
  }
  std::string out = RenderTable(columns, rows, colour);
  absl::StrAppend(&out, "报送审核看板 / reporting board ",
                  board.rows().empty() ? 0 : board.rows(0).year(), "：", board.rows_size(),
                  " 个单位，逾期 ", overdue, " 个 / ", overdue, " overdue\n");
  return out;
}

}  // namespace halfsky::views
