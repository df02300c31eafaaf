#ifndef HALFSKY_COMMON_VIEWS_FOLLOWUP_VIEW_H_
#define HALFSKY_COMMON_VIEWS_FOLLOWUP_VIEW_H_

// Follow-up records (督办) for people: the `halfskyctl followup` table, JSON
// and history, one line per --watch event, and the report's 督办情况
// section (HTML and Markdown) with its summary. Pure functions of their
// inputs; thread-safe.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/views/warnings_view.h"
#include "halfsky/v1/evaluation.pb.h"

namespace halfsky::views {

// 「待制定整改措施」「整改中」「已超期」「升级督办（逾期未制定整改措施）」
// 「已销号（数据好转）」…, with 「，暂缓至YYYY-MM-DD」 while silenced.
// `now` judges overdue (seconds since the epoch).
std::string FollowUpStateZh(const halfsky::v1::FollowUp& f, int64_t now_seconds);
// "open", "planned", "overdue", "escalated", "closed".
std::string FollowUpStateToken(const halfsky::v1::FollowUp& f, int64_t now_seconds);
// The unit's name (or code) for `code`.
std::string UnitNameZh(const std::string& code, const Names& names);
// What is asked and by when: the plan's measures and due date, or
// 「请于YYYY-MM-DD前制定整改措施」.
std::string AskedZh(const halfsky::v1::FollowUp& f);
// The due date (YYYY-MM-DD, district time) of the plan, or of the plan
// itself while there is none.
std::string DueDateZh(const halfsky::v1::FollowUp& f);
// The summary sentence: 「督办情况（covers_zh）：整改措施按期N项、超期N项，
// 升级督办N项，未制定整改措施N项，已销号N项，暂缓督办N项。」
std::string FollowUpSummaryZh(const halfsky::v1::FollowUpSummary& s);

// Columns: 级别 | 预警编号 | 指标 | 责任单位 | 要求（整改措施） | 时限 |
// 状态 | 最新进展; then the summary line. Empty: 「没有符合条件的督办记录」.
std::string RenderFollowUpsTable(const halfsky::v1::ListFollowUpsResponse& response,
                                 const Names& names, bool colour);
// The response as protobuf JSON (proto field names, two-space indent).
std::string RenderFollowUpsJson(const halfsky::v1::ListFollowUpsResponse& response);
// One record with its history, one line per step: time, by, step, text.
std::string RenderFollowUpHistory(const halfsky::v1::FollowUp& f, const Names& names);
std::string RenderFollowUpJson(const halfsky::v1::FollowUp& f);
// --watch: one line per event ("时间  事件  级别  编号  说明"); JSON: the
// event on one line.
std::string RenderFollowUpEventLine(const halfsky::v1::FollowUpEvent& event, const Names& names,
                                    bool colour);
std::string RenderFollowUpEventJson(const halfsky::v1::FollowUpEvent& event);

// The report's 督办情况 section: the summary (saying what it covers) and a
// table with, per warning of the report that has a record: 级别 | 指标 |
// 责任单位 | 整改措施 | 整改时限 | 状态. Empty when the report carries no
// follow-up summary. `esc` escapes HTML text.
std::string ReportFollowUpsHtml(const halfsky::v1::EvaluationReport& report, const Names& names,
                                std::string (*esc)(absl::string_view));
std::string ReportFollowUpsMarkdown(const halfsky::v1::EvaluationReport& report,
                                    const Names& names);

}  // namespace halfsky::views

#endif  // HALFSKY_COMMON_VIEWS_FOLLOWUP_VIEW_H_
