#ifndef HALFSKY_COMMON_VIEWS_REVIEW_VIEW_H_
#define HALFSKY_COMMON_VIEWS_REVIEW_VIEW_H_

// The review workflow's views (halfskyctl validate, review, status'
// board): rule violations, forms, a form's history, watch events and the
// reporting board, as tables with Chinese headers or as JSON (the protos'
// proto3 JSON). Labels of enum values come from common/labels. Pure;
// thread-safe.

#include <string>

#include "common/views/warnings_view.h"
#include "halfsky/v1/review.pb.h"

namespace halfsky::views {

// One row per violation (重要性, 规则, 区域, 年份, 左值, 右值, 字段, 说明),
// then a summary line 「错误 N 条，提示 M 条，已检查 K 项」.
std::string RenderViolationsTable(const halfsky::v1::ValidateDataResponse& response,
                                  const Names& names, bool colour);

// One row per form (年份, 单位, 区域, 状态, 经办人, 时间, 原因/情况说明);
// "（无）" when there is none.
std::string RenderFormsTable(const halfsky::v1::ListFormsResponse& response, const Names& names,
                             bool colour);

// One form after a transition: 「HEALTH_BUREAU 区卫生健康局 610303 2024 已退回 原因：…」.
std::string RenderFormLine(const halfsky::v1::Form& form, const Names& names);

// Every transition, oldest first (时间, 操作, 原状态 → 新状态, 经办人,
// 原因/情况说明).
std::string RenderFormHistory(const halfsky::v1::GetFormHistoryResponse& response,
                              const Names& names);

// One line of `review list --watch`: 「[当前] …」, 「[已同步] …」,
// 「[变更] 退回 …」.
std::string RenderFormWatchLine(const halfsky::v1::FormWatchEvent& event, const Names& names,
                                bool colour);

// The board: one row per unit (单位, 应报, 已报, 报表状态, 截止日期, 逾期,
// 退回原因), then 「逾期 N 个单位」.
std::string RenderReviewBoard(const halfsky::v1::GetReviewBoardResponse& board, const Names& names,
                              bool colour);

}  // namespace halfsky::views

#endif  // HALFSKY_COMMON_VIEWS_REVIEW_VIEW_H_
