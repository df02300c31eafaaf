#include "services/halfskyctl/views/labels.h"

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/evaluation/method/method.h"

namespace halfsky::views {

namespace v1 = ::halfsky::v1;

const char* KindLabelZh(v1::WarningKind kind) {
  switch (kind) {
    case v1::WARNING_KIND_PROGRESS:
      return "进度预警";
    case v1::WARNING_KIND_FLUCTUATION:
      return "波动较大";
    case v1::WARNING_KIND_LATE_DATA:
      return "数据迟报";
    case v1::WARNING_KIND_MISSED:
      return "未达标";
    case v1::WARNING_KIND_OUT_OF_BAND:
      return "超出目标区间";
    case v1::WARNING_KIND_RULE_BROKEN:
      return "年度要求未满足";
    case v1::WARNING_KIND_SLIPPED:
      return "达标后回落";
    case v1::WARNING_KIND_DATA_QUALITY:
      return "数据质量";
    default:
      return "";
  }
}

const char* KindToken(v1::WarningKind kind) {
  switch (kind) {
    case v1::WARNING_KIND_PROGRESS:
      return "progress";
    case v1::WARNING_KIND_FLUCTUATION:
      return "fluctuation";
    case v1::WARNING_KIND_LATE_DATA:
      return "late_data";
    case v1::WARNING_KIND_MISSED:
      return "missed";
    case v1::WARNING_KIND_OUT_OF_BAND:
      return "out_of_band";
    case v1::WARNING_KIND_RULE_BROKEN:
      return "rule_broken";
    case v1::WARNING_KIND_SLIPPED:
      return "slipped";
    case v1::WARNING_KIND_DATA_QUALITY:
      return "data_quality";
    default:
      return "";
  }
}

const char* SeverityLabelZh(v1::Severity severity) {
  return ::halfsky::evaluation::SeverityLabelZh(severity);
}

const char* SeverityShortZh(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_RED:
      return "红";
    case v1::SEVERITY_ORANGE:
      return "橙";
    case v1::SEVERITY_YELLOW:
      return "黄";
    default:
      return "";
  }
}

const char* SeverityToken(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_RED:
      return "red";
    case v1::SEVERITY_ORANGE:
      return "orange";
    case v1::SEVERITY_YELLOW:
      return "yellow";
    default:
      return "";
  }
}

const char* StateLabelZh(v1::WarningState state) {
  switch (state) {
    case v1::WARNING_STATE_FIRING:
      return "预警中";
    case v1::WARNING_STATE_RESOLVED:
      return "已解除";
    default:
      return "";
  }
}

const char* StateToken(v1::WarningState state) {
  switch (state) {
    case v1::WARNING_STATE_FIRING:
      return "firing";
    case v1::WARNING_STATE_RESOLVED:
      return "resolved";
    default:
      return "";
  }
}

const char* StatusLabelZh(v1::ProgressStatus status) {
  return ::halfsky::evaluation::StatusLabelZh(status);
}

const char* StatusToken(v1::ProgressStatus status) {
  switch (status) {
    case v1::PROGRESS_STATUS_ACHIEVED:
      return "achieved";
    case v1::PROGRESS_STATUS_ON_TRACK:
      return "on_track";
    case v1::PROGRESS_STATUS_NEEDS_ACCELERATION:
      return "needs_acceleration";
    case v1::PROGRESS_STATUS_AT_RISK:
      return "at_risk";
    case v1::PROGRESS_STATUS_MOVING_AWAY:
      return "moving_away";
    case v1::PROGRESS_STATUS_MISSED:
      return "missed";
    case v1::PROGRESS_STATUS_NOT_ASSESSABLE:
      return "not_assessable";
    case v1::PROGRESS_STATUS_DATA_INCOMPLETE:
      return "data_incomplete";
    default:
      return "";
  }
}

const char* StatusColour(v1::ProgressStatus status) {
  switch (status) {
    case v1::PROGRESS_STATUS_ACHIEVED:
      return "#1a7f37";
    case v1::PROGRESS_STATUS_ON_TRACK:
      return "#4ac26b";
    case v1::PROGRESS_STATUS_NEEDS_ACCELERATION:
      return "#d4a72c";
    case v1::PROGRESS_STATUS_AT_RISK:
      return "#e16f24";
    case v1::PROGRESS_STATUS_MOVING_AWAY:
      return "#cf222e";
    case v1::PROGRESS_STATUS_MISSED:
      return "#82071e";
    default:
      return "#8c959f";
  }
}

const char* SeverityColour(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_RED:
      return "#cf222e";
    case v1::SEVERITY_ORANGE:
      return "#e16f24";
    case v1::SEVERITY_YELLOW:
      return "#d4a72c";
    default:
      return "#8c959f";
  }
}

const char* ReportTitleZh(v1::ReportType type) {
  switch (type) {
    case v1::REPORT_TYPE_ANNUAL:
      return "年度监测评估报告";
    case v1::REPORT_TYPE_MIDTERM:
      return "中期评估报告";
    case v1::REPORT_TYPE_FINAL:
      return "终期评估报告";
    default:
      return "评估报告";
  }
}

const char* EventLabelZh(v1::WarningEventType type) {
  switch (type) {
    case v1::WARNING_EVENT_TYPE_CURRENT:
      return "当前";
    case v1::WARNING_EVENT_TYPE_SYNCED:
      return "已同步";
    case v1::WARNING_EVENT_TYPE_FIRED:
      return "新增";
    case v1::WARNING_EVENT_TYPE_UPDATED:
      return "更新";
    case v1::WARNING_EVENT_TYPE_RESOLVED:
      return "解除";
    case v1::WARNING_EVENT_TYPE_ACKNOWLEDGED:
      return "已确认";
    default:
      return "";
  }
}

const char* SexLabelZh(v1::Sex sex) {
  switch (sex) {
    case v1::SEX_FEMALE:
      return "女";
    case v1::SEX_MALE:
      return "男";
    default:
      return "合计";
  }
}

const char* ResidenceLabelZh(v1::Residence residence) {
  switch (residence) {
    case v1::RESIDENCE_URBAN:
      return "城镇";
    case v1::RESIDENCE_RURAL:
      return "农村";
    default:
      return "全部";
  }
}

const char* ReportingStateLabelZh(v1::ReportingState state) {
  switch (state) {
    case v1::REPORTING_STATE_ON_TIME:
      return "按时报送";
    case v1::REPORTING_STATE_LATE:
      return "迟报";
    case v1::REPORTING_STATE_MISSING:
      return "未报";
    case v1::REPORTING_STATE_NOT_DUE:
      return "未到期";
    default:
      return "";
  }
}

namespace {

template <typename Enum, int N>
std::optional<Enum> Lookup(absl::string_view text, const Enum (&values)[N],
                           const char* (*token)(Enum), const char* (*label)(Enum)) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (Enum v : values) {
    if (lower == token(v) || text == label(v)) {
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<v1::WarningKind> ParseKind(absl::string_view text) {
  static constexpr v1::WarningKind kAll[] = {
      v1::WARNING_KIND_PROGRESS, v1::WARNING_KIND_FLUCTUATION, v1::WARNING_KIND_LATE_DATA,
      v1::WARNING_KIND_MISSED,   v1::WARNING_KIND_OUT_OF_BAND, v1::WARNING_KIND_RULE_BROKEN,
      v1::WARNING_KIND_SLIPPED,  v1::WARNING_KIND_DATA_QUALITY};
  return Lookup(text, kAll, &KindToken, &KindLabelZh);
}

std::optional<v1::Severity> ParseSeverity(absl::string_view text) {
  static constexpr v1::Severity kAll[] = {v1::SEVERITY_YELLOW, v1::SEVERITY_ORANGE,
                                          v1::SEVERITY_RED};
  auto r = Lookup(text, kAll, &SeverityToken, &SeverityLabelZh);
  if (!r) {
    r = Lookup(text, kAll, &SeverityToken, &SeverityShortZh);
  }
  return r;
}

std::optional<v1::WarningState> ParseState(absl::string_view text) {
  static constexpr v1::WarningState kAll[] = {v1::WARNING_STATE_FIRING, v1::WARNING_STATE_RESOLVED};
  return Lookup(text, kAll, &StateToken, &StateLabelZh);
}

std::optional<v1::Sex> ParseSex(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "total" || text == "合计") {
    return v1::SEX_TOTAL;
  }
  if (lower == "female" || text == "女") {
    return v1::SEX_FEMALE;
  }
  if (lower == "male" || text == "男") {
    return v1::SEX_MALE;
  }
  return std::nullopt;
}

std::optional<v1::Residence> ParseResidence(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "all" || text == "全部") {
    return v1::RESIDENCE_ALL;
  }
  if (lower == "urban" || text == "城镇") {
    return v1::RESIDENCE_URBAN;
  }
  if (lower == "rural" || text == "农村") {
    return v1::RESIDENCE_RURAL;
  }
  return std::nullopt;
}

std::optional<v1::ReportType> ParseReportType(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "annual" || text == "年度") {
    return v1::REPORT_TYPE_ANNUAL;
  }
  if (lower == "midterm" || text == "中期") {
    return v1::REPORT_TYPE_MIDTERM;
  }
  if (lower == "final" || text == "终期") {
    return v1::REPORT_TYPE_FINAL;
  }
  return std::nullopt;
}

std::string FormatValue(double value, int decimals) {
  if (!std::isfinite(value)) {
    return "-";
  }
  std::string s = absl::StrFormat("%.*f", decimals, value);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') {
      s.pop_back();
    }
    if (!s.empty() && s.back() == '.') {
      s.pop_back();
    }
  }
  if (s == "-0") {
    s = "0";
  }
  return s;
}

std::string FormatRate(double fraction) {
  std::string s = absl::StrFormat("%+.1f%%", fraction * 100.0);
  if (s == "-0.0%" || s == "+0.0%") {
    s = "0.0%";
  }
  return s;
}

std::string TargetShortZh(const v1::Target& t, absl::string_view unit) {
  const std::string value = t.has_value() ? absl::StrCat(FormatValue(t.value(), 4), unit) : "";
  std::string s;
  switch (t.comparator()) {
    case v1::COMPARATOR_AT_LEAST:
      s = absl::StrCat("≥", value);
      break;
    case v1::COMPARATOR_AT_MOST:
      s = absl::StrCat("≤", value);
      break;
    case v1::COMPARATOR_BELOW:
      s = absl::StrCat("<", value);
      break;
    case v1::COMPARATOR_ABOUT:
      s = absl::StrCat(value, "±", FormatValue(t.tolerance() > 0 ? t.tolerance() : 2.0, 4));
      break;
    case v1::COMPARATOR_MAINTAIN_AT_LEAST:
      s = absl::StrCat("保持≥", value);
      break;
    case v1::COMPARATOR_MAINTAIN_AT_MOST:
      s = absl::StrCat("保持≤", value);
      break;
    case v1::COMPARATOR_INCREASE:
      s = value.empty() ? "逐步提高" : absl::StrCat("提高至", value);
      break;
    case v1::COMPARATOR_DECREASE:
      s = value.empty() ? "逐步降低" : absl::StrCat("降低至", value);
      break;
    case v1::COMPARATOR_DECREASE_EACH_YEAR:
      s = "逐年降低";
      break;
    case v1::COMPARATOR_NARROW_GAP:
      s = t.gap_dimension() == v1::GAP_DIMENSION_RESIDENCE ? "城乡差距缩小"
          : t.gap_dimension() == v1::GAP_DIMENSION_SEX     ? "性别差距缩小"
                                                           : "差距缩小";
      break;
    default:
      s = value;
      break;
  }
  if (t.sex() == v1::SEX_FEMALE || t.sex() == v1::SEX_MALE) {
    s = absl::StrCat(SexLabelZh(t.sex()), " ", s);
  }
  if (t.residence() == v1::RESIDENCE_URBAN || t.residence() == v1::RESIDENCE_RURAL) {
    s = absl::StrCat(ResidenceLabelZh(t.residence()), " ", s);
  }
  if (t.every_year()) {
    return absl::StrCat(s, " 每年");
  }
  if (t.year() != 0) {
    return absl::StrCat(s, " (", t.year(), ")");
  }
  return s;
}

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) {
    return "";
  }
  static const absl::TimeZone kDistrict = absl::FixedTimeZone(8 * 3600);
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(ts.seconds()), kDistrict);
}

bool IsUnitWarning(const v1::Warning& w) {
  return w.kind() == v1::WARNING_KIND_LATE_DATA && !w.unit_code().empty();
}

std::string WarningSubjectZh(const v1::Warning& w,
                             const std::map<std::string, std::string>& unit_names,
                             const std::map<std::string, std::string>& indicator_names,
                             int max_listed) {
  if (!IsUnitWarning(w)) {
    return w.indicator_name_zh().empty()
               ? w.indicator_id()
               : absl::StrCat(w.indicator_id(), " ", w.indicator_name_zh());
  }
  auto unit = unit_names.find(w.unit_code());
  std::string out = absl::StrCat(unit != unit_names.end() ? unit->second : w.unit_code(), " 未报",
                                 w.missing_indicator_ids_size(), "项");
  std::vector<std::string> items;
  for (const std::string& id : w.missing_indicator_ids()) {
    if (static_cast<int>(items.size()) >= max_listed) {
      break;
    }
    auto name = indicator_names.find(id);
    items.push_back(name != indicator_names.end() ? absl::StrCat(id, " ", name->second) : id);
  }
  if (!items.empty()) {
    absl::StrAppend(&out, "：", absl::StrJoin(items, "、"));
    if (w.missing_indicator_ids_size() > static_cast<int>(items.size())) {
      absl::StrAppend(&out, "等", w.missing_indicator_ids_size(), "项");
    }
  }
  return out;
}

std::string OverdueZh(const v1::Warning& w) {
  return IsUnitWarning(w) ? absl::StrCat("逾期", w.days_overdue(), "天") : std::string();
}

bool WarningBefore(const v1::Warning& a, const v1::Warning& b) {
  auto key = [](const v1::Warning& w) {
    const bool unit = IsUnitWarning(w);
    return std::make_tuple(-static_cast<int>(w.severity()), unit, w.indicator_id(), w.area_code(),
                           unit ? -w.days_overdue() : 0, w.unit_code(), unit ? w.data_year() : 0,
                           static_cast<int>(w.kind()), w.target_year(), w.id());
  };
  return key(a) < key(b);
}

}  // namespace halfsky::views
