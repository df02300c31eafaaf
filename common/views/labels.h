#ifndef HALFSKY_COMMON_VIEWS_LABELS_H_
#define HALFSKY_COMMON_VIEWS_LABELS_H_

// Words and numbers as halfskyctl prints them: labels and tokens of the
// contract's enums (read from the proto's enum value options through
// common/labels, so that every client says the same words), colours,
// flag-value parsing, number and time formatting. Pure functions,
// thread-safe. The strings returned live as long as the program.

#include <map>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/timestamp.pb.h"
#include "halfsky/v1/catalog.pb.h"
#include "halfsky/v1/common.pb.h"
#include "halfsky/v1/evaluation.pb.h"
#include "halfsky/v1/submission.pb.h"

namespace halfsky::views {

// 进度预警, 波动较大, 数据迟报, 未达标, 超出目标区间, 年度要求未满足,
// 达标后回落, 数据质量 ("" for UNSPECIFIED).
const char* KindLabelZh(halfsky::v1::WarningKind kind);
// The flag/CSV token: progress, fluctuation, late_data, missed, out_of_band,
// rule_broken, slipped, data_quality ("" for UNSPECIFIED).
const char* KindToken(halfsky::v1::WarningKind kind);
// 红色预警 / 橙色预警 / 黄色预警; SeverityShortZh: 红 / 橙 / 黄.
const char* SeverityLabelZh(halfsky::v1::Severity severity);
const char* SeverityShortZh(halfsky::v1::Severity severity);
// red / orange / yellow ("" for UNSPECIFIED).
const char* SeverityToken(halfsky::v1::Severity severity);
// 预警中 / 已解除; firing / resolved.
const char* StateLabelZh(halfsky::v1::WarningState state);
const char* StateToken(halfsky::v1::WarningState state);
// 已达标 … 数据不完整; achieved … data_incomplete ("" for UNSPECIFIED).
const char* StatusLabelZh(halfsky::v1::ProgressStatus status);
const char* StatusToken(halfsky::v1::ProgressStatus status);
// Colour of a status in charts and tables, "#rrggbb".
const char* StatusColour(halfsky::v1::ProgressStatus status);
const char* SeverityColour(halfsky::v1::Severity severity);
// 年度监测评估报告 / 中期评估报告 / 终期评估报告.
const char* ReportTitleZh(halfsky::v1::ReportType type);
// 新增 / 更新 / 解除 / 已确认 / 当前 for watch output.
const char* EventLabelZh(halfsky::v1::WarningEventType type);
// 合计/女/男; 全部/城镇/农村.
const char* SexLabelZh(halfsky::v1::Sex sex);
const char* ResidenceLabelZh(halfsky::v1::Residence residence);
// 按时报送 / 迟报 / 未报 / 未到期.
const char* ReportingStateLabelZh(halfsky::v1::ReportingState state);

// Flag values, case-insensitive, English token or Chinese label:
// std::nullopt when not recognised.
std::optional<halfsky::v1::WarningKind> ParseKind(absl::string_view text);
std::optional<halfsky::v1::Severity> ParseSeverity(absl::string_view text);
// firing / resolved / all (all = WARNING_STATE_UNSPECIFIED is not used by
// the server as "all"; the caller maps "all" itself, see warnings_cmd).
std::optional<halfsky::v1::WarningState> ParseState(absl::string_view text);
std::optional<halfsky::v1::Sex> ParseSex(absl::string_view text);
std::optional<halfsky::v1::Residence> ParseResidence(absl::string_view text);
std::optional<halfsky::v1::ReportType> ParseReportType(absl::string_view text);

// A figure: at most `decimals` decimals, trailing zeros dropped, "-0" as
// "0": 14.30 → "14.3", 95 → "95".
std::string FormatValue(double value, int decimals = 2);
// A yearly rate given as a fraction, signed, one decimal: −0.056 → "-5.6%".
std::string FormatRate(double fraction);
// The target in a few characters with its year, e.g. "≤10.15/10万 (2030)",
// "≥95% 每年", "45%±2 (2030)", "逐步提高 (2030)", "差距缩小 (2030)".
std::string TargetShortZh(const halfsky::v1::Target& target, absl::string_view unit);
// "2025-01-02 10:00" in the district's time (UTC+8); "" when unset.
std::string FormatTime(const google::protobuf::Timestamp& ts);

// True for a per-unit late-data warning (LATE_DATA with Warning.unit_code:
// one warning per member unit and data year, indicator_id empty).
bool IsUnitWarning(const halfsky::v1::Warning& w);
// What a warning is about, as the 指标 column prints it. An indicator's
// warning: "HEALTH-04 孕产妇死亡率". A per-unit late-data warning: the
// unit's Chinese name (from `unit_names`, else its code), how many
// indicators are overdue and the first `max_listed` of them with their
// names (from `indicator_names`, else the id alone), then 「等N项」 when
// more are missing: "区卫生健康局 未报3项：HEALTH-01 宫颈癌筛查率、
// HEALTH-02 乳腺癌筛查率等3项". Maps may be empty.
std::string WarningSubjectZh(const halfsky::v1::Warning& w,
                             const std::map<std::string, std::string>& unit_names,
                             const std::map<std::string, std::string>& indicator_names,
                             int max_listed = 3);
// "逾期200天" for a per-unit late-data warning, "" otherwise.
std::string OverdueZh(const halfsky::v1::Warning& w);
// Order of warnings in every view: red first, then orange, yellow; within a
// severity the indicators' warnings (by indicator id, area) before the
// member units' late-data warnings (most days overdue first, then unit
// code, data year); then kind, target year, id.
bool WarningBefore(const halfsky::v1::Warning& a, const halfsky::v1::Warning& b);

}  // namespace halfsky::views

#endif  // HALFSKY_COMMON_VIEWS_LABELS_H_
